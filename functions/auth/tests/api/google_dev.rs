//! Google sign-in on the local stack: a token minted with the development key (`make google-token`)
//! signs in on the auth function deployed as `make dev` deploys it (the parameters scripts/dev.sh
//! gives template.yaml, the JWKS served by the IAM gate), and on a deployment with template.yaml's
//! defaults it does not.

use devkit::{google_dev, iam::Gate, iam_proxy, repo_root, testing::TestApp};
use serde_json::json;

/// The value scripts/dev.sh exports as `KITCHEN_PARAM_<parameter>`.
fn dev_parameter(parameter: &str) -> String {
    let script = std::fs::read_to_string(repo_root().join("scripts/dev.sh")).unwrap();
    let prefix = format!("export KITCHEN_PARAM_{parameter}=\"");
    let line = script
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("scripts/dev.sh sets {parameter}"));
    line.strip_suffix('"')
        .unwrap_or_else(|| panic!("a quoted value: {line}"))
        .to_string()
}

#[tokio::test]
async fn a_minted_token_signs_in_on_the_auth_function_as_make_dev_deploys_it() {
    let client_ids = dev_parameter("GoogleClientIds");
    assert_eq!(client_ids, google_dev::CLIENT_ID);
    // The gate on a port of its own, as make dev starts it on GATE_PORT.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gate_port = listener.local_addr().unwrap().port().to_string();
    let jwks_url = dev_parameter("GoogleJwksUrl").replace("$GATE_PORT", &gate_port);
    let app = TestApp::builder()
        .parameter("GoogleClientIds", client_ids)
        .parameter("GoogleJwksUrl", jwks_url)
        .spawn(auth::FUNCTION)
        .await;
    let upstreams = iam_proxy::Upstreams {
        dynamodb: std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap(),
        moto: std::env::var("AWS_ENDPOINT_URL_SNS").unwrap(),
    };
    let gate = Gate::new(app.stack()).unwrap();
    let documents = google_dev::gate_documents().unwrap();
    tokio::spawn(iam_proxy::serve_with_documents(
        listener, gate, upstreams, documents,
    ));

    let now = kitchen::now();
    let token = google_dev::id_token("Ada@Example.com", Some("Ada"), Some("Obi"), now).unwrap();
    let signed_in = app
        .post("/auth/google", &json!({"id_token": token}), None)
        .await;
    signed_in.assert_status(200);
    let user = &signed_in.json["user"];
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["first_name"], "Ada");
    assert_eq!(user["last_name"], "Obi");
    // A new token for the same email is the same Google account; another email is another.
    let again = google_dev::id_token("ada@example.com", None, None, now).unwrap();
    let second = app
        .post("/auth/google", &json!({"id_token": again}), None)
        .await;
    second.assert_status(200);
    assert_eq!(second.json["user"]["id"], user["id"]);
    let other = google_dev::id_token("obi@example.com", None, None, now).unwrap();
    let third = app
        .post("/auth/google", &json!({"id_token": other}), None)
        .await;
    third.assert_status(200);
    assert_ne!(third.json["user"]["id"], user["id"]);
    // An hour later the token has expired, as Google's do.
    let stale = google_dev::id_token(
        "ada@example.com",
        None,
        None,
        now - time::Duration::hours(2),
    );
    app.post("/auth/google", &json!({"id_token": stale.unwrap()}), None)
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn template_defaults_trust_no_development_key() {
    let app = TestApp::spawn(auth::FUNCTION).await;
    let token = google_dev::id_token("ada@example.com", None, None, kitchen::now()).unwrap();
    app.post("/auth/google", &json!({"id_token": token}), None)
        .await
        .assert_problem(401);
}
