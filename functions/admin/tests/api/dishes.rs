//! The back office's dish management, against DynamoDB Local.

use devkit::testing::{Caller, TestApp, dish};
use http::Method;
use kitchen::domain::Role;
use serde_json::{Value, json};
use std::collections::HashSet;

async fn app() -> (TestApp, Caller) {
    let app = TestApp::spawn(admin::FUNCTION).await;
    let admin = app.user(Role::Admin).await;
    (app, admin)
}

fn new_dish(name: &str, from: &str) -> Value {
    json!({
        "name": name, "description": "Smoky party jollof", "price": 250000, "currency": "NGN",
        "dish_type": "lunch", "tags": ["spicy", "rice", "spicy"], "available_from": from,
    })
}

#[tokio::test]
async fn every_admin_route_needs_a_token_and_the_admin_role() {
    let app = TestApp::spawn(admin::FUNCTION).await;
    let customer = app.user(Role::Customer).await;
    let id = kitchen::domain::DishId::new();
    let uid = kitchen::domain::UserId::new();
    let routes = [
        (Method::GET, "/admin/dishes".to_string()),
        (Method::POST, "/admin/dishes".to_string()),
        (Method::GET, format!("/admin/dishes/{id}")),
        (Method::PATCH, format!("/admin/dishes/{id}")),
        (Method::DELETE, format!("/admin/dishes/{id}")),
        (Method::GET, "/admin/users".to_string()),
        (Method::POST, "/admin/users".to_string()),
        (Method::GET, format!("/admin/users/{uid}")),
        (Method::PATCH, format!("/admin/users/{uid}")),
    ];
    let body = json!({});
    for (method, path) in routes {
        let with_body = matches!(method, Method::POST | Method::PATCH).then_some(&body);
        let anonymous = app.request(method.clone(), &path, with_body, None).await;
        assert_eq!(anonymous.status, 401, "{method} {path}: {}", anonymous.text);
        anonymous.assert_problem(401);
        let forbidden = app
            .request(
                method.clone(),
                &path,
                with_body,
                Some(&customer.access_token),
            )
            .await;
        assert_eq!(forbidden.status, 403, "{method} {path}: {}", forbidden.text);
        forbidden.assert_problem(403);
    }
}

#[tokio::test]
async fn creating_a_dish_returns_it_and_puts_it_on_the_menu() {
    let (app, admin) = app().await;
    let today = app.today().to_string();
    let response = app
        .post(
            "/admin/dishes",
            &new_dish("Party Jollof", &today),
            Some(&admin.access_token),
        )
        .await;
    response.assert_status(201);
    let dish = &response.json;
    assert_eq!(dish["name"], "Party Jollof");
    assert_eq!(dish["price"], 250000);
    assert_eq!(dish["currency"], "NGN");
    assert_eq!(dish["tags"], json!(["spicy", "rice"]));
    assert_eq!(dish["active"], true);
    assert_eq!(dish["available_until"], Value::Null);
    let menu = app.with_function(dishes::FUNCTION).await;
    let listed = menu.get("/dishes", None).await;
    assert_eq!(listed.json["items"][0]["id"], dish["id"]);
    let fetched = app
        .get(
            &format!("/admin/dishes/{}", dish["id"].as_str().unwrap()),
            Some(&admin.access_token),
        )
        .await;
    fetched.assert_status(200);
    assert_eq!(&fetched.json, dish);
}

#[tokio::test]
async fn dish_names_are_unique_ignoring_case_and_spacing() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    app.post(
        "/admin/dishes",
        &new_dish("Party Jollof", "2026-01-01"),
        token,
    )
    .await
    .assert_status(201);
    app.post(
        "/admin/dishes",
        &new_dish("  party   JOLLOF ", "2026-01-01"),
        token,
    )
    .await
    .assert_problem(409);
}

#[tokio::test]
async fn two_concurrent_creates_of_one_name_make_one_dish() {
    let (app, admin) = app().await;
    let body = new_dish("Ofada Stew", "2026-01-01");
    let attempts = (0..6).map(|_| app.post("/admin/dishes", &body, Some(&admin.access_token)));
    let responses = futures::future::join_all(attempts).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status.as_u16()).collect();
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
    let (all, _) = app
        .collect_pages("/admin/dishes", Some(&admin.access_token))
        .await;
    assert_eq!(all.len(), 1);
}

