//! The auth function, driven through its router against DynamoDB Local.

use axum::body::Body;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use devkit::testing::{TEST_PASSWORD, TestApp};
use http::{Method, Request};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kitchen::domain::{Role, SessionId, UserId};
use serde_json::{Value, json};
use std::time::Duration;

async fn app() -> TestApp {
    TestApp::spawn(auth::FUNCTION).await
}

fn registration(email: &str) -> Value {
    json!({"email": email, "password": "a good long password", "first_name": "Ada", "phone": "+2348012345678"})
}

/// Registers a user and returns the response body.
async fn register(app: &TestApp, email: &str) -> Value {
    let response = app.post("/auth/register", &registration(email), None).await;
    response.assert_status(201);
    response.json
}

fn token(body: &Value, name: &str) -> String {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {body}"))
        .to_string()
}

// ---------------------------------------------------------------- register

#[tokio::test]
async fn register_creates_a_customer_and_signs_them_in() {
    let app = app().await;
    let body = register(&app, "Ada@Example.com").await;
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["user"]["role"], "customer");
    assert_eq!(body["user"]["active"], true);
    assert_eq!(body["user"]["gender"], "unspecified");
    assert_eq!(body["user"]["phone"], "+2348012345678");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 1800);
    assert!(body["user"].get("password_hash").is_none() && !body.to_string().contains("argon2"));
    let me = app.get("/me", Some(&token(&body, "access_token"))).await;
    me.assert_status(200);
    assert_eq!(me.json["id"], body["user"]["id"]);
}

#[tokio::test]
async fn register_refuses_an_email_that_is_taken_whatever_its_case() {
    let app = app().await;
    register(&app, "ada@example.com").await;
    let again = app
        .post("/auth/register", &registration("ADA@example.com"), None)
        .await;
    again.assert_problem(409);
}

#[tokio::test]
async fn concurrent_registrations_of_one_email_make_one_account() {
    let app = app().await;
    let body = registration("race@example.com");
    let attempts = (0..6).map(|_| app.post("/auth/register", &body, None));
    let statuses: Vec<u16> = futures_statuses(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        5,
        "{statuses:?}"
    );
}

async fn futures_statuses<F: std::future::Future<Output = devkit::testing::TestResponse>>(
    requests: impl Iterator<Item = F>,
) -> Vec<u16> {
    futures::future::join_all(requests)
        .await
        .iter()
        .map(|r| r.status.as_u16())
        .collect()
}

#[tokio::test]
async fn register_rejects_bad_input_with_the_field_at_fault() {
    let app = app().await;
    let cases = [
        (json!({"email": "ada@example.com"}), "password"),
        (
            json!({"email": "ada@example.com", "password": "short"}),
            "password",
        ),
        (
            json!({"email": "ada@example.com", "password": "x".repeat(129)}),
            "password",
        ),
        (
            json!({"email": "not-an-email", "password": "a good long password"}),
            "email",
        ),
        (
            json!({"email": 42, "password": "a good long password"}),
            "email",
        ),
        (
            json!({"email": "ada@example.com", "password": "a good long password", "role": "admin"}),
            "role",
        ),
        (
            json!({"email": "ada@example.com", "password": "a good long password", "phone": "0801234"}),
            "phone",
        ),
        (
            json!({"email": "ada@example.com", "password": "a good long password", "gender": "robot"}),
            "gender",
        ),
        (
            json!({"email": "ada@example.com", "password": "a good long password", "first_name": "  "}),
            "first_name",
        ),
    ];
    for (body, field) in cases {
        let response = app.post("/auth/register", &body, None).await;
        response.assert_problem(400);
        assert_eq!(response.error_fields(), [field], "{body}");
    }
    // None of them created anything.
    register(&app, "ada@example.com").await;
}

#[tokio::test]
async fn register_rejects_malformed_json_oversized_bodies_and_other_media_types() {
    let app = app().await;
    let raw = |body: &'static [u8], content_type: &str| {
        Request::builder()
            .method(Method::POST)
            .uri("/auth/register")
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap()
    };
    app.send(raw(b"{\"email\": ", "application/json"))
        .await
        .assert_problem(400);
    app.send(raw(b"", "application/json"))
        .await
        .assert_problem(400);
    app.send(raw(b"email=a@b.co", "application/x-www-form-urlencoded"))
        .await
        .assert_problem(415);
    let huge = json!({"email": "ada@example.com", "password": "a good long password", "address": "x".repeat(70_000)});
    app.post("/auth/register", &huge, None)
        .await
        .assert_problem(413);
}

// ---------------------------------------------------------------- login

