//! The back office's user management, against DynamoDB Local.

use devkit::testing::{TEST_PASSWORD, TestApp};
use http::Method;
use kitchen::domain::{Role, UserId};
use serde_json::{Value, json};

async fn app() -> (TestApp, devkit::testing::Caller) {
    let app = TestApp::spawn(admin::FUNCTION).await;
    let admin = app.user(Role::Admin).await;
    (app, admin)
}

async fn auth_app(app: &TestApp) -> TestApp {
    app.with_function(auth::FUNCTION).await
}

#[tokio::test]
async fn staff_record_a_phone_only_customer_who_cannot_sign_in() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    let body = json!({"first_name": "Mama", "last_name": "Put", "phone": "+2348031112222", "address": "Yaba market"});
    let response = app.post("/admin/users", &body, token).await;
    response.assert_status(201);
    assert_eq!(response.json["email"], Value::Null);
    assert_eq!(response.json["role"], "customer");
    assert_eq!(response.json["phone"], "+2348031112222");
    let id = response.json["id"].as_str().unwrap();
    let fetched = app.get(&format!("/admin/users/{id}"), token).await;
    assert_eq!(fetched.json, response.json);
    // With an email but no password, sign-in still fails like any wrong password.
    let with_email =
        json!({"first_name": "Bola", "phone": "+2348031113333", "email": "bola@example.com"});
    app.post("/admin/users", &with_email, token)
        .await
        .assert_status(201);
    let login = auth_app(&app)
        .await
        .post(
            "/auth/login",
            &json!({"email": "bola@example.com", "password": "anything at all"}),
            None,
        )
        .await;
    login.assert_problem(401);
    app.post("/admin/users", &with_email, token)
        .await
        .assert_problem(409);
}

#[tokio::test]
async fn recording_a_customer_refuses_bad_input() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    for (body, field) in [
        (json!({"first_name": "Mama"}), "phone"),
        (json!({"phone": "+2348031112222"}), "first_name"),
        (
            json!({"first_name": "Mama", "phone": "08031112222"}),
            "phone",
        ),
        (
            json!({"first_name": "Mama", "phone": "+2348031112222", "password": "x"}),
            "password",
        ),
        (
            json!({"first_name": "Mama", "phone": "+2348031112222", "role": "admin"}),
            "role",
        ),
        (
            json!({"first_name": "Mama", "phone": "+2348031112222", "email": "nope"}),
            "email",
        ),
    ] {
        let response = app.post("/admin/users", &body, token).await;
        response.assert_problem(400);
        assert_eq!(response.error_fields(), [field], "{body}");
    }
}

