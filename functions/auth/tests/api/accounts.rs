//! Accounts no one can take over: email verification, password reset, the sign-in throttle that
//! counts first, revocation that no race undoes, and refresh-token reuse detection that only a
//! token the session issued can trigger. Emails are read back from moto's SES.

use devkit::testing::{SentEmail, TEST_PASSWORD, TestApp, emails_to};
use kitchen::{
    db::StoredToken,
    domain::{Email, Session, SessionId},
    one_time::{LinkToken, Purpose},
    token::RefreshToken,
};
use serde_json::{Value, json};

const PASSWORD: &str = "a good long password";

async fn app() -> TestApp {
    TestApp::spawn(auth::FUNCTION).await
}

async fn register(app: &TestApp, email: &str) -> Value {
    let response = app
        .post(
            "/auth/register",
            &json!({"email": email, "password": PASSWORD, "first_name": "Ada"}),
            None,
        )
        .await;
    response.assert_status(201);
    response.json
}

fn token(body: &Value, name: &str) -> String {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {body}"))
        .to_string()
}

/// A fresh address for one test: moto's SES is shared by every test of the run.
fn address(name: &str) -> String {
    format!(
        "{name}-{}@example.com",
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

/// The emails sent to `to`, oldest first (a request sends its email before it answers).
async fn mail(to: &str) -> Vec<SentEmail> {
    emails_to(to).await
}

async fn last_link(to: &str, path: &str) -> String {
    let sent = mail(to).await;
    let last = sent.last().unwrap_or_else(|| panic!("no email to {to}"));
    last.link_token(path)
        .unwrap_or_else(|| panic!("no {path} link in {}", last.body))
}

/// Verifies `email`'s account through the link of its latest verification email.
pub async fn verify_by_email(app: &TestApp, email: &str) {
    let token = last_link(email, "/auth/email/verify").await;
    app.post("/auth/email/verify", &json!({"token": token}), None)
        .await
        .assert_status(200);
}

/// Stores `token` as the link of `purpose` emailed to `email` at `at` (as if the clock had moved on
/// since), replacing the one the API sent.
async fn sent_at(
    app: &TestApp,
    token: &LinkToken,
    email: &Email,
    purpose: Purpose,
    at: time::OffsetDateTime,
) {
    app.db()
        .store_token(&StoredToken::new(token, email, purpose, at), purpose, None)
        .await
        .unwrap()
        .unwrap();
}

fn login(email: &str, password: &str) -> Value {
    json!({"email": email, "password": password})
}

// ---------------------------------------------------------------- email verification

#[tokio::test]
async fn registering_sends_a_verification_email_whose_link_verifies_once() {
    let app = app().await;
    let email = address("ada");
    let body = register(&app, &email).await;
    assert_eq!(body["user"]["email_verified"], false);
    let sent = mail(&email).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].source, devkit::stack::LOCAL_EMAIL_FROM);
    assert!(sent[0].body.starts_with("Hello Ada,"), "{}", sent[0].body);
    // The link is on a line of its own, on the API's public address.
    let link = sent[0]
        .body
        .lines()
        .find(|l| l.contains("/auth/email/verify?token="))
        .unwrap();
    assert!(
        link.starts_with(&format!(
            "{}/auth/email/verify?token=",
            devkit::stack::LOCAL_API_URL
        )),
        "{link}"
    );
    let token = sent[0].link_token("/auth/email/verify").unwrap();
    let verified = app
        .post("/auth/email/verify", &json!({"token": token}), None)
        .await;
    verified.assert_status(200);
    assert_eq!(verified.json["user"]["email_verified"], true);
    assert_eq!(verified.json["user"]["id"], body["user"]["id"]);
    let me = app
        .get("/me", Some(&self::token(&body, "access_token")))
        .await;
    assert_eq!(me.json["email_verified"], true);
    // Used once.
    let again = app
        .post("/auth/email/verify", &json!({"token": token}), None)
        .await;
    again.assert_problem(400);
    assert_eq!(again.error_fields(), ["token"]);
}