#[tokio::test]
async fn login_with_the_right_password_starts_a_new_session() {
    let app = app().await;
    let registered = register(&app, "ada@example.com").await;
    let response = app
        .post(
            "/auth/login",
            &json!({"email": " ADA@example.com", "password": "a good long password"}),
            None,
        )
        .await;
    response.assert_status(200);
    assert_eq!(response.json["user"]["id"], registered["user"]["id"]);
    assert_ne!(response.json["refresh_token"], registered["refresh_token"]);
    app.get("/me", Some(&token(&response.json, "access_token")))
        .await
        .assert_status(200);
    // The first session is still live too.
    app.get("/me", Some(&token(&registered, "access_token")))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = app().await;
    register(&app, "ada@example.com").await;
    let wrong = app
        .post(
            "/auth/login",
            &json!({"email": "ada@example.com", "password": "not the password"}),
            None,
        )
        .await;
    let unknown = app
        .post(
            "/auth/login",
            &json!({"email": "bob@example.com", "password": "not the password"}),
            None,
        )
        .await;
    wrong.assert_problem(401);
    unknown.assert_problem(401);
    assert_eq!(wrong.json, unknown.json);
}

#[tokio::test]
async fn repeated_failures_lock_the_email_out_with_retry_after() {
    let app = TestApp::builder()
        .parameter("LoginMaxFailures", "3")
        .spawn(auth::FUNCTION)
        .await;
    register(&app, "ada@example.com").await;
    let wrong = json!({"email": "ada@example.com", "password": "not the password"});
    for _ in 0..3 {
        app.post("/auth/login", &wrong, None)
            .await
            .assert_problem(401);
    }
    let right = json!({"email": "ada@example.com", "password": "a good long password"});
    let locked = app.post("/auth/login", &right, None).await;
    locked.assert_problem(429);
    let retry_after: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    // Unknown emails are throttled the same way, and other emails are not affected.
    let stranger = json!({"email": "nobody@example.com", "password": "guess guess"});
    for _ in 0..3 {
        app.post("/auth/login", &stranger, None)
            .await
            .assert_problem(401);
    }
    app.post("/auth/login", &stranger, None)
        .await
        .assert_problem(429);
    register(&app, "bob@example.com").await;
    app.post(
        "/auth/login",
        &json!({"email": "bob@example.com", "password": "a good long password"}),
        None,
    )
    .await
    .assert_status(200);
}

