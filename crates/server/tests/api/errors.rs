use serde_json::Value;

use crate::helpers::TestApp;

async fn error_body(res: reqwest::Response) -> (u16, String, Value) {
    let status = res.status().as_u16();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(res.headers()["content-type"], "application/json");
    (status, id, res.json().await.unwrap())
}

#[tokio::test]
async fn unknown_routes_get_404_with_the_standard_body() {
    let app = TestApp::spawn().await;
    let (status, id, body) = error_body(app.get("/api/v1/nothing-here").await).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    assert_eq!(
        body["error"]["message"],
        "no route for GET /api/v1/nothing-here"
    );
    assert_eq!(body["error"]["request_id"], id.as_str());
    assert_eq!(body["error"]["details"], serde_json::json!([]));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn wrong_methods_get_405_with_the_standard_body() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .delete(format!("{}/health", app.address))
        .send()
        .await
        .unwrap();
    let (status, id, body) = error_body(res).await;
    assert_eq!(status, 405);
    assert_eq!(body["error"]["code"], "method_not_allowed");
    assert_eq!(body["error"]["request_id"], id.as_str());
    app.stop().await.unwrap();
}