#[tokio::test]
async fn invalid_dishes_are_refused_with_the_field_at_fault() {
    let (app, admin) = app().await;
    let with = |field: &str, value: Value| {
        let mut body = new_dish("Egusi", "2026-01-01");
        body[field] = value;
        body
    };
    let mut missing_name = new_dish("Egusi", "2026-01-01");
    missing_name.as_object_mut().unwrap().remove("name");
    let cases = [
        (with("price", json!(0)), "price"),
        (with("price", json!(-100)), "price"),
        (with("price", json!(2500.5)), "price"),
        (with("price", json!("2500")), "price"),
        (with("currency", json!("USD")), "currency"),
        (with("dish_type", json!("brunch")), "dish_type"),
        (
            with("available_from", json!("2026-13-01")),
            "available_from",
        ),
        (with("tags", json!(["has space"])), "tags[0]"),
        (
            with(
                "tags",
                json!((0..11).map(|i| format!("t{i}")).collect::<Vec<_>>()),
            ),
            "tags",
        ),
        (with("colour", json!("red")), "colour"),
        (with("name", json!("")), "name"),
        (missing_name, "name"),
    ];
    for (body, field) in cases {
        let response = app
            .post("/admin/dishes", &body, Some(&admin.access_token))
            .await;
        response.assert_problem(400);
        assert_eq!(response.error_fields(), [field], "{body}");
    }
    // An end before the start matches the document's schema (it cannot compare two fields), so it
    // is a 422 naming the field.
    let backwards = app
        .post(
            "/admin/dishes",
            &with("available_until", json!("2025-12-31")),
            Some(&admin.access_token),
        )
        .await;
    backwards.assert_problem(422);
    assert_eq!(backwards.error_fields(), ["available_until"]);
    let (all, _) = app
        .collect_pages("/admin/dishes", Some(&admin.access_token))
        .await;
    assert!(all.is_empty(), "nothing was created");
}

#[tokio::test]
async fn patch_changes_any_field_and_keeps_names_unique() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    let created = app
        .post(
            "/admin/dishes",
            &new_dish("Egusi Soup", "2026-01-01"),
            token,
        )
        .await
        .json;
    app.post("/admin/dishes", &new_dish("Efo Riro", "2026-01-01"), token)
        .await
        .assert_status(201);
    let path = format!("/admin/dishes/{}", created["id"].as_str().unwrap());
    let changed = app
        .patch(&path, &json!({"price": 300000, "available_until": "2026-12-31", "tags": ["soup"], "dish_type": "dinner"}), token)
        .await;
    changed.assert_status(200);
    assert_eq!(changed.json["price"], 300000);
    assert_eq!(changed.json["available_until"], "2026-12-31");
    assert_eq!(changed.json["dish_type"], "dinner");
    assert_eq!(changed.json["created_at"], created["created_at"]);
    let open_ended = app
        .patch(&path, &json!({"available_until": null}), token)
        .await;
    assert_eq!(open_ended.json["available_until"], Value::Null);
    app.patch(&path, &json!({"name": "efo riro"}), token)
        .await
        .assert_problem(409);
    app.patch(
        &path,
        &json!({"available_from": "2027-01-02", "available_until": "2027-01-01"}),
        token,
    )
    .await
    .assert_problem(422);
    app.patch(&path, &json!({"price": 0}), token)
        .await
        .assert_problem(400);
    app.patch(&path, &json!({"id": "x"}), token)
        .await
        .assert_problem(400);
    // Renaming frees the old name.
    app.patch(&path, &json!({"name": "Egusi Deluxe"}), token)
        .await
        .assert_status(200);
    app.post(
        "/admin/dishes",
        &new_dish("Egusi Soup", "2026-01-01"),
        token,
    )
    .await
    .assert_status(201);
    let stored = app.get(&path, token).await;
    assert_eq!(stored.json["name"], "Egusi Deluxe");
    assert_eq!(stored.json["price"], 300000);
    let unknown = format!("/admin/dishes/{}", kitchen::domain::DishId::new());
    app.patch(&unknown, &json!({"price": 1}), token)
        .await
        .assert_problem(404);
    app.get(&unknown, token).await.assert_problem(404);
    app.get("/admin/dishes/garbage", token)
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn delete_deactivates_and_the_dish_leaves_the_menu() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    let today = app.today();
    let kept = dish("Akara", today);
    let withdrawn = dish("Boli", today);
    app.add_dishes(&[kept.clone(), withdrawn.clone()]).await;
    let path = format!("/admin/dishes/{}", withdrawn.id);
    app.request(Method::DELETE, &path, None, token)
        .await
        .assert_status(204);
    app.request(Method::DELETE, &path, None, token)
        .await
        .assert_status(204);
    let stored = app.get(&path, token).await;
    assert_eq!(stored.json["active"], false);
    let menu = app.with_function(dishes::FUNCTION).await;
    let listed = menu.get("/dishes", None).await;
    let ids: Vec<_> = listed.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].clone())
        .collect();
    assert_eq!(ids, [json!(kept.id.to_string())]);
    menu.get(&format!("/dishes/{}", withdrawn.id), None)
        .await
        .assert_problem(404);
    let inactive = app.get("/admin/dishes?active=false", token).await;
    assert_eq!(inactive.json["items"].as_array().unwrap().len(), 1);
    app.request(
        Method::DELETE,
        &format!("/admin/dishes/{}", kitchen::domain::DishId::new()),
        None,
        token,
    )
    .await
    .assert_problem(404);
    // Reactivating puts it back.
    app.patch(&path, &json!({"active": true}), token)
        .await
        .assert_status(200);
    assert_eq!(
        menu.get("/dishes", None).await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn the_back_office_lists_every_dish_newest_first_with_search_and_pages() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    let today = app.today();
    let mut dishes = Vec::new();
    for i in 0..12 {
        let mut d = dish(
            &format!("{} {i:02}", if i % 3 == 0 { "Pepper Soup" } else { "Rice" }),
            today,
        );
        d.active = i % 2 == 0;
        dishes.push(d);
    }
    app.add_dishes(&dishes).await;
    let (all, pages) = app.collect_pages("/admin/dishes?limit=5", token).await;
    assert_eq!((all.len(), pages), (12, 3));
    let ids: HashSet<_> = all.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 12);
    let newest_first: Vec<_> = dishes.iter().rev().map(|d| d.id.to_string()).collect();
    let listed: Vec<_> = all
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, newest_first);
    let (soups, _) = app
        .collect_pages("/admin/dishes?q=pepper&limit=2", token)
        .await;
    assert_eq!(soups.len(), 4);
    let (active_soups, _) = app
        .collect_pages("/admin/dishes?q=PEPPER&active=true", token)
        .await;
    assert_eq!(active_soups.len(), 2);
    app.get("/admin/dishes?active=maybe", token)
        .await
        .assert_problem(400);
    app.get("/admin/dishes?limit=500", token)
        .await
        .assert_problem(400);
    app.get("/admin/dishes?cursor=forged.cursor", token)
        .await
        .assert_problem(400);
}