#[tokio::test]
async fn the_verification_link_opens_a_page_that_verifies_and_says_so() {
    let app = app().await;
    let email = address("ada");
    let body = register(&app, &email).await;
    let token = last_link(&email, "/auth/email/verify").await;
    // Mail clients add their own parameters to links; they change nothing.
    let page = app
        .get(
            &format!("/auth/email/verify?token={token}&utm_source=mail"),
            None,
        )
        .await;
    page.assert_status(200);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(page.headers["cache-control"], "no-store");
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    assert!(page.text.contains("confirmed"), "{}", page.text);
    let me = app
        .get("/me", Some(&self::token(&body, "access_token")))
        .await;
    assert_eq!(me.json["email_verified"], true);
    for bad in [
        format!("/auth/email/verify?token={token}"),
        "/auth/email/verify?token=nonsense".to_string(),
        "/auth/email/verify".to_string(),
    ] {
        let page = app.get(&bad, None).await;
        page.assert_status(400);
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(page.text.contains("does not work"), "{}", page.text);
        assert!(
            !page.text.contains(&token),
            "the page must not echo the token"
        );
    }
}

#[tokio::test]
async fn a_verification_token_that_is_made_up_expired_or_for_another_purpose_is_a_400() {
    let app = app().await;
    let email = address("ada");
    let body = register(&app, &email).await;
    let user_id: kitchen::domain::UserId =
        kitchen::domain::UserId::parse(body["user"]["id"].as_str().unwrap()).unwrap();
    // A well-formed token nobody sent.
    let made_up = LinkToken::generate(user_id.clone()).expose();
    // One sent 49 hours ago.
    let old = LinkToken::generate(user_id.clone());
    let long_ago = kitchen::now() - time::Duration::hours(49);
    let parsed_email = Email::parse(&email).unwrap();
    sent_at(&app, &old, &parsed_email, Purpose::VerifyEmail, long_ago).await;
    for bad in [made_up, old.expose(), "not-a-token".into(), "".into()] {
        let response = app
            .post("/auth/email/verify", &json!({"token": bad}), None)
            .await;
        response.assert_problem(400);
    }
    // Malformed bodies are the usual 400s.
    for bad in [
        json!({}),
        json!({"token": 5}),
        json!({"token": "x", "user": "y"}),
    ] {
        app.post("/auth/email/verify", &bad, None)
            .await
            .assert_problem(400);
    }
    let me = app.get("/me", Some(&token(&body, "access_token"))).await;
    assert_eq!(me.json["email_verified"], false);
}

#[tokio::test]
async fn resending_sends_a_new_link_that_replaces_the_old_at_most_once_a_minute() {
    let app = app().await;
    let email = address("ada");
    let body = register(&app, &email).await;
    let access = token(&body, "access_token");
    let first = last_link(&email, "/auth/email/verify").await;
    // The sign-up email went out a moment ago.
    let early = app
        .request(
            http::Method::POST,
            "/auth/email/resend",
            None,
            Some(&access),
        )
        .await;
    early.assert_problem(429);
    let retry_after: u64 = early.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(mail(&email).await.len(), 1);
    // A minute later (the stored send time moved back, as the clock would move on).
    let user_id = kitchen::domain::UserId::parse(body["user"]["id"].as_str().unwrap()).unwrap();
    let parsed_email = Email::parse(&email).unwrap();
    let aged = LinkToken::parse(&first).unwrap();
    let a_minute_ago = kitchen::now() - time::Duration::seconds(61);
    sent_at(
        &app,
        &aged,
        &parsed_email,
        Purpose::VerifyEmail,
        a_minute_ago,
    )
    .await;
    app.request(
        http::Method::POST,
        "/auth/email/resend",
        None,
        Some(&access),
    )
    .await
    .assert_status(202);
    let sent = mail(&email).await;
    assert_eq!(sent.len(), 2);
    let second = sent[1].link_token("/auth/email/verify").unwrap();
    assert_ne!(first, second);
    assert_eq!(LinkToken::parse(&second).unwrap().user_id, user_id);
    // The older link stopped working when the newer replaced it.
    app.post("/auth/email/verify", &json!({"token": first}), None)
        .await
        .assert_problem(400);
    app.post("/auth/email/verify", &json!({"token": second}), None)
        .await
        .assert_status(200);
    // Verified: nothing more to send (this wins over the minute's limit).
    app.request(
        http::Method::POST,
        "/auth/email/resend",
        None,
        Some(&access),
    )
    .await
    .assert_problem(409);
}