#[tokio::test]
async fn users_are_listed_newest_first_over_pages_and_searchable() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    let people = [
        ("Adaeze", "Okafor", "+2348030000001"),
        ("Tunde", "Bakare", "+2348030000002"),
        ("Ngozi", "Adeyemi", "+2348030000003"),
        ("Tunde", "Okafor", "+2348030000004"),
    ];
    for (first, last, phone) in people {
        app.post(
            "/admin/users",
            &json!({"first_name": first, "last_name": last, "phone": phone}),
            token,
        )
        .await
        .assert_status(201);
    }
    for _ in 0..3 {
        app.user(Role::Customer).await;
    }
    let (all, pages) = app.collect_pages("/admin/users?limit=3", token).await;
    assert_eq!((all.len(), pages), (8, 3));
    let ids: Vec<&str> = all.iter().map(|u| u["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted, "newest first");
    let search = |q: &str| {
        let app = &app;
        let q = q.to_string();
        async move {
            let (found, _) = app
                .collect_pages(&format!("/admin/users?q={q}&limit=2"), token)
                .await;
            let mut names: Vec<String> = found
                .iter()
                .map(|u| {
                    format!(
                        "{} {}",
                        u["first_name"].as_str().unwrap_or(""),
                        u["last_name"].as_str().unwrap_or("")
                    )
                })
                .collect();
            names.sort();
            names
        }
    };
    assert_eq!(search("okafor").await, ["Adaeze Okafor", "Tunde Okafor"]);
    assert_eq!(search("TUNDE%20oka").await, ["Tunde Okafor"]);
    assert_eq!(search("0000003").await, ["Ngozi Adeyemi"]);
    let email = admin.user.email.as_ref().unwrap().as_str().to_string();
    let (by_email, _) = app
        .collect_pages(&format!("/admin/users?q={email}"), token)
        .await;
    assert_eq!(by_email.len(), 1);
    assert_eq!(search("nobody-matches-this").await, Vec::<String>::new());
    app.get("/admin/users?limit=0", token)
        .await
        .assert_problem(400);
    app.get("/admin/users?cursor=abc.def", token)
        .await
        .assert_problem(400);
    app.get(&format!("/admin/users/{}", UserId::new()), token)
        .await
        .assert_problem(404);
    app.get("/admin/users/not-an-id", token)
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn deactivating_a_user_ends_their_sessions_at_once() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    let customer = app.user(Role::Customer).await;
    let auth = auth_app(&app).await;
    auth.get("/me", Some(&customer.access_token))
        .await
        .assert_status(200);
    let path = format!("/admin/users/{}", customer.user.id);
    let response = app.patch(&path, &json!({"active": false}), token).await;
    response.assert_status(200);
    assert_eq!(response.json["active"], false);
    auth.get("/me", Some(&customer.access_token))
        .await
        .assert_problem(401);
    auth.post(
        "/auth/refresh",
        &json!({"refresh_token": customer.refresh_token}),
        None,
    )
    .await
    .assert_problem(401);
    let email = customer.user.email.as_ref().unwrap().as_str();
    auth.post(
        "/auth/login",
        &json!({"email": email, "password": TEST_PASSWORD}),
        None,
    )
    .await
    .assert_problem(403);
    // Reactivated, they can sign in again.
    app.patch(&path, &json!({"active": true}), token)
        .await
        .assert_status(200);
    auth.post(
        "/auth/login",
        &json!({"email": email, "password": TEST_PASSWORD}),
        None,
    )
    .await
    .assert_status(200);
}

#[tokio::test]
async fn a_role_change_ends_the_sessions_made_under_the_old_role() {
    let (app, admin) = app().await;
    let auth = auth_app(&app).await;
    let customer = app.user(Role::Customer).await;
    app.get("/admin/users", Some(&customer.access_token))
        .await
        .assert_problem(403);
    let path = format!("/admin/users/{}", customer.user.id);
    app.patch(&path, &json!({"role": "admin"}), Some(&admin.access_token))
        .await
        .assert_status(200);
    // A token of the customer's session does not become a staff token: the session ended.
    app.get("/admin/users", Some(&customer.access_token))
        .await
        .assert_problem(401);
    auth.post(
        "/auth/refresh",
        &json!({"refresh_token": customer.refresh_token}),
        None,
    )
    .await
    .assert_problem(401);
    // Signed in again, they have the back office.
    let email = customer.user.email.as_ref().unwrap().as_str();
    let signed_in = auth
        .post(
            "/auth/login",
            &json!({"email": email, "password": TEST_PASSWORD}),
            None,
        )
        .await;
    signed_in.assert_status(200);
    let staff_token = signed_in.json["access_token"].as_str().unwrap().to_string();
    app.get("/admin/users", Some(&staff_token))
        .await
        .assert_status(200);
    // Demoted, that staff session ends too.
    app.patch(
        &path,
        &json!({"role": "customer"}),
        Some(&admin.access_token),
    )
    .await
    .assert_status(200);
    app.get("/admin/users", Some(&staff_token))
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn an_admin_cannot_deactivate_or_demote_themself() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    let path = format!("/admin/users/{}", admin.user.id);
    app.patch(&path, &json!({"active": false}), token)
        .await
        .assert_problem(409);
    app.patch(&path, &json!({"role": "customer"}), token)
        .await
        .assert_problem(409);
    let renamed = app
        .patch(&path, &json!({"first_name": "Chef"}), token)
        .await;
    renamed.assert_status(200);
    assert_eq!(renamed.json["role"], "admin");
    assert_eq!(renamed.json["active"], true);
}

#[tokio::test]
async fn patching_a_user_changes_the_fields_given_and_refuses_others() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    let customer = app.user(Role::Customer).await;
    let path = format!("/admin/users/{}", customer.user.id);
    let changed = app
        .patch(&path, &json!({"first_name": "Kemi", "last_name": "Ade", "phone": "+2348035550000", "address": "Ikeja"}), token)
        .await;
    changed.assert_status(200);
    assert_eq!(changed.json["first_name"], "Kemi");
    assert_eq!(changed.json["phone"], "+2348035550000");
    let (found, _) = app.collect_pages("/admin/users?q=kemi", token).await;
    assert_eq!(found.len(), 1, "search sees the new name");
    let cleared = app.patch(&path, &json!({"phone": null}), token).await;
    assert_eq!(cleared.json["phone"], Value::Null);
    for (body, field) in [
        (json!({"email": "x@example.com"}), "email"),
        (json!({"password": "new password"}), "password"),
        (json!({"role": "chef"}), "role"),
        (json!({"active": "no"}), "active"),
        (json!({"phone": "123"}), "phone"),
    ] {
        let response = app.patch(&path, &body, token).await;
        response.assert_problem(400);
        assert_eq!(response.error_fields(), [field], "{body}");
    }
    app.patch(
        &format!("/admin/users/{}", UserId::new()),
        &json!({"first_name": "X"}),
        token,
    )
    .await
    .assert_problem(404);
    app.request(Method::PATCH, &path, None, token)
        .await
        .assert_problem(400);
}

