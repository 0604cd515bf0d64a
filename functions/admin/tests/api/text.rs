//! Dish names, customers' names and addresses are one line of visible text; descriptions may run
//! over lines. Control characters (line breaks and tabs in one-line text) and format characters
//! (bidirectional overrides, zero-width characters) are refused with a 400 naming the field; text
//! stored before the rule still reads, and an edit of another field keeps it.

use devkit::testing::{Caller, TestApp, dish, dish_stored_unchecked};
use kitchen::domain::Role;
use serde_json::{Value, json};

async fn app() -> (TestApp, Caller) {
    let app = TestApp::spawn(admin::FUNCTION).await;
    let admin = app.user(Role::Admin).await;
    (app, admin)
}

fn new_dish(app: &TestApp, name: &str, description: &str) -> Value {
    json!({
        "name": name, "description": description, "price": 250000, "currency": "NGN",
        "dish_type": "lunch", "available_from": app.today().to_string(),
    })
}

#[tokio::test]
async fn a_dish_name_with_a_line_break_or_a_direction_override_is_refused() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    for name in [
        "Jollof\nFREE DELIVERY",
        "Jollof\tRice",
        "\u{202E}ecir folloJ",
        "Jollof\u{200B}Rice",
        "\u{FEFF}Jollof",
    ] {
        let response = app
            .post("/admin/dishes", &new_dish(&app, name, ""), token)
            .await;
        response.assert_problem(400);
        assert_eq!(response.error_fields(), ["name"], "{name:?}");
    }
    let listed = app.get("/admin/dishes", token).await;
    assert_eq!(listed.json["items"], json!([]), "nothing was created");

    let created = app
        .post("/admin/dishes", &new_dish(&app, "Jollof Rice", ""), token)
        .await;
    created.assert_status(201);
    let path = format!("/admin/dishes/{}", created.json["id"].as_str().unwrap());
    for name in ["Jollof\nRice", "Jollof\u{2066}Rice"] {
        let response = app.patch(&path, &json!({"name": name}), token).await;
        response.assert_problem(400);
        assert_eq!(response.error_fields(), ["name"], "{name:?}");
    }
    assert_eq!(app.get(&path, token).await.json, created.json);
}

#[tokio::test]
async fn a_description_may_run_over_lines_but_hold_nothing_else_invisible() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    let description = "Smoky party jollof.\nServed with fried plantain.";
    let created = app
        .post(
            "/admin/dishes",
            &new_dish(&app, "Ọ̀fẹ̀ Akwụ", description),
            token,
        )
        .await;
    created.assert_status(201);
    assert_eq!(created.json["description"], description);
    assert_eq!(created.json["name"], "Ọ̀fẹ̀ Akwụ");
    let path = format!("/admin/dishes/{}", created.json["id"].as_str().unwrap());
    for bad in ["Tab\there", "Reversed \u{202E}text", "Zero\u{200D}width"] {
        let response = app.patch(&path, &json!({"description": bad}), token).await;
        response.assert_problem(400);
        assert_eq!(response.error_fields(), ["description"], "{bad:?}");
    }
    let changed = app
        .patch(&path, &json!({"description": "Two\nlines"}), token)
        .await;
    changed.assert_status(200);
    assert_eq!(changed.json["description"], "Two\nlines");
}

#[tokio::test]
async fn a_dish_stored_before_the_rule_still_reads_and_can_be_edited() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    let old = dish_stored_unchecked(
        &dish("Jollof", app.today()),
        "Jollof\nRice",
        "Smoky\u{202E} rice",
    );
    app.add_dishes(std::slice::from_ref(&old)).await;
    let path = format!("/admin/dishes/{}", old.id);
    let fetched = app.get(&path, token).await;
    fetched.assert_status(200);
    assert_eq!(fetched.json["name"], "Jollof\nRice");
    let menu = app.with_function(dishes::FUNCTION).await;
    menu.get("/dishes", None).await.assert_status(200);
    // Another field changes; the name stays as stored until it is itself changed.
    let repriced = app.patch(&path, &json!({"price": 300000}), token).await;
    repriced.assert_status(200);
    assert_eq!(repriced.json["name"], "Jollof\nRice");
    let renamed = app
        .patch(
            &path,
            &json!({"name": "Jollof Rice", "description": "Smoky rice"}),
            token,
        )
        .await;
    renamed.assert_status(200);
    assert_eq!(renamed.json["name"], "Jollof Rice");
    // The old name's claim moved with it: a new dish may not take the name.
    app.post("/admin/dishes", &new_dish(&app, "jollof rice", ""), token)
        .await
        .assert_problem(409);
}

#[tokio::test]
async fn a_phone_customer_s_name_or_address_with_a_control_or_format_character_is_refused() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    for (body, field) in [
        (
            json!({"first_name": "Mama\nCALL +2348000000000", "phone": "+2348031112222"}),
            "first_name",
        ),
        (
            json!({"first_name": "Mama", "last_name": "Put\u{202E}", "phone": "+2348031112222"}),
            "last_name",
        ),
        (
            json!({"first_name": "Mama", "phone": "+2348031112222", "address": "Yaba\nmarket"}),
            "address",
        ),
    ] {
        let response = app.post("/admin/users", &body, token).await;
        response.assert_problem(400);
        assert_eq!(response.error_fields(), [field], "{body}");
    }
    let created = app
        .post(
            "/admin/users",
            &json!({"first_name": "Ọ̀bí", "phone": "+2348031112222", "address": "Yaba market"}),
            token,
        )
        .await;
    created.assert_status(201);
    assert_eq!(created.json["first_name"], "Ọ̀bí");
    let path = format!("/admin/users/{}", created.json["id"].as_str().unwrap());
    let response = app
        .patch(&path, &json!({"last_name": "Put\u{2067}"}), token)
        .await;
    response.assert_problem(400);
    assert_eq!(response.error_fields(), ["last_name"]);
}