#[tokio::test]
async fn resending_needs_a_signed_in_caller() {
    let app = app().await;
    app.request(http::Method::POST, "/auth/email/resend", None, None)
        .await
        .assert_problem(401);
    app.request(
        http::Method::POST,
        "/auth/email/resend",
        None,
        Some("not.a.token"),
    )
    .await
    .assert_problem(401);
    // A user made by the tests is verified already.
    let caller = app.user(kitchen::domain::Role::Customer).await;
    app.request(
        http::Method::POST,
        "/auth/email/resend",
        None,
        Some(&caller.access_token),
    )
    .await
    .assert_problem(409);
}

// ---------------------------------------------------------------- password reset

#[tokio::test]
async fn forgot_answers_the_same_for_every_email_and_mails_only_an_active_account() {
    let app = app().await;
    let email = address("ada");
    register(&app, &email).await;
    let stranger = address("nobody");
    let known = app
        .post("/auth/password/forgot", &json!({"email": email}), None)
        .await;
    let unknown = app
        .post("/auth/password/forgot", &json!({"email": stranger}), None)
        .await;
    known.assert_status(202);
    unknown.assert_status(202);
    assert_eq!(known.text, unknown.text);
    assert!(mail(&stranger).await.is_empty());
    let sent = mail(&email).await;
    assert_eq!(sent.len(), 2, "the verification email, then the reset");
    assert_eq!(sent[1].subject, "Reset your password");
    assert!(sent[1].link_token("/auth/password/reset").is_some());
    // A deactivated account gets the same answer and no email.
    let inactive = app.user(kitchen::domain::Role::Customer).await;
    app.db()
        .set_role(
            &inactive.user.id,
            kitchen::domain::Role::Customer,
            false,
            None,
            kitchen::now(),
        )
        .await
        .unwrap();
    let inactive_email = inactive.user.email.as_ref().unwrap().to_string();
    app.post(
        "/auth/password/forgot",
        &json!({"email": inactive_email}),
        None,
    )
    .await
    .assert_status(202);
    assert!(mail(&inactive_email).await.is_empty());
    // Bad input is still a 400.
    for bad in [
        json!({}),
        json!({"email": "not-an-email"}),
        json!({"email": email, "x": 1}),
    ] {
        app.post("/auth/password/forgot", &bad, None)
            .await
            .assert_problem(400);
    }
}

#[tokio::test]
async fn at_most_three_reset_emails_an_hour_go_to_one_address() {
    let app = app().await;
    let caller = app.user(kitchen::domain::Role::Customer).await;
    let email = caller.user.email.as_ref().unwrap().to_string();
    for _ in 0..5 {
        app.post("/auth/password/forgot", &json!({"email": email}), None)
            .await
            .assert_status(202);
    }
    assert_eq!(mail(&email).await.len(), 3);
}

#[tokio::test]
async fn a_reset_sets_the_password_ends_every_session_and_verifies_the_email() {
    let app = app().await;
    let email = address("ada");
    let first = register(&app, &email).await;
    let second = app
        .post("/auth/login", &login(&email, PASSWORD), None)
        .await;
    second.assert_status(200);
    app.post("/auth/password/forgot", &json!({"email": email}), None)
        .await
        .assert_status(202);
    let reset_token = last_link(&email, "/auth/password/reset").await;
    // The link opens a form that carries the token.
    let form = app
        .get(&format!("/auth/password/reset?token={reset_token}"), None)
        .await;
    form.assert_status(200);
    assert!(form.text.contains("<form"), "{}", form.text);
    assert!(form.text.contains(&reset_token));
    let policy = form.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'sha256-"), "{policy}");
    let new_password = "an entirely new password";
    app.post(
        "/auth/password/reset",
        &json!({"token": reset_token, "new_password": new_password}),
        None,
    )
    .await
    .assert_status(204);
    // Every session ended: both access tokens and both refresh tokens.
    for signed_in in [&first, &second.json] {
        app.get("/me", Some(&token(signed_in, "access_token")))
            .await
            .assert_problem(401);
        app.post(
            "/auth/refresh",
            &json!({"refresh_token": token(signed_in, "refresh_token")}),
            None,
        )
        .await
        .assert_problem(401);
    }
    app.post("/auth/login", &login(&email, PASSWORD), None)
        .await
        .assert_problem(401);
    let signed_in = app
        .post("/auth/login", &login(&email, new_password), None)
        .await;
    signed_in.assert_status(200);
    assert_eq!(signed_in.json["user"]["email_verified"], true);
    // Used once: the link and the form are gone.
    app.post(
        "/auth/password/reset",
        &json!({"token": reset_token, "new_password": "yet another password"}),
        None,
    )
    .await
    .assert_problem(400);
    let gone = app
        .get(&format!("/auth/password/reset?token={reset_token}"), None)
        .await;
    gone.assert_status(400);
    assert!(gone.text.contains("does not work"));
}

