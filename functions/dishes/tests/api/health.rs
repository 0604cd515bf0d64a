//! The health check, against DynamoDB Local.

use devkit::testing::TestApp;
use std::time::{Duration, Instant};

#[tokio::test]
async fn health_is_ok_when_the_table_answers() {
    let app = TestApp::spawn(dishes::FUNCTION).await;
    let response = app.get("/health", None).await;
    response.assert_status(200);
    assert_eq!(response.json, serde_json::json!({"status": "ok"}));
}

#[tokio::test]
async fn health_is_503_with_retry_after_when_the_table_is_missing() {
    let app = TestApp::spawn(dishes::FUNCTION).await;
    let table = app.state.config.table_name.clone();
    app.db()
        .client()
        .delete_table()
        .table_name(table)
        .send()
        .await
        .unwrap();
    let response = app.get("/health", None).await;
    response.assert_problem(503);
    assert_eq!(response.headers["retry-after"], "2");
}

#[tokio::test]
async fn health_fails_fast_with_503_when_dynamodb_is_down() {
    let app = TestApp::builder()
        .unreachable_table()
        .spawn(dishes::FUNCTION)
        .await;
    let started = Instant::now();
    let response = app.get("/health", None).await;
    response.assert_problem(503);
    assert!(
        !response.text.contains("127.0.0.1"),
        "no internals in the body: {}",
        response.text
    );
    // Bounded by the SDK's operation timeout, far below any function timeout.
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn unknown_routes_answer_404_problems() {
    let app = TestApp::spawn(dishes::FUNCTION).await;
    app.get("/nothing-here", None).await.assert_problem(404);
}
