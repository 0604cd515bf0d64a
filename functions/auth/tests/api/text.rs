//! Names and addresses cannot smuggle a line into an SMS or turn text around on screen: control
//! characters (line breaks and tabs included) and format characters (bidirectional overrides,
//! zero-width characters) are refused; accents, combining marks included, are kept. Values stored
//! before the rule still read.

use devkit::testing::TestApp;
use serde_json::{Value, json};

async fn app() -> TestApp {
    TestApp::spawn(auth::FUNCTION).await
}

/// Registers `email` as Ada and returns the response body.
async fn register(app: &TestApp, email: &str) -> Value {
    let body = json!({"email": email, "password": "a good long password", "first_name": "Ada"});
    let response = app.post("/auth/register", &body, None).await;
    response.assert_status(201);
    response.json
}

fn access(body: &Value) -> String {
    body["access_token"].as_str().expect("a token").to_string()
}

#[tokio::test]
async fn patch_me_refuses_a_name_or_address_with_a_line_break_or_a_direction_override() {
    let app = app().await;
    let signed_in = register(&app, "ada@example.com").await;
    let token = access(&signed_in);
    let before = app.get("/me", Some(&token)).await;
    for (patch, field) in [
        (
            json!({"first_name": "Ada\nCALL +2348000000000"}),
            "first_name",
        ),
        (json!({"first_name": "Ada\u{202E}ibO"}), "first_name"),
        (json!({"last_name": "Obi\t"}), "last_name"),
        (json!({"last_name": "O\u{200B}bi"}), "last_name"),
        (json!({"address": "12 Marina\nLagos"}), "address"),
        (
            json!({"address": "12 Marina, \u{2066}Lagos\u{2069}"}),
            "address",
        ),
    ] {
        let response = app.patch("/me", &patch, Some(&token)).await;
        response.assert_problem(400);
        assert_eq!(response.error_fields(), [field], "{patch}");
        let message = response.json["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("single line") || message.contains("formatting characters"),
            "a plain reason: {message}"
        );
    }
    let after = app.get("/me", Some(&token)).await;
    assert_eq!(after.json, before.json, "nothing changed");
}

#[tokio::test]
async fn a_name_with_combining_marks_is_a_name() {
    let app = app().await;
    let token = access(&register(&app, "obi@example.com").await);
    // O with a dot below, then a combining grave accent.
    let response = app
        .patch(
            "/me",
            &json!({"first_name": "Ọ̀bí", "last_name": "Ñandú"}),
            Some(&token),
        )
        .await;
    response.assert_status(200);
    assert_eq!(response.json["first_name"], "Ọ̀bí");
    assert_eq!(app.get("/me", Some(&token)).await.json["first_name"], "Ọ̀bí");
}

#[tokio::test]
async fn register_refuses_a_name_with_a_control_or_format_character() {
    let app = app().await;
    for (name, field) in [
        (
            json!({"first_name": "Ada\nCALL +2348000000000"}),
            "first_name",
        ),
        (json!({"last_name": "\u{202E}ibO"}), "last_name"),
        (json!({"address": "1 Marina\r\nLagos"}), "address"),
    ] {
        let mut body = json!({"email": "ada@example.com", "password": "a good long password"});
        body.as_object_mut()
            .unwrap()
            .extend(name.as_object().unwrap().clone());
        let response = app.post("/auth/register", &body, None).await;
        response.assert_problem(400);
        assert_eq!(response.error_fields(), [field], "{body}");
    }
    // None of them made the account.
    register(&app, "ada@example.com").await;
}

#[tokio::test]
async fn a_profile_stored_before_the_rule_still_reads_and_can_be_mended() {
    let app = app().await;
    let signed_in = register(&app, "old@example.com").await;
    let token = access(&signed_in);
    let id = signed_in["user"]["id"].as_str().unwrap();
    // As the old rule let them through: line breaks and format characters.
    let id = kitchen::domain::UserId::parse(id).unwrap();
    app.store_profile_unchecked(
        &id,
        "Ada\nCALL +2348000000000",
        "\u{202E}ibO",
        "12 Marina\nLagos",
    )
    .await;

    let me = app.get("/me", Some(&token)).await;
    me.assert_status(200);
    assert_eq!(me.json["first_name"], "Ada\nCALL +2348000000000");
    assert_eq!(me.json["address"], "12 Marina\nLagos");
    // Another field changes and the old values stay as they were; the field itself takes only a
    // value the rule allows.
    let phone = app
        .patch("/me", &json!({"phone": "+2348012345678"}), Some(&token))
        .await;
    phone.assert_status(200);
    assert_eq!(phone.json["last_name"], "\u{202E}ibO");
    let mended = app
        .patch(
            "/me",
            &json!({"first_name": "Ada", "last_name": "Obi", "address": "12 Marina, Lagos"}),
            Some(&token),
        )
        .await;
    mended.assert_status(200);
    assert_eq!(mended.json["first_name"], "Ada");
    // Signing in reads the profile too.
    let login = app
        .post(
            "/auth/login",
            &json!({"email": "old@example.com", "password": "a good long password"}),
            None,
        )
        .await;
    login.assert_status(200);
}