#[tokio::test]
async fn staff_stop_and_resume_order_sms_for_a_phone_only_customer() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    let recorded = app
        .post(
            "/admin/users",
            &json!({"first_name": "Mama", "phone": "+2348031112222"}),
            token,
        )
        .await;
    recorded.assert_status(201);
    assert_eq!(recorded.json["sms_opt_out"], false);
    let path = format!("/admin/users/{}", recorded.json["id"].as_str().unwrap());
    let stopped = app.patch(&path, &json!({"sms_opt_out": true}), token).await;
    stopped.assert_status(200);
    assert_eq!(stopped.json["sms_opt_out"], true);
    assert_eq!(app.get(&path, token).await.json["sms_opt_out"], true);
    let (listed, _) = app.collect_pages("/admin/users?q=mama", token).await;
    assert_eq!(listed[0]["sms_opt_out"], true, "the list shows it too");
    let response = app.patch(&path, &json!({"sms_opt_out": null}), token).await;
    response.assert_problem(400);
    assert_eq!(response.error_fields(), ["sms_opt_out"]);
    let resumed = app
        .patch(&path, &json!({"sms_opt_out": false}), token)
        .await;
    resumed.assert_status(200);
    assert_eq!(resumed.json["sms_opt_out"], false);
}

#[tokio::test]
async fn staff_cannot_set_the_sms_opt_out_of_a_user_with_an_email() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    let customer = app.user(Role::Customer).await;
    let path = format!("/admin/users/{}", customer.user.id);
    let response = app
        .patch(
            &path,
            &json!({"sms_opt_out": true, "first_name": "Kemi"}),
            token,
        )
        .await;
    response.assert_problem(422);
    assert_eq!(response.error_fields(), ["sms_opt_out"]);
    let stored = app.db().get_user(&customer.user.id).await.unwrap().unwrap();
    assert!(
        !stored.sms_opt_out && stored.first_name.is_none(),
        "nothing changed"
    );
    // A customer is not staff, and no token is no one.
    let body = json!({"sms_opt_out": true});
    app.patch(&path, &body, Some(&customer.access_token))
        .await
        .assert_problem(403);
    app.patch(&path, &body, None).await.assert_problem(401);
}

#[tokio::test]
async fn customer_bodies_mean_what_the_document_says() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    let base = json!({"first_name": "Mama", "phone": "+2348031112222"});
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    // Optional fields may be left out, not sent as null.
    for body in [
        with("email", Value::Null),
        with("address", Value::Null),
        with("last_name", json!("Put\u{1b}[31m")),
        with("address", json!(" \n ")),
        with("address", json!("Yaba\nLagos")),
    ] {
        app.agrees_with_document(Method::POST, "/admin/users", &body, token)
            .await
            .assert_problem(400);
    }
    let created = app
        .agrees_with_document(
            Method::POST,
            "/admin/users",
            &with("address", json!("Yaba, Lagos")),
            token,
        )
        .await;
    created.assert_status(201);
    let path = format!("/admin/users/{}", created.json["id"].as_str().unwrap());
    for body in [json!({"active": null}), json!({"role": null})] {
        app.agrees_with_document(Method::PATCH, &path, &body, token)
            .await
            .assert_problem(400);
    }
    // For the clearable fields, null clears.
    let cleared = app
        .agrees_with_document(Method::PATCH, &path, &json!({"address": null}), token)
        .await;
    cleared.assert_status(200);
    assert_eq!(cleared.json["address"], Value::Null);
}

#[tokio::test]
async fn a_blank_search_is_refused_as_the_document_says() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    for q in ["%09", "%20", "%E3%80%80"] {
        app.get(&format!("/admin/users?q={q}"), token)
            .await
            .assert_problem(400);
    }
    app.get("/admin/users?q=%20ada%09", token)
        .await
        .assert_status(200);
}
