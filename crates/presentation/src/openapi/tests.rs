//! The API document against the route table, the error catalogue and the served routes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use actix_web::App;
use actix_web::http::{Method, StatusCode};
use actix_web::test as actix_test;
use serde_json::{Value, json};

use super::*;

/// Every route of `routes::configure`, as (method, path): the route table itself.
fn expected() -> Vec<(String, String)> {
    routes::table()
        .specs()
        .iter()
        .map(|s| (s.method.to_string(), s.path.to_owned()))
        .collect()
}

/// The routes anyone may call.
fn is_public(path: &str) -> bool {
    routes::table()
        .specs()
        .iter()
        .any(|s| s.path == path && s.access == routes::Access::Public)
}

/// The minimum role of a route, from the route table.
fn role_of(method: &str, path: &str) -> String {
    routes::table()
        .specs()
        .iter()
        .find(|s| s.method.as_str() == method && s.path == path)
        .and_then(|s| match s.access {
            routes::Access::Role(r) => Some(r.as_str().to_owned()),
            routes::Access::Public => None,
        })
        .unwrap_or_else(|| panic!("{method} {path} is not in the route table"))
}

fn doc() -> Value {
    serde_json::to_value(document()).unwrap()
}

/// Every operation as (METHOD, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            all.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    all
}

#[test]
fn is_openapi_3_1() {
    let doc = doc();
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1"), "{version}");
    assert_eq!(doc["info"]["title"], "stockpilot API");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn documents_every_route_and_nothing_else() {
    let doc = doc();
    for (method, path) in expected() {
        assert!(
            doc["paths"][&path][method.to_lowercase()].is_object(),
            "{method} {path} is not documented"
        );
    }
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    let expected: BTreeSet<(String, String)> = expected().into_iter().collect();
    assert_eq!(documented, expected);
}

/// The route table is what `routes::configure` serves: each pair is routed (the handler runs and
/// fails for want of state, rather than 404 or 405), and a method it does not list is 405.
#[actix_web::test]
async fn expected_routes_are_the_registered_ones() {
    let app = actix_test::init_service(App::new().configure(routes::configure)).await;
    let concrete = |path: &str| {
        path.replace("{symbol}", "AAPL")
            .replace("{exchange}", "SSE")
            .replace("{id}", "x")
            .replace("{name}", "x")
    };
    for (method, path) in expected() {
        let req = actix_test::TestRequest::default()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(&concrete(&path))
            .to_request();
        let status = actix_test::call_service(&app, req).await.status();
        assert!(
            status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} → {status}"
        );
    }
    let req = actix_test::TestRequest::put()
        .uri("/api/v1/instruments")
        .to_request();
    assert_eq!(
        actix_test::call_service(&app, req).await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[test]
fn protected_routes_need_a_key_and_state_their_minimum_role() {
    let doc = doc();
    let either = json!([{"bearer": []}, {"api_key": []}]);
    for (method, path, op) in operations(&doc) {
        let description = op["description"].as_str().unwrap_or_default();
        if is_public(&path) {
            assert!(
                op.get("security").is_none_or(|s| s == &json!([])),
                "{method} {path} is public"
            );
            assert!(description.contains("Public"), "{method} {path}");
            continue;
        }
        assert_eq!(op["security"], either, "{method} {path}");
        let role = role_of(&method, &path);
        assert!(
            description.contains(&format!("Minimum role: `{role}`.")),
            "{method} {path} must state its minimum role {role}: {description}"
        );
        for status in ["401", "403", "429", "500", "503"] {
            assert!(
                op["responses"][status].is_object(),
                "{method} {path} lacks {status}"
            );
        }
    }
}

#[test]
fn security_schemes_are_bearer_and_the_api_key_header() {
    let doc = doc();
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert!(
        schemes["bearer"]["description"]
            .as_str()
            .unwrap()
            .contains("sp_live_")
    );
    assert_eq!(schemes["api_key"]["type"], "apiKey");
    assert_eq!(schemes["api_key"]["in"], "header");
    assert_eq!(schemes["api_key"]["name"], "X-API-Key");
}

#[test]
fn every_operation_has_a_success_response_with_content() {
    let doc = doc();
    for (method, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().unwrap();
        let with_content = responses.iter().any(|(status, r)| {
            status.starts_with('2')
                && r["content"]
                    .as_object()
                    .is_some_and(|c| c.values().all(|m| m["schema"].is_object()))
        });
        // Deleting a provider answers 204 No Content: no body, by definition.
        if method == "DELETE" && responses.contains_key("204") {
            assert!(responses["204"].get("content").is_none(), "{path}");
            continue;
        }
        assert!(with_content, "{method} {path} has no 2xx with content");
    }
}

#[test]
fn operation_ids_are_unique_snake_case() {
    let doc = doc();
    let ids: Vec<String> = operations(&doc)
        .iter()
        .map(|(m, p, op)| {
            op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{m} {p} has no operationId"))
                .to_owned()
        })
        .collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    for id in &ids {
        assert!(
            id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{id}"
        );
    }
}

#[test]
fn errors_use_the_error_body() {
    let doc = doc();
    let error_body = json!({"$ref": "#/components/schemas/ErrorBody"});
    for (method, path, op) in operations(&doc) {
        for (status, response) in op["responses"].as_object().unwrap() {
            if status.starts_with('2') {
                continue;
            }
            let schema = &response["content"]["application/json"]["schema"];
            // The probes' 503 is the unready report or the error body.
            let expected = if is_public(&path) && status == "503" {
                json!({"$ref": "#/components/schemas/ReadinessFailure"})
            } else {
                error_body.clone()
            };
            assert_eq!(schema, &expected, "{method} {path} {status}");
        }
    }
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        doc["components"]["schemas"]["ErrorCode"]["enum"],
        json!(codes)
    );
    let detail = &doc["components"]["schemas"]["ErrorDetail"];
    assert_eq!(detail["required"], json!(["code", "message", "details"]));
    assert_eq!(
        doc["components"]["schemas"]["FieldProblem"]["required"],
        json!(["field", "message"])
    );
}

/// Responses may grow fields; clients must not be told otherwise.
#[test]
fn response_schemas_allow_more_properties() {
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.trim_start_matches("#/components/schemas/").to_owned());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let doc = doc();
    let schemas = &doc["components"]["schemas"];
    let mut pending = Vec::new();
    for (_, _, op) in operations(&doc) {
        refs(&op["responses"], &mut pending);
    }
    let mut seen = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if seen.insert(name.clone()) {
            let schema = &schemas[&name];
            assert_ne!(schema["additionalProperties"], json!(false), "{name}");
            refs(schema, &mut pending);
        }
    }
    assert!(seen.contains("RunView") && seen.contains("ErrorBody"));
}

