//! template.yaml's permissions are what the functions run with here, as in AWS: every AWS call of a
//! function passes its policy or fails exactly as AccessDenied fails there.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use devkit::{
    stack::Template,
    testing::{TestApp, deploy_function},
};

#[tokio::test]
async fn a_call_the_policy_does_not_allow_is_the_sdks_access_denied_service_error() {
    let dishes = deploy_function("dishes", &[]).await;
    let table = &dishes.env["TABLE_NAME"];
    let err = aws_sdk_dynamodb::Client::new(&dishes.sdk)
        .put_item()
        .table_name(table)
        .item("pk", aws_sdk_dynamodb::types::AttributeValue::S("x".into()))
        .item("sk", aws_sdk_dynamodb::types::AttributeValue::S("x".into()))
        .send()
        .await
        .expect_err("the dishes function may not write");
    let service = err.as_service_error().expect("a service error, as in AWS");
    assert_eq!(service.code(), Some("AccessDeniedException"));
    let message = service.message().unwrap_or_default();
    assert!(
        message.contains("dynamodb:PutItem") && message.contains(&format!("table/{table}")),
        "{message}"
    );

    // A text to a phone needs sns:Publish on "*", which only the notifier has.
    let err = aws_sdk_sns::Client::new(&dishes.sdk)
        .publish()
        .phone_number("+2348000000000")
        .message("hello")
        .send()
        .await
        .expect_err("the dishes function may not send SMS");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().code()),
        Some("AuthorizationError")
    );

    // Nor read a secret its template does not give it.
    let err = aws_sdk_ssm::Client::new(&dishes.sdk)
        .get_parameter()
        .name("/kitchen/paystack-secret-key")
        .with_decryption(true)
        .send()
        .await
        .expect_err("the dishes function may not read the Paystack key");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().code()),
        Some("AccessDeniedException")
    );
}

#[tokio::test]
async fn a_function_whose_template_forgot_a_permission_answers_as_it_would_in_aws() {
    let text = std::fs::read_to_string(devkit::repo_root().join("template.yaml")).unwrap();
    // The dishes function reads one dish with GetItem; take that away.
    let start = text.find("\n  Dishes:\n").unwrap();
    let at = start
        + text[start..]
            .find("                - dynamodb:GetItem\n")
            .unwrap();
    let forgetful = format!(
        "{}{}",
        &text[..at],
        &text[at..].replacen("dynamodb:GetItem", "dynamodb:DescribeTable", 1)
    );
    let dish = kitchen::domain::DishId::new();
    let path = format!("/dishes/{dish}");
    let app = TestApp::spawn(dishes::FUNCTION).await;
    app.get(&path, None).await.assert_problem(404);
    let refused = TestApp::builder()
        .template(Template::parse(&forgetful).unwrap())
        .spawn(dishes::FUNCTION)
        .await;
    // AccessDenied is no answer the code expects from the table: a 500, and an alarm, as in AWS.
    // (Straight through the router: the document rightly lists no 500.)
    use tower::ServiceExt;
    let request = http::Request::get(&path)
        .body(axum::body::Body::empty())
        .unwrap();
    let response = refused.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 500);
}

#[test]
fn the_repository_template_names_no_action_iam_does_not_have() {
    let stack = devkit::stack::Stack::new(
        &Template::from_repo().unwrap(),
        &devkit::stack::LocalBindings::new("t", "e").parameter("PaystackCallbackUrl", "http://x/"),
    )
    .unwrap();
    // Reading every function's policy checks each statement (dynamodb:TransactWriteItems would fail).
    let gate = devkit::iam::Gate::new(&stack).unwrap();
    for function in stack.template().functions() {
        let grants = gate.policy(&function.binary).unwrap().grants();
        assert!(
            grants.iter().all(|g| !g.action.contains("Transact")),
            "{grants:?}"
        );
    }
}