#[tokio::test]
async fn a_reset_token_that_is_expired_replaced_or_made_up_changes_nothing() {
    let app = app().await;
    let caller = app.user(kitchen::domain::Role::Customer).await;
    let email = caller.user.email.clone().unwrap();
    // Sent 31 minutes ago.
    let expired = LinkToken::generate(caller.user.id.clone());
    let half_an_hour_ago = kitchen::now() - time::Duration::minutes(31);
    sent_at(
        &app,
        &expired,
        &email,
        Purpose::ResetPassword,
        half_an_hour_ago,
    )
    .await;
    let attempt =
        |token: String| json!({"token": token, "new_password": "an entirely new password"});
    app.post("/auth/password/reset", &attempt(expired.expose()), None)
        .await
        .assert_problem(400);
    // Two reset emails: only the latest link works.
    for _ in 0..2 {
        app.post(
            "/auth/password/forgot",
            &json!({"email": email.to_string()}),
            None,
        )
        .await
        .assert_status(202);
    }
    let sent = mail(email.as_str()).await;
    let older = sent[0].link_token("/auth/password/reset").unwrap();
    app.post("/auth/password/reset", &attempt(older), None)
        .await
        .assert_problem(400);
    // Made up, or a verification token where a reset one is wanted.
    app.post(
        "/auth/password/reset",
        &attempt(LinkToken::generate(caller.user.id.clone()).expose()),
        None,
    )
    .await
    .assert_problem(400);
    app.post("/auth/password/reset", &attempt("junk".into()), None)
        .await
        .assert_problem(400);
    // Bad bodies.
    let latest = sent[1].link_token("/auth/password/reset").unwrap();
    for bad in [
        json!({"token": latest}),
        json!({"token": latest, "new_password": "short"}),
        json!({"token": latest, "new_password": "long enough here", "extra": true}),
    ] {
        app.post("/auth/password/reset", &bad, None)
            .await
            .assert_problem(400);
    }
    // Nothing changed: the old password and session still work.
    app.get("/me", Some(&caller.access_token))
        .await
        .assert_status(200);
    app.post("/auth/login", &login(email.as_str(), TEST_PASSWORD), None)
        .await
        .assert_status(200);
    // The reset page of a bad link says so.
    app.get("/auth/password/reset?token=junk", None)
        .await
        .assert_status(400);
    app.get("/auth/password/reset", None)
        .await
        .assert_status(400);
}

// ---------------------------------------------------------------- throttle

#[tokio::test]
async fn concurrent_wrong_passwords_get_at_most_the_limit_of_checks() {
    let app = TestApp::builder()
        .parameter("LoginMaxFailures", "5")
        .spawn(auth::FUNCTION)
        .await;
    let caller = app.user(kitchen::domain::Role::Customer).await;
    let email = caller.user.email.as_ref().unwrap().to_string();
    let wrong = login(&email, "not the password");
    let responses =
        futures::future::join_all((0..20).map(|_| app.post("/auth/login", &wrong, None))).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "only five guesses are checked: {statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        15,
        "{statuses:?}"
    );
    // The right password is refused too until the window ends.
    app.post("/auth/login", &login(&email, TEST_PASSWORD), None)
        .await
        .assert_problem(429);
}

// ---------------------------------------------------------------- revocation