#[test]
fn every_reference_resolves() {
    fn walk(v: &Value, schemas: &Value, missing: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    let name = r.trim_start_matches("#/components/schemas/");
                    if schemas.get(name).is_none() {
                        missing.push(r.clone());
                    }
                }
                map.values().for_each(|v| walk(v, schemas, missing));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, schemas, missing)),
            _ => {}
        }
    }
    let doc = doc();
    let mut missing = Vec::new();
    walk(&doc, &doc["components"]["schemas"], &mut missing);
    assert!(missing.is_empty(), "{missing:?}");
}

#[test]
fn symbol_parameters_follow_the_symbol_rule() {
    let doc = doc();
    assert_eq!(
        doc["components"]["schemas"]["Symbol"]["pattern"],
        stockpilot_domain::market::SYMBOL_PATTERN
    );
    let mut seen = 0;
    for (method, path, op) in operations(&doc) {
        for param in op["parameters"].as_array().into_iter().flatten() {
            if param["name"] == "symbol" {
                seen += 1;
                let schema = &param["schema"];
                assert!(
                    schema["pattern"] == stockpilot_domain::market::SYMBOL_PATTERN
                        || schema["$ref"] == "#/components/schemas/Symbol",
                    "{method} {path}: {schema}"
                );
            }
        }
    }
    assert_eq!(seen, 6);
}