#[tokio::test]
async fn a_lockout_ends_when_its_window_has_passed_even_if_the_item_lingers() {
    let app = TestApp::builder()
        .parameter("LoginMaxFailures", "2")
        // Long enough for three Argon2 checks on a busy machine, short enough to wait out.
        .parameter("LoginLockoutSeconds", "3")
        .spawn(auth::FUNCTION)
        .await;
    register(&app, "ada@example.com").await;
    let wrong = json!({"email": "ada@example.com", "password": "not the password"});
    let right = json!({"email": "ada@example.com", "password": "a good long password"});
    for _ in 0..2 {
        app.post("/auth/login", &wrong, None)
            .await
            .assert_problem(401);
    }
    app.post("/auth/login", &right, None)
        .await
        .assert_problem(429);
    // DynamoDB Local never deletes expired items; the code must treat them as gone.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    app.post("/auth/login", &right, None)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_successful_login_forgets_earlier_failures() {
    let app = TestApp::builder()
        .parameter("LoginMaxFailures", "3")
        .spawn(auth::FUNCTION)
        .await;
    register(&app, "ada@example.com").await;
    let wrong = json!({"email": "ada@example.com", "password": "not the password"});
    let right = json!({"email": "ada@example.com", "password": "a good long password"});
    for _ in 0..2 {
        app.post("/auth/login", &wrong, None)
            .await
            .assert_problem(401);
    }
    app.post("/auth/login", &right, None)
        .await
        .assert_status(200);
    for _ in 0..2 {
        app.post("/auth/login", &wrong, None)
            .await
            .assert_problem(401);
    }
    app.post("/auth/login", &right, None)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_deactivated_account_cannot_log_in() {
    let app = app().await;
    let body = register(&app, "ada@example.com").await;
    let id = UserId::parse(body["user"]["id"].as_str().unwrap()).unwrap();
    app.db()
        .set_role(&id, Role::Customer, false, None, kitchen::now())
        .await
        .unwrap();
    let response = app
        .post(
            "/auth/login",
            &json!({"email": "ada@example.com", "password": "a good long password"}),
            None,
        )
        .await;
    response.assert_problem(403);
    // And the tokens it already had stop working at once.
    app.get("/me", Some(&token(&body, "access_token")))
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn login_rejects_bad_input() {
    let app = app().await;
    app.post("/auth/login", &json!({"email": "ada@example.com"}), None)
        .await
        .assert_problem(400);
    app.post(
        "/auth/login",
        &json!({"email": "ada@example.com", "password": 5}),
        None,
    )
    .await
    .assert_problem(400);
    let extra = app
        .post(
            "/auth/login",
            &json!({"email": "ada@example.com", "password": "x", "remember": true}),
            None,
        )
        .await;
    extra.assert_problem(400);
    assert_eq!(extra.error_fields(), ["remember"]);
}

// ---------------------------------------------------------------- refresh

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let app = app().await;
    let body = register(&app, "ada@example.com").await;
    let first = token(&body, "refresh_token");
    let response = app
        .post("/auth/refresh", &json!({"refresh_token": first}), None)
        .await;
    response.assert_status(200);
    let second = token(&response.json, "refresh_token");
    assert_ne!(first, second);
    app.get("/me", Some(&token(&response.json, "access_token")))
        .await
        .assert_status(200);
    app.post("/auth/refresh", &json!({"refresh_token": second}), None)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_session() {
    let app = app().await;
    let body = register(&app, "ada@example.com").await;
    let stolen = token(&body, "refresh_token");
    let rotated = app
        .post("/auth/refresh", &json!({"refresh_token": stolen}), None)
        .await;
    rotated.assert_status(200);
    let reuse = app
        .post("/auth/refresh", &json!({"refresh_token": stolen}), None)
        .await;
    reuse.assert_problem(401);
    // The legitimate holder's newer tokens die with the session.
    app.post(
        "/auth/refresh",
        &json!({"refresh_token": token(&rotated.json, "refresh_token")}),
        None,
    )
    .await
    .assert_problem(401);
    app.get("/me", Some(&token(&rotated.json, "access_token")))
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_let_at_most_one_through() {
    let app = app().await;
    let body = register(&app, "ada@example.com").await;
    let request = json!({"refresh_token": token(&body, "refresh_token")});
    let statuses =
        futures_statuses((0..5).map(|_| app.post("/auth/refresh", &request, None))).await;
    assert!(
        statuses.iter().filter(|s| **s == 200).count() <= 1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 401),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn refresh_rejects_malformed_unknown_and_expired_tokens() {
    let app = TestApp::builder()
        .parameter("RefreshTokenTtlSeconds", "1")
        .spawn(auth::FUNCTION)
        .await;
    app.post("/auth/refresh", &json!({"refresh_token": "garbage"}), None)
        .await
        .assert_problem(401);
    let unknown = format!(
        "{}.{}.{}",
        UserId::new(),
        SessionId::new(),
        URL_SAFE_NO_PAD.encode([7u8; 32])
    );
    app.post("/auth/refresh", &json!({"refresh_token": unknown}), None)
        .await
        .assert_problem(401);
    app.post("/auth/refresh", &json!({}), None)
        .await
        .assert_problem(400);
    app.post("/auth/refresh", &json!({"refresh_token": 1}), None)
        .await
        .assert_problem(400);
    let body = register(&app, "ada@example.com").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    app.post(
        "/auth/refresh",
        &json!({"refresh_token": token(&body, "refresh_token")}),
        None,
    )
    .await
    .assert_problem(401);
    // A session past its refresh window is over: its access token stops working too.
    app.get("/me", Some(&token(&body, "access_token")))
        .await
        .assert_problem(401);
}

// ---------------------------------------------------------------- logout

#[tokio::test]
async fn logout_ends_the_session_for_both_tokens() {
    let app = app().await;
    let body = register(&app, "ada@example.com").await;
    let access = token(&body, "access_token");
    app.request(Method::POST, "/auth/logout", None, Some(&access))
        .await
        .assert_status(204);
    app.get("/me", Some(&access)).await.assert_problem(401);
    app.post(
        "/auth/refresh",
        &json!({"refresh_token": token(&body, "refresh_token")}),
        None,
    )
    .await
    .assert_problem(401);
    app.request(Method::POST, "/auth/logout", None, Some(&access))
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn logout_with_another_sessions_refresh_token_ends_that_one_too() {
    let app = app().await;
    let first = register(&app, "ada@example.com").await;
    let second = app
        .post(
            "/auth/login",
            &json!({"email": "ada@example.com", "password": "a good long password"}),
            None,
        )
        .await
        .json;
    let body = json!({"refresh_token": token(&second, "refresh_token")});
    app.post("/auth/logout", &body, Some(&token(&first, "access_token")))
        .await
        .assert_status(204);
    app.get("/me", Some(&token(&second, "access_token")))
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn logout_needs_a_token_and_a_well_formed_body() {
    let app = app().await;
    app.request(Method::POST, "/auth/logout", None, None)
        .await
        .assert_problem(401);
    app.request(Method::POST, "/auth/logout", None, Some("not.a.jwt"))
        .await
        .assert_problem(401);
    let body = register(&app, "ada@example.com").await;
    let access = token(&body, "access_token");
    app.post(
        "/auth/logout",
        &json!({"refresh_token": "nope"}),
        Some(&access),
    )
    .await
    .assert_problem(400);
    app.post("/auth/logout", &json!({"everything": true}), Some(&access))
        .await
        .assert_problem(400);
    // Nothing was ended by the bad requests.
    app.get("/me", Some(&access)).await.assert_status(200);
}

// ---------------------------------------------------------------- token forgery

fn claims_for(body: &Value, exp_offset: i64) -> Value {
    let now = kitchen::now().unix_timestamp();
    let access = token(body, "access_token");
    let payload = access.split('.').nth(1).unwrap();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["exp"] = json!(now + exp_offset);
    claims
}

#[tokio::test]
async fn forged_tokens_are_refused() {
    let app = app().await;
    let body = register(&app, "ada@example.com").await;

    let mut admin_claims = claims_for(&body, 600);
    admin_claims["role"] = json!("admin");
    let right_key =
        EncodingKey::from_ed_pem(devkit::testing::TEST_TOKEN_SIGNING_KEY.as_bytes()).unwrap();
    let signed = |claims: &Value, key: &EncodingKey| {
        let kid = jsonwebtoken::decode_header(token(&body, "access_token"))
            .unwrap()
            .kid;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = kid;
        jsonwebtoken::encode(&header, claims, key).unwrap()
    };
    // Another Ed25519 key, naming the published key's kid.
    let other_key =
        EncodingKey::from_ed_pem(devkit::testing::TEST_NEXT_TOKEN_SIGNING_KEY.as_bytes()).unwrap();
    let wrong_key = signed(&admin_claims, &other_key);
    app.get("/me", Some(&wrong_key)).await.assert_problem(401);
    // HS256 with the public key, which anyone has, as its secret (key confusion).
    let mut confused = Header::new(Algorithm::HS256);
    confused.kid = jsonwebtoken::decode_header(&wrong_key).unwrap().kid;
    let public_secret =
        EncodingKey::from_secret(devkit::testing::TEST_TOKEN_PUBLIC_KEYS.as_bytes());
    let hs256 = jsonwebtoken::encode(&confused, &admin_claims, &public_secret).unwrap();
    app.get("/me", Some(&hs256)).await.assert_problem(401);

    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&admin_claims).unwrap());
    app.get("/me", Some(&format!("{header}.{payload}.")))
        .await
        .assert_problem(401);

    let expired = signed(&claims_for(&body, -120), &right_key);
    let response = app.get("/me", Some(&expired)).await;
    response.assert_problem(401);
    assert!(
        response.json["detail"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    let mut no_session = claims_for(&body, 600);
    no_session["sid"] = json!(SessionId::new().to_string());
    let orphan = signed(&no_session, &right_key);
    app.get("/me", Some(&orphan)).await.assert_problem(401);

    let mut tampered = token(&body, "access_token");
    tampered.push('x');
    app.get("/me", Some(&tampered)).await.assert_problem(401);
    let basic = Request::builder()
        .uri("/me")
        .header("authorization", "Basic YWRhOnB3")
        .body(Body::empty())
        .unwrap();
    app.send(basic).await.assert_problem(401);
}

// ---------------------------------------------------------------- /me

#[tokio::test]
async fn me_returns_the_callers_profile_and_nothing_secret() {
    let app = app().await;
    let caller = app.user(Role::Customer).await;
    let response = app.get("/me", Some(&caller.access_token)).await;
    response.assert_status(200);
    assert_eq!(response.json["id"], caller.user.id.as_str());
    let keys: Vec<&str> = response
        .json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "id",
        "email",
        "first_name",
        "last_name",
        "phone",
        "address",
        "gender",
        "role",
        "active",
        "created_at",
    ] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    assert!(!response.text.contains("argon2") && !response.text.contains("password"));
    app.get("/me", None).await.assert_problem(401);
}

#[tokio::test]
async fn patch_me_changes_only_the_fields_given_and_null_clears() {
    let app = app().await;
    let body = register(&app, "ada@example.com").await;
    let access = token(&body, "access_token");
    let changes = json!({"first_name": "Adaeze", "last_name": "Obi", "address": "12 Marina, Lagos", "gender": "female"});
    let response = app.patch("/me", &changes, Some(&access)).await;
    response.assert_status(200);
    assert_eq!(response.json["first_name"], "Adaeze");
    assert_eq!(response.json["gender"], "female");
    assert_eq!(response.json["phone"], "+2348012345678");
    let cleared = app
        .patch("/me", &json!({"phone": null}), Some(&access))
        .await;
    cleared.assert_status(200);
    assert_eq!(cleared.json["phone"], Value::Null);
    assert_eq!(cleared.json["last_name"], "Obi");
    let unchanged = app.patch("/me", &json!({}), Some(&access)).await;
    unchanged.assert_status(200);
    assert_eq!(unchanged.json, cleared.json);
    let stored = app.get("/me", Some(&access)).await;
    assert_eq!(stored.json, cleared.json);
}

#[tokio::test]
async fn patch_me_refuses_email_role_active_and_bad_values() {
    let app = app().await;
    let body = register(&app, "ada@example.com").await;
    let access = token(&body, "access_token");
    for (patch, field) in [
        (json!({"email": "evil@example.com"}), "email"),
        (json!({"role": "admin"}), "role"),
        (json!({"active": false}), "active"),
        (json!({"phone": "12345"}), "phone"),
        (json!({"gender": 3}), "gender"),
        (json!({"first_name": ""}), "first_name"),
    ] {
        let response = app.patch("/me", &patch, Some(&access)).await;
        response.assert_problem(400);
        assert_eq!(response.error_fields(), [field]);
    }
    let me = app.get("/me", Some(&access)).await;
    assert_eq!(me.json["role"], "customer");
    assert_eq!(me.json["email"], "ada@example.com");
    app.patch("/me", &json!({"first_name": "X"}), None)
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn patch_me_stops_and_resumes_order_sms_and_refuses_anything_but_a_boolean() {
    let app = app().await;
    let caller = app.user(Role::Customer).await;
    let access = caller.access_token.as_str();
    let me = app.get("/me", Some(access)).await;
    assert_eq!(me.json["sms_opt_out"], false, "not opted out unless set");
    let stopped = app
        .patch("/me", &json!({"sms_opt_out": true}), Some(access))
        .await;
    stopped.assert_status(200);
    assert_eq!(stopped.json["sms_opt_out"], true);
    let stored = app.db().get_user(&caller.user.id).await.unwrap().unwrap();
    assert!(stored.sms_opt_out);
    for bad in [json!(null), json!("yes"), json!(0)] {
        let response = app
            .patch("/me", &json!({"sms_opt_out": bad}), Some(access))
            .await;
        response.assert_problem(400);
        assert_eq!(response.error_fields(), ["sms_opt_out"], "{bad}");
    }
    let unchanged = app.get("/me", Some(access)).await;
    assert_eq!(
        unchanged.json["sms_opt_out"], true,
        "a refused patch changes nothing"
    );
    let resumed = app
        .patch("/me", &json!({"sms_opt_out": false}), Some(access))
        .await;
    resumed.assert_status(200);
    assert_eq!(resumed.json["sms_opt_out"], false);
    app.patch("/me", &json!({"sms_opt_out": true}), None)
        .await
        .assert_problem(401);
    app.patch("/me", &json!({"sms_opt_out": true}), Some("not-a-token"))
        .await
        .assert_problem(401);
    let after = app.db().get_user(&caller.user.id).await.unwrap().unwrap();
    assert!(!after.sms_opt_out, "nothing changed without a valid token");
}

// ---------------------------------------------------------------- /me/password

#[tokio::test]
async fn changing_the_password_signs_out_every_other_session() {
    let app = app().await;
    let first = register(&app, "ada@example.com").await;
    let second = app
        .post(
            "/auth/login",
            &json!({"email": "ada@example.com", "password": "a good long password"}),
            None,
        )
        .await
        .json;
    let change = json!({"current_password": "a good long password", "new_password": "an even better password"});
    app.post(
        "/me/password",
        &change,
        Some(&token(&first, "access_token")),
    )
    .await
    .assert_status(204);
    app.get("/me", Some(&token(&first, "access_token")))
        .await
        .assert_status(200);
    app.get("/me", Some(&token(&second, "access_token")))
        .await
        .assert_problem(401);
    app.post(
        "/auth/refresh",
        &json!({"refresh_token": token(&second, "refresh_token")}),
        None,
    )
    .await
    .assert_problem(401);
    app.post(
        "/auth/login",
        &json!({"email": "ada@example.com", "password": "a good long password"}),
        None,
    )
    .await
    .assert_problem(401);
    app.post(
        "/auth/login",
        &json!({"email": "ada@example.com", "password": "an even better password"}),
        None,
    )
    .await
    .assert_status(200);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_a_valid_new_one() {
    let app = app().await;
    let caller = app.user(Role::Customer).await;
    let access = Some(caller.access_token.as_str());
    let wrong =
        json!({"current_password": "not it at all", "new_password": "an even better password"});
    app.post("/me/password", &wrong, access)
        .await
        .assert_problem(403);
    let short = json!({"current_password": TEST_PASSWORD, "new_password": "short"});
    let response = app.post("/me/password", &short, access).await;
    response.assert_problem(400);
    assert_eq!(response.error_fields(), ["new_password"]);
    app.post(
        "/me/password",
        &json!({"new_password": "an even better password"}),
        access,
    )
    .await
    .assert_problem(400);
    app.post(
        "/me/password",
        &json!({"current_password": TEST_PASSWORD, "new_password": "an even better password"}),
        None,
    )
    .await
    .assert_problem(401);
    // The password did not change.
    let email = caller.user.email.as_ref().unwrap().as_str();
    app.post(
        "/auth/login",
        &json!({"email": email, "password": TEST_PASSWORD}),
        None,
    )
    .await
    .assert_status(200);
}

// ---------------------------------------------------------------- Google

const CLIENT_ID: &str = "kitchen-test.apps.googleusercontent.com";

/// Serves the test JWKS on a free loopback port, like Google's certs endpoint.
async fn serve_jwks() -> String {
    let jwks: Value =
        serde_json::from_str(include_str!("../fixtures/google-test-jwks.json")).unwrap();
    let router = axum::Router::new().route(
        "/certs",
        axum::routing::get(move || async move { axum::Json(jwks) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}/certs")
}

async fn google_app() -> TestApp {
    let jwks_url = serve_jwks().await;
    TestApp::builder()
        .parameter("GoogleClientIds", format!("another-client, {CLIENT_ID}"))
        .parameter("GoogleJwksUrl", jwks_url)
        .spawn(auth::FUNCTION)
        .await
}

fn google_claims(email: &str, sub: &str) -> Value {
    let now = kitchen::now().unix_timestamp();
    json!({
        "iss": "https://accounts.google.com", "aud": CLIENT_ID, "sub": sub, "email": email,
        "email_verified": true, "given_name": "Ada", "family_name": "Obi", "iat": now, "exp": now + 3600,
    })
}

fn id_token(claims: &Value) -> String {
    sign_google(claims, include_bytes!("../fixtures/google-test-key.pem"))
}

fn sign_google(claims: &Value, pem: &[u8]) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("test-key-1".into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(pem).unwrap()).unwrap()
}

#[tokio::test]
async fn google_sign_in_creates_the_account_once() {
    let app = google_app().await;
    let token_body = json!({"id_token": id_token(&google_claims("Ada@Gmail.com", "g-1"))});
    let first = app.post("/auth/google", &token_body, None).await;
    first.assert_status(200);
    assert_eq!(first.json["user"]["email"], "ada@gmail.com");
    assert_eq!(first.json["user"]["first_name"], "Ada");
    assert_eq!(first.json["user"]["role"], "customer");
    let second = app.post("/auth/google", &token_body, None).await;
    second.assert_status(200);
    assert_eq!(second.json["user"]["id"], first.json["user"]["id"]);
    app.get("/me", Some(&token(&second.json, "access_token")))
        .await
        .assert_status(200);
    // A Google-only account has no password to change.
    let change =
        json!({"current_password": "whatever it was", "new_password": "an even better password"});
    app.post(
        "/me/password",
        &change,
        Some(&token(&second.json, "access_token")),
    )
    .await
    .assert_problem(409);
}

#[tokio::test]
async fn google_sign_in_links_an_existing_account_whose_email_is_verified() {
    let app = google_app().await;
    let registered = register(&app, "ada@gmail.com").await;
    crate::accounts::verify_by_email(&app, "ada@gmail.com").await;
    let response = app
        .post(
            "/auth/google",
            &json!({"id_token": id_token(&google_claims("ada@gmail.com", "g-1"))}),
            None,
        )
        .await;
    response.assert_status(200);
    assert_eq!(response.json["user"]["id"], registered["user"]["id"]);
    // Linking is not a take-over: the password and the earlier session keep working.
    app.get("/me", Some(&token(&registered, "access_token")))
        .await
        .assert_status(200);
    app.post(
        "/auth/login",
        &json!({"email": "ada@gmail.com", "password": "a good long password"}),
        None,
    )
    .await
    .assert_status(200);
    // Once linked, another Google account cannot claim that email.
    let intruder = app
        .post(
            "/auth/google",
            &json!({"id_token": id_token(&google_claims("ada@gmail.com", "g-2"))}),
            None,
        )
        .await;
    intruder.assert_problem(401);
}

#[tokio::test]
async fn google_sign_in_takes_over_an_account_whose_email_nobody_proved() {
    let app = google_app().await;
    // Someone registers the victim's address with a password of their own, and stays signed in.
    let squatter = register(&app, "victim@gmail.com").await;
    let response = app
        .post(
            "/auth/google",
            &json!({"id_token": id_token(&google_claims("victim@gmail.com", "g-victim"))}),
            None,
        )
        .await;
    response.assert_status(200);
    assert_eq!(response.json["user"]["id"], squatter["user"]["id"]);
    assert_eq!(response.json["user"]["email_verified"], true);
    // The squatter keeps nothing: not the session, not its refresh token, not the password.
    app.get("/me", Some(&token(&squatter, "access_token")))
        .await
        .assert_problem(401);
    app.post(
        "/auth/refresh",
        &json!({"refresh_token": token(&squatter, "refresh_token")}),
        None,
    )
    .await
    .assert_problem(401);
    app.post(
        "/auth/login",
        &json!({"email": "victim@gmail.com", "password": "a good long password"}),
        None,
    )
    .await
    .assert_problem(401);
    // The owner is signed in, and stays the account's owner on the next sign-in.
    app.get("/me", Some(&token(&response.json, "access_token")))
        .await
        .assert_status(200);
    let again = app
        .post(
            "/auth/google",
            &json!({"id_token": id_token(&google_claims("victim@gmail.com", "g-victim"))}),
            None,
        )
        .await;
    again.assert_status(200);
    assert_eq!(again.json["user"]["id"], squatter["user"]["id"]);
}

#[tokio::test]
async fn google_tokens_that_fail_any_check_are_refused() {
    let app = google_app().await;
    let good = google_claims("ada@gmail.com", "g-1");
    let with = |field: &str, value: Value| {
        let mut claims = good.clone();
        claims[field] = value;
        claims
    };
    let cases = [
        (
            "wrong audience",
            id_token(&with(
                "aud",
                json!("someone-else.apps.googleusercontent.com"),
            )),
        ),
        (
            "wrong issuer",
            id_token(&with("iss", json!("https://evil.example.com"))),
        ),
        (
            "expired",
            id_token(&with("exp", json!(kitchen::now().unix_timestamp() - 3600))),
        ),
        (
            "unverified email",
            id_token(&with("email_verified", json!(false))),
        ),
        (
            "bad signature",
            sign_google(&good, include_bytes!("../fixtures/google-other-key.pem")),
        ),
        (
            "HS256 with the public key's id",
            jsonwebtoken::encode(
                &Header {
                    kid: Some("test-key-1".into()),
                    ..Header::new(Algorithm::HS256)
                },
                &good,
                &EncodingKey::from_secret(b"guess"),
            )
            .unwrap(),
        ),
        ("not a JWT", "definitely-not-a-jwt".to_string()),
    ];
    for (what, id_token) in cases {
        let response = app
            .post("/auth/google", &json!({"id_token": id_token}), None)
            .await;
        assert_eq!(response.status, 401, "{what}: {}", response.text);
        response.assert_problem(401);
    }
    app.post("/auth/google", &json!({}), None)
        .await
        .assert_problem(400);
    // None of them created an account.
    let email = kitchen::domain::Email::parse("ada@gmail.com").unwrap();
    assert!(app.db().user_by_email(&email).await.unwrap().is_none());
}

#[tokio::test]
async fn google_sign_in_answers_502_when_googles_keys_cannot_be_fetched() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}/certs", listener.local_addr().unwrap());
    drop(listener);
    let app = TestApp::builder()
        .parameter("GoogleClientIds", CLIENT_ID)
        .parameter("GoogleJwksUrl", closed)
        .spawn(auth::FUNCTION)
        .await;
    let response = app
        .post(
            "/auth/google",
            &json!({"id_token": id_token(&google_claims("ada@gmail.com", "g-1"))}),
            None,
        )
        .await;
    response.assert_problem(502);
}

#[tokio::test]
async fn google_sign_in_is_refused_when_not_configured() {
    let app = app().await;
    let response = app
        .post(
            "/auth/google",
            &json!({"id_token": id_token(&google_claims("ada@gmail.com", "g-1"))}),
            None,
        )
        .await;
    response.assert_problem(401);
}

// ---------------------------------------------------------------- routing

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = app().await;
    app.get("/auth/nothing-here", None)
        .await
        .assert_problem(404);
    app.get("/auth/login", None).await.assert_problem(405);
}

// ---------------------------------------------------------------- logs

#[tokio::test]
async fn each_request_logs_one_structured_line_without_secrets() {
    let app = app().await;
    let body = register(&app, "ada@example.com").await;
    let access = token(&body, "access_token");
    let (captured, guard) = kitchen::telemetry::Captured::install(None);
    app.get("/me", Some(&access)).await.assert_status(200);
    app.post(
        "/auth/login",
        &json!({"email": "ada@example.com", "password": "a good long password"}),
        None,
    )
    .await
    .assert_status(200);
    drop(guard);
    let lines = captured.lines();
    let text = serde_json::to_string(&lines).unwrap();
    let requests: Vec<&Value> = lines.iter().filter(|l| l["message"] == "request").collect();
    assert_eq!(requests.len(), 2, "{text}");
    assert_eq!(requests[0]["route"], "/me");
    assert_eq!(requests[0]["method"], "GET");
    assert_eq!(requests[0]["status"], 200);
    // Registering was the router's first request.
    assert_eq!(requests[0]["cold_start"], false);
    assert_eq!(requests[0]["user_id"], body["user"]["id"]);
    assert!(requests[0]["latency_ms"].as_f64().is_some());
    // What the table meter counted: the session check is one BatchGetItem, and nothing is written.
    assert_eq!(requests[0]["db_reads"], 1, "{text}");
    assert_eq!(requests[0]["db_writes"], 0, "{text}");
    assert_eq!(requests[0]["db_retries"], 0, "{text}");
    assert!(
        requests[0]["db_read_units"].as_f64().unwrap() > 0.0,
        "{text}"
    );
    assert_eq!(requests[0]["db_write_units"], 0.0, "{text}");
    assert_eq!(requests[1]["route"], "/auth/login");
    assert!(
        requests[1]["db_writes"].as_u64().unwrap() >= 1,
        "a session is written: {text}"
    );
    assert!(
        requests[1]["db_write_units"].as_f64().unwrap() > 0.0,
        "{text}"
    );
    assert!(!text.contains(&access), "no token in the logs");
    assert!(
        !text.contains("a good long password"),
        "no password in the logs"
    );
    assert!(!text.contains(&token(&body, "refresh_token")));
}

// ---------------------------------------------------------------- bodies and the document

#[tokio::test]
async fn account_bodies_mean_what_the_document_says() {
    let app = app().await;
    let mut with_null = registration("null@example.com");
    with_null["phone"] = Value::Null;
    let mut with_escape = registration("escape@example.com");
    with_escape["address"] = json!("12 Marina\u{1b}[2J");
    for body in [with_null, with_escape] {
        app.agrees_with_document(Method::POST, "/auth/register", &body, None)
            .await
            .assert_problem(400);
    }
    let body = register(&app, "ada@example.com").await;
    let access = token(&body, "access_token");
    for patch in [
        json!({"gender": null}),
        json!({"first_name": "\u{3000}"}),
        json!({"address": "bell\u{7}"}),
        json!({"last_name": "x".repeat(95) + "      "}),
    ] {
        app.agrees_with_document(Method::PATCH, "/me", &patch, Some(&access))
            .await
            .assert_problem(400);
    }
    let changed = app
        .agrees_with_document(
            Method::PATCH,
            "/me",
            &json!({"first_name": " Adaeze ", "last_name": null, "address": "12 Marina, Lagos"}),
            Some(&access),
        )
        .await;
    changed.assert_status(200);
    assert_eq!(changed.json["first_name"], "Adaeze");
    assert_eq!(changed.json["last_name"], Value::Null);
    // A refresh token of nobody's session is well-formed, and ends nothing but the caller's own.
    let nobody = format!("{}.{}.{}", UserId::new(), SessionId::new(), "A".repeat(43));
    app.agrees_with_document(
        Method::POST,
        "/auth/logout",
        &json!({"refresh_token": nobody}),
        Some(&access),
    )
    .await
    .assert_status(204);
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_a_400() {
    let app = app().await;
    let body = register(&app, "ada@example.com").await;
    let access = token(&body, "access_token");
    let raw = |method: Method, path: &str, bytes: &'static [u8]| {
        Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {access}"))
            .header("content-type", "application/json")
            .body(Body::from(bytes))
            .unwrap()
    };
    // An array would fill the struct by position; bytes that are not UTF-8 (API Gateway passes
    // them on base64-encoded) are not JSON; nor is an object with something after it.
    for (method, path, bytes) in [
        (Method::PATCH, "/me", &b"[null, null]"[..]),
        (Method::PATCH, "/me", &b"\"Ada\""[..]),
        (Method::POST, "/auth/login", &b"\xff\xfe{"[..]),
        (
            Method::POST,
            "/auth/register",
            &b"\x0f^J\x9d}\xc0\x19%q"[..],
        ),
        (Method::POST, "/auth/logout", &b"\xe2c{"[..]),
        (
            Method::POST,
            "/me/password",
            &br#"{"current_password": "x", "new_password": "a good new password"} []"#[..],
        ),
    ] {
        let response = app.send(raw(method.clone(), path, bytes)).await;
        response.assert_problem(400);
        assert!(
            response.json["errors"].is_null(),
            "{method} {path}: {}",
            response.text
        );
    }
    app.get("/me", Some(&access)).await.assert_status(200);
}
