//! The sample events in `events/` (for `cargo lambda invoke --data-file`) are real-shaped: each HTTP
//! one parses as API Gateway hands it to Lambda and gets a documented answer from its function.

use contract_tests::function_named;
use devkit::{repo_root, testing::TestApp};

#[tokio::test]
async fn every_http_sample_event_reaches_its_route_and_gets_a_documented_answer() {
    // The webhook sample is signed with the local stack's Paystack secret.
    let base = TestApp::builder()
        .paystack_secret("sk_test_local_secret")
        .spawn(dishes::FUNCTION)
        .await;
    let scheduled: Vec<_> = devkit::stack::Template::from_repo()
        .unwrap()
        .schedules()
        .unwrap()
        .iter()
        .map(|schedule| schedule.sample_path())
        .collect();
    let mut seen = 0;
    for folder in std::fs::read_dir(repo_root().join("events")).unwrap() {
        let folder = folder.unwrap().path();
        let function = folder.file_name().unwrap().to_string_lossy().to_string();
        if function == "notifier" {
            continue; // an SNS event, covered by the notifier's own tests
        }
        let app = base.with_function(function_named(&function)).await;
        for file in std::fs::read_dir(&folder).unwrap() {
            let path = file.unwrap().path();
            if scheduled.contains(&path) {
                continue; // a scheduled event, checked below
            }
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

#[test]
fn every_schedule_of_the_template_has_the_sample_event_eventbridge_sends() {
    let schedules = devkit::stack::Template::from_repo()
        .unwrap()
        .schedules()
        .unwrap();
    assert!(
        !schedules.is_empty(),
        "template.yaml has the unpaid-order sweep and the kitchen's reminders"
    );
    for schedule in schedules {
        let path = schedule.sample_path();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the sample for `cargo lambda invoke`)",
                path.display()
            )
        });
        let sample: serde_json::Value = serde_json::from_str(&text).unwrap();
        // The local scheduler sends this shape; only the id and the time differ from event to event.
        let expected = schedule.event(
            sample["id"].as_str().unwrap_or_default(),
            sample["time"].as_str().unwrap_or_default(),
        );
        assert_eq!(sample, expected, "{}", path.display());
    }
}