/// The bodies once built with `json!` serialise to exactly the same JSON as before.
#[test]
fn typed_bodies_match_their_former_json() {
    use stockpilot_application::ports::{SearchResult, UsageGroup, UsageSummary};

    let results = vec![SearchResult {
        title: "贵州茅台年报".into(),
        url: "https://example.com/a".into(),
        snippet: "…".into(),
        summary: None,
        site_name: Some("example".into()),
        published_at: None,
    }];
    let typed = serde_json::to_value(routes::llm::search::Found {
        query: "茅台".into(),
        count: results.len(),
        results: results.clone(),
    })
    .unwrap();
    let before = json!({ "query": "茅台", "count": results.len(), "results": results });
    assert_eq!(typed, before);
    assert_eq!(
        typed["results"][0],
        json!({"title": "贵州茅台年报", "url": "https://example.com/a", "snippet": "…",
               "summary": null, "site_name": "example", "published_at": null})
    );

    let from = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let to = chrono::NaiveDate::from_ymd_opt(2025, 1, 31).unwrap();
    let rows = vec![UsageSummary {
        key: "local".into(),
        calls: 3,
        errors: 1,
        prompt_tokens: 40,
        completion_tokens: 9,
        cost_usd: 0.5,
    }];
    let typed = serde_json::to_value(routes::llm::usage::Report {
        from,
        to,
        group_by: UsageGroup::Provider,
        total: routes::llm::usage::Totals {
            calls: 3,
            prompt_tokens: 40,
            completion_tokens: 9,
            cost_usd: 0.5,
        },
        groups: rows.clone(),
    })
    .unwrap();
    let before = json!({
        "from": from, "to": to, "group_by": UsageGroup::Provider,
        "total": {"calls": 3u64, "prompt_tokens": 40u64, "completion_tokens": 9u64, "cost_usd": 0.5f64},
        "groups": rows,
    });
    assert_eq!(typed, before);
    assert_eq!(
        typed,
        json!({
            "from": "2025-01-01", "to": "2025-01-31", "group_by": "provider",
            "total": {"calls": 3, "prompt_tokens": 40, "completion_tokens": 9, "cost_usd": 0.5},
            "groups": [{"key": "local", "calls": 3, "errors": 1, "prompt_tokens": 40,
                        "completion_tokens": 9, "cost_usd": 0.5}],
        })
    );

    let catalogue = vec![stockpilot_application::research::AnalystInfo {
        name: "technical",
        kind: stockpilot_application::research::analysts::AnalystKind::Quantitative,
        description: "trend",
        default: true,
    }];
    assert_eq!(
        serde_json::to_value(routes::research::analysts::Catalogue {
            analysts: catalogue.clone(),
        })
        .unwrap(),
        json!({ "analysts": catalogue })
    );

    let items: Vec<stockpilot_application::llm::ProviderView> = Vec::new();
    assert_eq!(
        serde_json::to_value(routes::llm::providers::ProviderList {
            items: items.clone()
        })
        .unwrap(),
        json!({ "items": items })
    );

    let symbols = vec![stockpilot_domain::market::Symbol::parse("AAPL").unwrap()];
    let status = stockpilot_application::research::model::RunStatus::Queued;
    const RUN: &str = "0194f0a0-0000-7000-8000-000000000001";
    let typed = serde_json::to_value(routes::research::create::Created {
        id: RUN.parse().unwrap(),
        status,
        as_of: from,
        symbols: symbols.clone(),
        analysts: vec!["technical".into()],
        url: "/api/v1/research/runs/r1".into(),
        events_url: "/api/v1/research/runs/r1/events".into(),
    })
    .unwrap();
    assert_eq!(
        typed,
        json!({
            "id": RUN, "status": status, "as_of": from, "symbols": symbols,
            "analysts": ["technical"], "url": "/api/v1/research/runs/r1",
            "events_url": "/api/v1/research/runs/r1/events",
        })
    );
}

#[actix_web::test]
async fn serves_the_document_as_json() {
    let res = openapi_json().await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers().get("content-type").unwrap(),
        "application/json"
    );
    let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
    let served: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(served, doc());
}

#[actix_web::test]
async fn swagger_ui_reads_the_served_document_and_registers_no_route_for_it() {
    let app = actix_test::init_service(App::new().service(swagger_ui())).await;
    let res = actix_test::call_service(
        &app,
        actix_test::TestRequest::get().uri("/docs/").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let res = actix_test::call_service(
        &app,
        actix_test::TestRequest::get()
            .uri("/docs/swagger-initializer.js")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let script = actix_test::read_body(res).await;
    assert!(
        String::from_utf8_lossy(&script).contains(OPENAPI_JSON_PATH),
        "{}",
        String::from_utf8_lossy(&script)
    );
    let res = actix_test::call_service(
        &app,
        actix_test::TestRequest::get()
            .uri(OPENAPI_JSON_PATH)
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[test]
#[ignore = "writes the document to /tmp for inspection"]
fn dump() {
    std::fs::write(
        "/tmp/stockpilot-openapi.json",
        serde_json::to_string_pretty(document()).unwrap(),
    )
    .unwrap();
}

#[test]
fn audit_outcomes_are_a_listed_set_in_the_filter_and_the_entries() {
    let doc = doc();
    let schemas = &doc["components"]["schemas"];
    let codes = |schema: &Value| -> Value {
        let name = schema["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("not a reference: {schema}"))
            .trim_start_matches("#/components/schemas/");
        schemas[name]["enum"].clone()
    };
    let expected = json!(["succeeded", "denied", "failed"]);
    let params = doc["paths"]["/api/v1/admin/audit-log"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let outcome = params.iter().find(|p| p["name"] == "outcome").unwrap();
    assert_eq!(outcome["in"], "query");
    assert_eq!(codes(&outcome["schema"]), expected);
    assert_eq!(
        codes(&schemas["AuditEntry"]["properties"]["outcome"]),
        expected
    );
}
