//! A database outage while the server runs: `/ready` turns 503 within one probe and back to
//! 200 once the database returns, without a restart; `/health` stays 200 throughout.

use std::net::ToSocketAddrs;

use serde_json::Value;
use stockpilot_db::testing::TestDatabase;

use crate::helpers::{FaultProxy, TestApp};

#[tokio::test]
async fn readiness_follows_a_postgres_outage_and_recovery() {
    let Some(db) = TestDatabase::postgres().await.unwrap() else {
        eprintln!("TEST_DATABASE_URL not set; the outage test needs PostgreSQL");
        return;
    };
    let mut through_proxy = url::Url::parse(&db.url).unwrap();
    let target = (
        through_proxy.host_str().unwrap(),
        through_proxy.port().unwrap_or(5432),
    )
        .to_socket_addrs()
        .unwrap()
        .next()
        .unwrap();
    let proxy = FaultProxy::start(target).await;
    through_proxy.set_host(Some("127.0.0.1")).unwrap();
    through_proxy.set_port(Some(proxy.addr.port())).unwrap();
    let app = TestApp::spawn_with_url(
        db,
        through_proxy.as_str(),
        &[("STOCKPILOT_DATABASE__ACQUIRE_TIMEOUT_SECS", "1")],
    )
    .await;

    assert_eq!(app.get("/ready").await.status(), 200);

    proxy.cut();
    let res = app.get("/ready").await;
    assert_eq!(
        res.status(),
        503,
        "the first probe after the outage reports it"
    );
    assert_eq!(res.headers()["retry-after"], "5");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "unready");
    assert_eq!(body["checks"][0]["name"], "database");
    assert_eq!(body["checks"][0]["status"], "down");
    assert_eq!(app.get("/api/v1/health").await.status(), 503);
    assert_eq!(
        app.get("/health").await.status(),
        200,
        "liveness never depends on the database"
    );

    proxy.restore();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let status = app.get("/ready").await.status().as_u16();
        statuses.push(status);
        if status == 200 {
            break;
        }
    }
    assert_eq!(
        statuses.last(),
        Some(&200),
        "recovered without a restart: {statuses:?}"
    );
    assert_eq!(app.get("/health").await.status(), 200);
    app.stop().await.unwrap();
}
