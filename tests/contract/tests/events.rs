//! The sample events in `events/` (for `cargo lambda invoke --data-file`) are real-shaped: each HTTP
//! one parses as API Gateway hands it to Lambda and gets a documented answer from its function.

use devkit::{repo_root, testing::TestApp};

fn router_of(function: &str) -> fn(kitchen::AppState) -> axum::Router {
    match function {
        "auth" => auth::router,
        "dishes" => dishes::router,
        "orders" => orders::router,
        "payments" => payments::router,
        "admin" => admin::router,
        "paystack-webhook" => paystack_webhook::router,
        other => panic!("no HTTP router for {other}"),
    }
}

#[tokio::test]
async fn every_http_sample_event_reaches_its_route_and_gets_a_documented_answer() {
    // The webhook sample is signed with the local stack's Paystack secret.
    let base = TestApp::builder()
        .env("PAYSTACK_SECRET_KEY", "sk_test_local_secret")
        .spawn(dishes::router)
        .await;
    let mut seen = 0;
    for folder in std::fs::read_dir(repo_root().join("events")).unwrap() {
        let folder = folder.unwrap().path();
        let function = folder.file_name().unwrap().to_string_lossy().to_string();
        if function == "notifier" {
            continue; // an SNS event, covered by the notifier's own tests
        }
        let app = base.with_router(router_of(&function));
        for file in std::fs::read_dir(&folder).unwrap() {
            let path = file.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let event: lambda_http::request::LambdaRequest = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not an API Gateway event: {e}", path.display()));
            let request: http::Request<lambda_http::Body> = event.into();
            let request = request.map(|body| axum::body::Body::from(body.to_vec()));
            let described = format!(
                "{} ({} {})",
                path.display(),
                request.method(),
                request.uri().path()
            );
            // `send` also checks the answer against openapi.json.
            let response = app.send(request).await;
            assert!(
                response.status.as_u16() < 500,
                "{described}: {}",
                response.text
            );
            assert!(
                !(response.status == 404 && response.json["detail"] == "no such route"),
                "{described} matched no route"
            );
            seen += 1;
        }
    }
    assert!(seen >= 9, "only {seen} sample events found");
}
