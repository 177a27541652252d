//! API keys and roles over HTTP: 401 without or with a bad or revoked key, 403 below the
//! route's role, every route's rule, the key API, the audit log, trusted hosts and CORS.

use reqwest::Method;
use serde_json::{Value, json};
use stockpilot_application::auth::Role;
use stockpilot_db::testing::TestDatabase;
use stockpilot_presentation::routes::{Access, table};

use crate::helpers::{TestApp, client_with_key};

async fn key(app: &TestApp, role: Role) -> String {
    app.auth
        .create(&format!("{role}-key"), role, "tests")
        .await
        .unwrap()
        .token
}

/// A request path for a route pattern, with placeholder values for its parameters.
fn concrete(pattern: &str) -> String {
    pattern
        .replace("{symbol}", "AAPL")
        .replace("{exchange}", "SSE")
        .replace("{name}", "no-such-provider")
        .replace("{id}", "0194f0a0-0000-7000-8000-000000000000")
}

/// The route's method as the HTTP client spells it.
fn method(m: &actix_web::http::Method) -> Method {
    Method::from_bytes(m.as_str().as_bytes()).unwrap()
}

async fn send(
    client: &reqwest::Client,
    app: &TestApp,
    method: &Method,
    path: &str,
) -> reqwest::Response {
    let mut req = client.request(method.clone(), format!("{}{path}", app.address));
    if matches!(*method, Method::POST | Method::PATCH) {
        req = req.json(&json!({}));
    }
    req.send().await.unwrap()
}