#[tokio::test]
async fn dish_bodies_mean_what_the_document_says() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    let created = app
        .post("/admin/dishes", &new_dish("Egusi", "2026-01-01"), token)
        .await
        .json;
    let path = format!("/admin/dishes/{}", created["id"].as_str().unwrap());
    // A JSON array is not a patch, though serde alone would read one field by position into each.
    let array = app
        .send(
            http::Request::patch(path.as_str())
                .header("authorization", format!("Bearer {}", admin.access_token))
                .header("content-type", "application/json")
                .body(axum::body::Body::from("[null, null]"))
                .unwrap(),
        )
        .await;
    array.assert_problem(400);
    for body in [
        // null is not "leave it": only available_until is nullable.
        json!({"name": null}),
        json!({"price": null}),
        json!({"active": null}),
        json!({"price": 2500.5}),
        json!({"name": "tab\tin the name"}),
        json!({"name": "   "}),
    ] {
        app.agrees_with_document(Method::PATCH, &path, &body, token)
            .await
            .assert_problem(400);
    }
    // JSON has one kind of number: 110066.0 is the whole number 110066.
    let whole = app
        .agrees_with_document(Method::PATCH, &path, &json!({"price": 110066.0}), token)
        .await;
    whole.assert_status(200);
    assert_eq!(whole.json["price"], 110066);
    let mut with_null_description = new_dish("Efo", "2026-01-01");
    with_null_description["description"] = Value::Null;
    app.agrees_with_document(Method::POST, "/admin/dishes", &with_null_description, token)
        .await
        .assert_problem(400);
    let mut open_ended = new_dish("Efo", "2026-01-01");
    open_ended["available_until"] = Value::Null;
    app.agrees_with_document(Method::POST, "/admin/dishes", &open_ended, token)
        .await
        .assert_status(201);
}

#[tokio::test]
async fn tags_mean_what_the_document_says() {
    let (app, admin) = app().await;
    let token = Some(admin.access_token.as_str());
    let with_tags = |tags: Value| {
        let mut body = new_dish("Egusi", "2026-01-01");
        body["tags"] = tags;
        body
    };
    // A repeat, in any case, is kept once; the limit counts the tags as sent.
    let created = app
        .agrees_with_document(
            Method::POST,
            "/admin/dishes",
            &with_tags(json!(["Spicy", "soup", "spicy"])),
            token,
        )
        .await;
    created.assert_status(201);
    assert_eq!(created.json["tags"], json!(["spicy", "soup"]));
    let eleven: Vec<&str> = std::iter::repeat_n("soup", 11).collect();
    for tags in [json!(eleven), json!([" spicy"]), json!(["gluten free"])] {
        app.agrees_with_document(Method::POST, "/admin/dishes", &with_tags(tags), token)
            .await
            .assert_problem(400);
    }
}
