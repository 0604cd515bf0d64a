//! The cart, against DynamoDB Local.

use devkit::testing::{Caller, TestApp, dish};
use kitchen::domain::{DishId, Price, Role};
use serde_json::{Value, json};

async fn app() -> (TestApp, Caller) {
    let app = TestApp::spawn(orders::FUNCTION).await;
    let caller = app.user(Role::Customer).await;
    (app, caller)
}

#[tokio::test]
async fn a_new_cart_is_empty_and_needs_a_token() {
    let (app, caller) = app().await;
    let cart = app.get("/cart", Some(&caller.access_token)).await;
    cart.assert_status(200);
    assert_eq!(
        cart.json,
        json!({"items": [], "total": 0, "currency": "NGN"})
    );
    app.get("/cart", None).await.assert_problem(401);
    app.post("/cart/items", &json!({}), None)
        .await
        .assert_problem(401);
    app.patch(
        &format!("/cart/items/{}", DishId::new()),
        &json!({"quantity": 1}),
        None,
    )
    .await
    .assert_problem(401);
    app.delete(&format!("/cart/items/{}", DishId::new()), None)
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn adding_a_dish_again_grows_its_line() {
    let (app, caller) = app().await;
    let token = Some(caller.access_token.as_str());
    let jollof = dish("Jollof", app.today());
    app.add_dishes(std::slice::from_ref(&jollof)).await;
    let first = app
        .post(
            "/cart/items",
            &json!({"dish_id": jollof.id, "quantity": 2}),
            token,
        )
        .await;
    first.assert_status(201);
    assert_eq!(first.json["dish_name"], "Jollof");
    assert_eq!(first.json["unit_price"], 250000);
    assert_eq!(first.json["line_total"], 500000);
    let again = app
        .post(
            "/cart/items",
            &json!({"dish_id": jollof.id, "quantity": 3}),
            token,
        )
        .await;
    again.assert_status(200);
    assert_eq!(again.json["id"], first.json["id"]);
    assert_eq!(again.json["quantity"], 5);
    let cart = app.get("/cart", token).await;
    assert_eq!(cart.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(cart.json["total"], 1_250_000);
}

#[tokio::test]
async fn the_cart_keeps_its_rules() {
    let (app, caller) = app().await;
    let token = Some(caller.access_token.as_str());
    let today = app.today();
    let dishes: Vec<_> = (0..21).map(|i| dish(&format!("Dish {i}"), today)).collect();
    let mut withdrawn = dish("Withdrawn", today);
    withdrawn.active = false;
    app.add_dishes(&dishes).await;
    app.add_dishes(std::slice::from_ref(&withdrawn)).await;
    for (body, field) in [
        (json!({"dish_id": dishes[0].id, "quantity": 0}), "quantity"),
        (json!({"dish_id": dishes[0].id, "quantity": 51}), "quantity"),
        (
            json!({"dish_id": dishes[0].id, "quantity": "2"}),
            "quantity",
        ),
        (
            json!({"dish_id": dishes[0].id, "quantity": 1, "unit_price": 1}),
            "unit_price",
        ),
        (json!({"dish_id": "nope", "quantity": 1}), "dish_id"),
        (json!({"quantity": 1}), "dish_id"),
    ] {
        let response = app.post("/cart/items", &body, token).await;
        response.assert_problem(400);
        assert_eq!(response.error_fields(), [field], "{body}");
    }
    let unknown = app
        .post(
            "/cart/items",
            &json!({"dish_id": DishId::new(), "quantity": 1}),
            token,
        )
        .await;
    unknown.assert_problem(422);
    app.post(
        "/cart/items",
        &json!({"dish_id": withdrawn.id, "quantity": 1}),
        token,
    )
    .await
    .assert_problem(422);
    app.post(
        "/cart/items",
        &json!({"dish_id": dishes[0].id, "quantity": 40}),
        token,
    )
    .await
    .assert_status(201);
    let too_many = app
        .post(
            "/cart/items",
            &json!({"dish_id": dishes[0].id, "quantity": 11}),
            token,
        )
        .await;
    too_many.assert_problem(422);
    assert_eq!(too_many.error_fields(), ["quantity"]);
    for d in &dishes[1..20] {
        app.post(
            "/cart/items",
            &json!({"dish_id": d.id, "quantity": 1}),
            token,
        )
        .await
        .assert_status(201);
    }
    app.post(
        "/cart/items",
        &json!({"dish_id": dishes[20].id, "quantity": 1}),
        token,
    )
    .await
    .assert_problem(422);
    let cart = app.get("/cart", token).await;
    assert_eq!(cart.json["items"].as_array().unwrap().len(), 20);
    assert_eq!(cart.json["items"][0]["quantity"], 40);
}

#[tokio::test]
async fn lines_change_and_go_and_only_their_owner_can_touch_them() {
    let (app, caller) = app().await;
    let token = Some(caller.access_token.as_str());
    let other = app.user(Role::Customer).await;
    let jollof = dish("Jollof", app.today());
    app.add_dishes(std::slice::from_ref(&jollof)).await;
    let line = app
        .post(
            "/cart/items",
            &json!({"dish_id": jollof.id, "quantity": 2}),
            token,
        )
        .await
        .json;
    let path = format!("/cart/items/{}", line["id"].as_str().unwrap());
    app.patch(&path, &json!({"quantity": 4}), Some(&other.access_token))
        .await
        .assert_problem(404);
    app.delete(&path, Some(&other.access_token))
        .await
        .assert_problem(404);
    let changed = app.patch(&path, &json!({"quantity": 4}), token).await;
    changed.assert_status(200);
    assert_eq!(changed.json["quantity"], 4);
    assert_eq!(changed.json["line_total"], 1_000_000);
    app.patch(&path, &json!({"quantity": 0}), token)
        .await
        .assert_problem(400);
    app.patch(&path, &json!({"quantity": 2, "dish_id": jollof.id}), token)
        .await
        .assert_problem(400);
    app.delete(&path, token).await.assert_status(204);
    app.delete(&path, token).await.assert_problem(404);
    app.patch("/cart/items/garbage", &json!({"quantity": 1}), token)
        .await
        .assert_problem(404);
    assert_eq!(app.get("/cart", token).await.json["items"], json!([]));
}

#[tokio::test]
async fn the_cart_shows_todays_prices() {
    let (app, caller) = app().await;
    let token = Some(caller.access_token.as_str());
    let jollof = dish("Jollof", app.today());
    app.add_dishes(std::slice::from_ref(&jollof)).await;
    app.post(
        "/cart/items",
        &json!({"dish_id": jollof.id, "quantity": 2}),
        token,
    )
    .await
    .assert_status(201);
    let stored = app.db().get_dish(&jollof.id).await.unwrap().unwrap();
    let dearer = kitchen::domain::Dish {
        price: Price::parse(300_000).unwrap(),
        ..stored.dish.clone()
    };
    app.db().replace_dish(&stored, &dearer).await.unwrap();
    let cart = app.get("/cart", token).await;
    assert_eq!(cart.json["items"][0]["unit_price"], 300000);
    assert_eq!(cart.json["total"], Value::from(600000));
}

#[tokio::test]
async fn cart_bodies_mean_what_the_document_says() {
    let (app, caller) = app().await;
    let token = Some(caller.access_token.as_str());
    let jollof = dish("Jollof", app.today());
    app.add_dishes(std::slice::from_ref(&jollof)).await;
    // 14.0 portions is 14 portions: JSON has one kind of number.
    let line = app
        .agrees_with_document(
            http::Method::POST,
            "/cart/items",
            &json!({"dish_id": jollof.id, "quantity": 14.0}),
            token,
        )
        .await;
    line.assert_status(201);
    assert_eq!(line.json["quantity"], 14);
    let path = format!("/cart/items/{}", line.json["id"].as_str().unwrap());
    for body in [
        json!({"quantity": 1.5}),
        json!({"quantity": "2"}),
        json!({"quantity": null}),
    ] {
        app.agrees_with_document(http::Method::PATCH, &path, &body, token)
            .await
            .assert_problem(400);
    }
    let changed = app
        .agrees_with_document(http::Method::PATCH, &path, &json!({"quantity": 3e0}), token)
        .await;
    changed.assert_status(200);
    assert_eq!(changed.json["quantity"], 3);
}