async fn error_code(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn missing_bad_and_revoked_keys_get_401_and_low_roles_403() {
    let app = TestApp::spawn_on(TestDatabase::sqlite().unwrap(), &[]).await;
    let url = format!("{}/api/v1/instruments", app.address);
    let anonymous = reqwest::Client::new();

    let res = anonymous.get(&url).send().await.unwrap();
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"stockpilot\""
    );
    let (status, code) = error_code(res).await;
    assert_eq!((status, code.as_str()), (401, "unauthorized"));

    let mut wrong = app.token.clone();
    wrong.replace_range(20..24, "0000");
    for bad in [wrong.as_str(), "sp_live_short", "not-a-key"] {
        let (status, _) = error_code(client_with_key(bad).get(&url).send().await.unwrap()).await;
        assert_eq!(status, 401, "{bad}");
    }

    // A reader reads, through either header, and may not start research.
    let reader = key(&app, Role::Reader).await;
    assert_eq!(
        client_with_key(&reader)
            .get(&url)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = anonymous
        .get(&url)
        .header("X-API-Key", &reader)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = client_with_key(&reader)
        .post(format!("{}/api/v1/research/runs", app.address))
        .json(&json!({"symbols": ["AAPL"]}))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'analyst' role"),
        "{body}"
    );

    // Revoked over the API: refused from then on.
    let id = app
        .auth
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.role == Role::Reader)
        .unwrap()
        .id;
    let res = app
        .client
        .delete(format!("{}/api/v1/admin/api-keys/{id}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let revoked: Value = res.json().await.unwrap();
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    let (status, _) = error_code(client_with_key(&reader).get(&url).send().await.unwrap()).await;
    assert_eq!(status, 401);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn every_route_refuses_anonymous_callers_and_roles_below_its_own() {
    let app = TestApp::spawn_on(TestDatabase::sqlite().unwrap(), &[]).await;
    let anonymous = reqwest::Client::new();
    let mut keys = std::collections::HashMap::new();
    for &role in Role::ALL {
        keys.insert(role, client_with_key(&key(&app, role).await));
    }
    let specs = table().specs();
    assert!(specs.len() >= 35, "{}", specs.len());
    for spec in specs {
        let path = concrete(spec.path);
        let (status, code) =
            error_code(send(&anonymous, &app, &method(&spec.method), &path).await).await;
        match spec.access {
            Access::Public => {
                assert!(
                    ![401, 403].contains(&status),
                    "{} {path}: {status}",
                    spec.method
                );
            }
            Access::Role(needed) => {
                assert_eq!(
                    (status, code.as_str()),
                    (401, "unauthorized"),
                    "{} {path}",
                    spec.method
                );
                for &role in Role::ALL {
                    let (status, code) =
                        error_code(send(&keys[&role], &app, &method(&spec.method), &path).await)
                            .await;
                    if role.allows(needed) {
                        assert!(
                            ![401, 403].contains(&status) && status < 500,
                            "{} {path} as {role}: {status} {code}",
                            spec.method
                        );
                    } else {
                        assert_eq!(
                            (status, code.as_str()),
                            (403, "forbidden"),
                            "{} {path} as {role}",
                            spec.method
                        );
                    }
                }
            }
        }
    }
    // Metrics on the main port are public by default.
    assert_eq!(
        anonymous
            .get(format!("{}/metrics", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.stop().await.unwrap();

    let app = TestApp::spawn_on(
        TestDatabase::sqlite().unwrap(),
        &[("STOCKPILOT_METRICS__PUBLIC", "false")],
    )
    .await;
    let metrics = format!("{}/metrics", app.address);
    assert_eq!(anonymous.get(&metrics).send().await.unwrap().status(), 401);
    let reader = client_with_key(&key(&app, Role::Reader).await);
    assert_eq!(reader.get(&metrics).send().await.unwrap().status(), 403);
    let operator = client_with_key(&key(&app, Role::Operator).await);
    assert_eq!(operator.get(&metrics).send().await.unwrap().status(), 200);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_key_api_shows_a_token_once_and_tracks_use() {
    let app = TestApp::spawn_on(TestDatabase::sqlite().unwrap(), &[]).await;
    let (status, headers, created) = app
        .post_json(
            "/api/v1/admin/api-keys",
            &json!({"name": "research desk", "role": "analyst"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(headers["cache-control"], "no-store");
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        headers["location"],
        format!("/api/v1/admin/api-keys/{id}").as_str()
    );
    let token = created["token"].as_str().unwrap();
    assert!(token.starts_with("sp_live_") && token.len() == 72);
    assert_eq!(created["prefix"], &token[..16]);
    assert_eq!(created["role"], "analyst");
    assert_eq!(created["created_by"], "tests");
    assert!(created["last_used_at"].is_null());

    let res = client_with_key(token)
        .get(format!("{}/api/v1/research/analysts", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, list) = app.get_json("/api/v1/admin/api-keys").await;
    assert_eq!(status, 200);
    assert!(
        !list.to_string().contains(token),
        "a listed key shows no token"
    );
    let listed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .unwrap();
    assert!(listed.get("token").is_none() && listed.get("token_hash").is_none());
    assert!(listed["last_used_at"].is_string(), "{listed}");

    for (body, field) in [
        (json!({"name": "x", "role": "root"}), "role"),
        (json!({"name": "", "role": "reader"}), "name"),
        (json!({"name": "a/b", "role": "reader"}), "name"),
    ] {
        let (status, _, err) = app.post_json("/api/v1/admin/api-keys", &body).await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["error"]["details"][0]["field"], field, "{err}");
    }
    let (status, _, err) = app
        .post_json(
            "/api/v1/admin/api-keys",
            &json!({"name": "x", "role": "reader", "scope": "all"}),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    let res = app
        .client
        .delete(format!(
            "{}/api/v1/admin/api-keys/0194f0a0-0000-7000-8000-000000000000",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (404, "not_found".to_owned()));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn state_changing_requests_are_audited_with_who_what_where_and_outcome() {
    let app = TestApp::spawn_on(TestDatabase::sqlite().unwrap(), WITH_DEMO).await;
    let analyst = key(&app, Role::Analyst).await;
    let reader = key(&app, Role::Reader).await;
    let res = client_with_key(&analyst)
        .post(format!("{}/api/v1/research/runs", app.address))
        .header("X-Request-Id", "audit-me-1")
        .json(&json!({"symbols": ["AAPL"], "analysts": ["technical"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let run: Value = res.json().await.unwrap();
    let res = client_with_key(&reader)
        .post(format!("{}/api/v1/research/runs", app.address))
        .json(&json!({"symbols": ["AAPL"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Reads are not audited.
    app.get("/api/v1/instruments").await;

    let (status, log) = app
        .get_json("/api/v1/admin/audit-log?action=research.run.create")
        .await;
    assert_eq!(status, 200, "{log}");
    assert_eq!(log["total"], 2, "{log}");
    let items = log["items"].as_array().unwrap();
    // Newest first: the refused attempt, then the run.
    assert_eq!(items[0]["outcome"], "denied");
    assert_eq!(items[0]["status"], 403);
    assert_eq!(items[0]["role"], "reader");
    let done = &items[1];
    assert_eq!(done["outcome"], "succeeded");
    assert_eq!(done["status"], 202);
    assert_eq!(done["key_name"], "analyst-key");
    assert_eq!(done["role"], "analyst");
    assert_eq!(done["client_ip"], "127.0.0.1");
    assert_eq!(done["request_id"], "audit-me-1");
    assert_eq!(
        done["target"],
        format!("/api/v1/research/runs/{}", run["id"].as_str().unwrap()).as_str()
    );
    let key_id = done["key_id"].as_str().unwrap();

    let (_, denied) = app.get_json("/api/v1/admin/audit-log?outcome=denied").await;
    assert_eq!(denied["total"], 1, "{denied}");
    let (_, by_key) = app
        .get_json(&format!("/api/v1/admin/audit-log?key_id={key_id}"))
        .await;
    assert_eq!(by_key["total"], 1, "{by_key}");
    let (_, reads) = app
        .get_json("/api/v1/admin/audit-log?action=instruments.list")
        .await;
    assert_eq!(reads["total"], 0);
    let (_, later) = app
        .get_json("/api/v1/admin/audit-log?since=2100-01-01")
        .await;
    assert_eq!(later["total"], 0);
    for (query, field) in [
        ("outcome=maybe", "outcome"),
        ("since=yesterday", "since"),
        ("since=2026-02-01&until=2026-01-01", "until"),
        ("page_size=100000", "page_size"),
    ] {
        let (status, err) = app
            .get_json(&format!("/api/v1/admin/audit-log?{query}"))
            .await;
        assert_eq!(status, 422, "{query}: {err}");
        assert_eq!(err["error"]["details"][0]["field"], field, "{err}");
    }
    app.stop().await.unwrap();
}

const WITH_DEMO: &[(&str, &str)] = crate::helpers::WITH_DEMO;

#[tokio::test]
async fn with_auth_disabled_everyone_is_served_as_admin() {
    let app = TestApp::spawn_on(
        TestDatabase::sqlite().unwrap(),
        &[("STOCKPILOT_AUTH__ENABLED", "false")],
    )
    .await;
    let anonymous = reqwest::Client::new();
    for path in ["/api/v1/instruments", "/api/v1/admin/api-keys"] {
        let res = anonymous
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn hosts_outside_the_trusted_list_are_refused_but_probes_answer() {
    let app = TestApp::spawn_on(
        TestDatabase::sqlite().unwrap(),
        &[(
            "STOCKPILOT_SERVER__ALLOWED_HOSTS",
            "api.example.com, 127.0.0.1",
        )],
    )
    .await;
    let url = format!("{}/api/v1/instruments", app.address);
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 200);
    let res = app
        .client
        .get(&url)
        .header("Host", "api.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .get(&url)
        .header("Host", "evil.example.net")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (400, "host_not_allowed".to_owned()));
    // A forwarded host is not the host.
    let res = app
        .client
        .get(&url)
        .header("Host", "evil.example.net")
        .header("X-Forwarded-Host", "api.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = app
        .client
        .get(format!("{}/health", app.address))
        .header("Host", "10.1.2.3:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn cors_answers_listed_origins_only_and_never_allows_credentials() {
    let app = TestApp::spawn_on(
        TestDatabase::sqlite().unwrap(),
        &[(
            "STOCKPILOT_SERVER__CORS_ALLOWED_ORIGINS",
            "https://app.example.com",
        )],
    )
    .await;
    let url = format!("{}/api/v1/instruments", app.address);
    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(Method::OPTIONS, &url)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", "authorization")
            .send()
    };
    let ok = preflight("https://app.example.com").await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert!(
        ok.headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    let refused = preflight("https://evil.example.net").await.unwrap();
    assert!(refused.status().is_client_error(), "{}", refused.status());
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let res = app
        .client
        .get(&url)
        .header("Origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert!(
        res.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("x-request-id")
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_first_start_writes_an_admin_key_only_the_owner_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn_on(TestDatabase::sqlite().unwrap(), &[]).await;
    let file = app.data_dir.path().join("admin-api-key");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let token = std::fs::read_to_string(&file).unwrap();
    let res = client_with_key(token.trim())
        .get(format!("{}/api/v1/admin/api-keys", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let list: Value = res.json().await.unwrap();
    let boot: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["created_by"] == "bootstrap")
        .collect();
    assert_eq!(boot.len(), 1, "{list}");
    assert_eq!(boot[0]["role"], "admin");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_api_document_and_docs_ui_are_public_and_the_ui_has_its_own_csp() {
    let app = TestApp::spawn_on(TestDatabase::sqlite().unwrap(), &[]).await;
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = anonymous
        .get(format!("{}/api/v1/openapi.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for spec in table().specs() {
        let method = spec.method.as_str().to_lowercase();
        assert!(
            doc["paths"][spec.path][&method].is_object(),
            "{} {}",
            spec.method,
            spec.path
        );
    }
    let res = anonymous
        .get(format!("{}/docs", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], "/docs/");
    let res = anonymous
        .get(format!("{}/docs/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(res.text().await.unwrap().contains("swagger-initializer.js"));
    let res = anonymous
        .get(format!("{}/docs/swagger-initializer.js", app.address))
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("/api/v1/openapi.json"));
    // The API itself keeps the closed policy.
    let res = anonymous
        .get(format!("{}/health", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_key_revoked_with_the_cli_is_refused_by_a_running_server_within_a_second_or_so() {
    // A key cache far longer than the test: only the revocation check can end it.
    let app = TestApp::spawn_on(
        TestDatabase::sqlite().unwrap(),
        &[("STOCKPILOT_AUTH__KEY_CACHE_TTL_SECS", "300")],
    )
    .await;
    let created = app
        .auth
        .create("desk", Role::Reader, "tests")
        .await
        .unwrap();
    let desk = client_with_key(&created.token);
    let url = format!("{}/api/v1/instruments", app.address);
    assert_eq!(desk.get(&url).send().await.unwrap().status(), 200);

    crate::helpers::cli(
        &app._db.url,
        &["apikey", "revoke", &created.key.id.to_string()],
    )
    .await;
    let revoked_at = std::time::Instant::now();
    let mut status = 200;
    // Bounded: 100 polls; the server checks for revocations every second.
    for _ in 0..100 {
        status = desk.get(&url).send().await.unwrap().status().as_u16();
        if status == 401 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        status,
        401,
        "still accepted after {:?}",
        revoked_at.elapsed()
    );
    app.stop().await.unwrap();
}