#[tokio::test]
async fn a_sign_in_that_read_the_old_credentials_leaves_no_live_session_after_a_password_change() {
    let app = app().await;
    let caller = app.user(kitchen::domain::Role::Customer).await;
    // A sign-in began before the change: it read the user (and its credential version) then.
    let before = app.db().get_user(&caller.user.id).await.unwrap().unwrap();
    app.post(
        "/me/password",
        &json!({"current_password": TEST_PASSWORD, "new_password": "a brand new password"}),
        Some(&caller.access_token),
    )
    .await
    .assert_status(204);
    // ...and stores its session only now, after the change.
    let session_id = SessionId::new();
    let refresh = RefreshToken::generate(before.id.clone(), session_id.clone());
    let config = &app.state.config;
    let late = Session::start(
        &before,
        session_id.clone(),
        refresh.hash(),
        kitchen::now(),
        config.refresh_token_ttl,
        config.session_max_age,
    );
    app.db().put_session(&late).await.unwrap();
    let access = app
        .state
        .tokens()
        .unwrap()
        .issue_access(&before.id, &session_id, before.role, kitchen::now())
        .unwrap();
    app.get("/me", Some(&access)).await.assert_problem(401);
    app.post(
        "/auth/refresh",
        &json!({"refresh_token": refresh.expose()}),
        None,
    )
    .await
    .assert_problem(401);
    // The caller who changed it stays signed in.
    app.get("/me", Some(&caller.access_token))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_made_up_refresh_token_naming_a_real_session_revokes_nothing() {
    let app = app().await;
    let email = address("ada");
    let body = register(&app, &email).await;
    let real = RefreshToken::parse(&token(&body, "refresh_token")).unwrap();
    // Anyone who saw an access token knows its user and session ids.
    let forged = RefreshToken::generate(real.user_id.clone(), real.session_id.clone());
    let response = app
        .post(
            "/auth/refresh",
            &json!({"refresh_token": forged.expose()}),
            None,
        )
        .await;
    response.assert_problem(401);
    assert_eq!(response.json["detail"], "refresh token invalid or expired");
    // The session lives on: its access and refresh tokens still work.
    app.get("/me", Some(&token(&body, "access_token")))
        .await
        .assert_status(200);
    app.post(
        "/auth/refresh",
        &json!({"refresh_token": token(&body, "refresh_token")}),
        None,
    )
    .await
    .assert_status(200);
}

#[tokio::test]
async fn a_token_rotated_many_refreshes_ago_still_gives_the_theft_away() {
    let app = app().await;
    let body = register(&app, &address("ada")).await;
    let stolen = token(&body, "refresh_token");
    let mut current = stolen.clone();
    for _ in 0..5 {
        let rotated = app
            .post("/auth/refresh", &json!({"refresh_token": current}), None)
            .await;
        rotated.assert_status(200);
        current = token(&rotated.json, "refresh_token");
    }
    let reuse = app
        .post("/auth/refresh", &json!({"refresh_token": stolen}), None)
        .await;
    reuse.assert_problem(401);
    assert_eq!(
        reuse.json["detail"],
        "refresh token was already used; the session is revoked"
    );
    app.post("/auth/refresh", &json!({"refresh_token": current}), None)
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn account_email_bodies_mean_what_the_document_says() {
    let app = app().await;
    // A made-up token is well-formed to the document and refused by the API (400 naming the
    // token), as a made-up cursor is: the tests above cover those. Here: what the document allows
    // is not refused as malformed, and what it refuses is a 400.
    let token = LinkToken::generate(kitchen::domain::UserId::new()).expose();
    for (path, body) in [
        ("/auth/email/verify", json!({"token": null})),
        ("/auth/email/verify", json!({})),
        ("/auth/password/forgot", json!({"email": "Ada@Example.com"})),
        ("/auth/password/forgot", json!({"email": "ada@"})),
        ("/auth/password/forgot", json!({"email": null})),
        (
            "/auth/password/reset",
            json!({"token": token, "new_password": "x".repeat(129)}),
        ),
        (
            "/auth/password/reset",
            json!({"new_password": "long enough now"}),
        ),
    ] {
        let response = app
            .agrees_with_document(http::Method::POST, path, &body, None)
            .await;
        assert!(
            [202, 400].contains(&response.status.as_u16()),
            "{path} {body}: {}",
            response.text
        );
    }
}
