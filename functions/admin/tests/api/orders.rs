//! Orders in the back office, against DynamoDB Local, with the events read back from moto.

use devkit::testing::{Caller, TestApp, dish};
use kitchen::{
    domain::Dish,
    domain::{Actor, OrderId, OrderStatus, Role, UserId},
    events::OrderEventKind,
};
use serde_json::{Value, json};

async fn app() -> (TestApp, Caller, Dish) {
    let app = TestApp::builder()
        .capture_events()
        .spawn(admin::FUNCTION)
        .await;
    let admin = app.user(Role::Admin).await;
    let jollof = dish("Jollof", app.today());
    app.add_dishes(std::slice::from_ref(&jollof)).await;
    (app, admin, jollof)
}

/// A phone-only customer, recorded through the back office.
pub(crate) async fn walk_in(app: &TestApp, admin: &Caller) -> String {
    let body = json!({"first_name": "Mama", "last_name": "Put", "phone": "+2348031112222"});
    let response = app
        .post("/admin/users", &body, Some(&admin.access_token))
        .await;
    response.assert_status(201);
    response.json["id"].as_str().unwrap().to_string()
}

pub(crate) fn order_for(app: &TestApp, user_id: &str, dish: &Dish) -> Value {
    json!({
        "user_id": user_id, "items": [{"dish_id": dish.id, "quantity": 2}],
        "delivery_date": app.today().to_string(), "delivery_address": "Yaba market",
    })
}

/// Moves an order along as the system (paid) or staff would, straight through the library.
pub(crate) async fn move_to(app: &TestApp, id: &str, status: OrderStatus, by: Actor) {
    let stored = app.stored_order(id).await;
    app.state
        .orders()
        .move_order(&stored, status, by, None)
        .await
        .unwrap();
}

/// Marks an order paid as a confirmed payment would.
async fn pay(app: &TestApp, id: &str) {
    move_to(app, id, OrderStatus::Paid, Actor::System).await;
}

/// A paid order, placed by staff for a new phone-only customer; its id.
async fn paid_order(app: &TestApp, admin: &Caller, dish: &Dish) -> String {
    let customer = walk_in(app, admin).await;
    let id = app
        .post(
            "/admin/orders",
            &order_for(app, &customer, dish),
            Some(&admin.access_token),
        )
        .await
        .json["id"]
        .as_str()
        .unwrap()
        .to_string();
    pay(app, &id).await;
    id
}

#[tokio::test]
async fn staff_place_an_order_for_a_phone_customer_who_gets_the_sms() {
    let (app, admin, jollof) = app().await;
    let customer = walk_in(&app, &admin).await;
    let response = app
        .post(
            "/admin/orders",
            &order_for(&app, &customer, &jollof),
            Some(&admin.access_token),
        )
        .await;
    response.assert_status(201);
    assert_eq!(response.json["placed_by"], "admin");
    assert_eq!(response.json["user_id"], customer.as_str());
    assert_eq!(response.json["total"], 500_000);
    assert_eq!(response.json["status_history"][0]["by"], "admin");
    let id = response.json["id"].as_str().unwrap();
    assert_eq!(
        response.headers["location"],
        format!("/admin/orders/{id}").as_str()
    );
    let events = app.published_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, OrderEventKind::Placed);
    assert_eq!(events[0].phone.as_ref().unwrap().as_str(), "+2348031112222");
    assert_eq!(events[0].customer_name.as_deref(), Some("Mama Put"));
    let shown = app
        .get(&format!("/admin/orders/{id}"), Some(&admin.access_token))
        .await;
    assert_eq!(shown.json, response.json);
}

#[tokio::test]
async fn staff_place_orders_for_a_customer_whose_email_is_not_verified() {
    let (app, admin, jollof) = app().await;
    let customer = app.unverified_user().await;
    let response = app
        .post(
            "/admin/orders",
            &order_for(&app, customer.user.id.as_str(), &jollof),
            Some(&admin.access_token),
        )
        .await;
    response.assert_status(201);
    assert_eq!(response.json["placed_by"], "admin");
}

#[tokio::test]
async fn staff_orders_need_a_real_customer_and_valid_lines() {
    let (app, admin, jollof) = app().await;
    let token = Some(admin.access_token.as_str());
    let customer = walk_in(&app, &admin).await;
    let unknown = app
        .post(
            "/admin/orders",
            &order_for(&app, &UserId::new().to_string(), &jollof),
            token,
        )
        .await;
    unknown.assert_problem(422);
    assert_eq!(unknown.error_fields(), ["user_id"]);
    let mut no_items = order_for(&app, &customer, &jollof);
    no_items["items"] = json!([]);
    app.post("/admin/orders", &no_items, token)
        .await
        .assert_problem(400);
    let mut priced = order_for(&app, &customer, &jollof);
    priced["items"][0]["unit_price"] = json!(1);
    app.post("/admin/orders", &priced, token)
        .await
        .assert_problem(400);
    let mut bad_user = order_for(&app, &customer, &jollof);
    bad_user["user_id"] = json!("someone");
    app.post("/admin/orders", &bad_user, token)
        .await
        .assert_problem(400);
    assert!(app.published_events().await.is_empty());
}

#[tokio::test]
async fn the_dispatch_list_filters_by_day_status_and_customer() {
    let (app, admin, jollof) = app().await;
    let token = Some(admin.access_token.as_str());
    let (a, b) = (
        walk_in(&app, &admin).await,
        app.user(Role::Customer).await.user.id.to_string(),
    );
    let mut tomorrow_dish = jollof.clone();
    tomorrow_dish.id = kitchen::domain::DishId::new();
    let mut ids = Vec::new();
    for (user, days) in [(&a, 0), (&b, 0), (&a, 1), (&b, 1), (&a, 1)] {
        let mut body = order_for(&app, user, &jollof);
        body["delivery_date"] = json!(app.today().add_days(days).to_string());
        let response = app.post("/admin/orders", &body, token).await;
        response.assert_status(201);
        ids.push(response.json["id"].as_str().unwrap().to_string());
    }
    pay(&app, &ids[2]).await;
    let tomorrow = app.today().add_days(1);
    let (day, _) = app
        .collect_pages(
            &format!("/admin/orders?delivery_date={tomorrow}&limit=2"),
            token,
        )
        .await;
    assert_eq!(day.len(), 3);
    assert!(
        day.iter()
            .all(|o| o["delivery_date"] == tomorrow.to_string().as_str())
    );
    let (paid, _) = app.collect_pages("/admin/orders?status=paid", token).await;
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0]["id"], ids[2].as_str());
    let (paid_tomorrow, _) = app
        .collect_pages(
            &format!("/admin/orders?status=paid&delivery_date={tomorrow}"),
            token,
        )
        .await;
    assert_eq!(paid_tomorrow.len(), 1);
    let (of_a, _) = app
        .collect_pages(&format!("/admin/orders?user_id={a}"), token)
        .await;
    assert_eq!(of_a.len(), 3);
    let (of_a_tomorrow, _) = app
        .collect_pages(
            &format!("/admin/orders?user_id={a}&delivery_date={tomorrow}"),
            token,
        )
        .await;
    assert_eq!(of_a_tomorrow.len(), 2);
    let (all, pages) = app.collect_pages("/admin/orders?limit=2", token).await;
    assert_eq!((all.len(), pages), (5, 3));
    for bad in [
        "status=lost",
        "delivery_date=someday",
        "user_id=nobody",
        "limit=101",
        "cursor=x.y",
    ] {
        app.get(&format!("/admin/orders?{bad}"), token)
            .await
            .assert_problem(400);
    }
    app.get(&format!("/admin/orders/{}", OrderId::new()), token)
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn orders_move_along_their_life_and_nowhere_else() {
    let (app, admin, jollof) = app().await;
    let token = Some(admin.access_token.as_str());
    let customer = walk_in(&app, &admin).await;
    let id = app
        .post("/admin/orders", &order_for(&app, &customer, &jollof), token)
        .await
        .json["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/admin/orders/{id}/status");
    let set = |status: &str| json!({"status": status});
    // Unpaid: staff cannot start it.
    app.patch(&path, &set("preparing"), token)
        .await
        .assert_problem(409);
    for bad in [
        set("paid"),
        set("pending_payment"),
        set("eaten"),
        json!({"status": "preparing", "reason": "why"}),
        json!({}),
    ] {
        let response = app.patch(&path, &bad, token).await;
        assert_eq!(response.status, 400, "{bad}: {}", response.text);
    }
    pay(&app, &id).await;
    app.published_events().await;
    app.patch(&path, &set("delivered"), token)
        .await
        .assert_problem(409);
    for status in ["preparing", "out_for_delivery", "delivered"] {
        let response = app.patch(&path, &set(status), token).await;
        response.assert_status(200);
        assert_eq!(response.json["status"], status);
    }
    app.patch(&path, &set("cancelled"), token)
        .await
        .assert_problem(409);
    app.patch(&path, &set("preparing"), token)
        .await
        .assert_problem(409);
    let order = app.get(&format!("/admin/orders/{id}"), token).await.json;
    let history: Vec<_> = order["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        history,
        [
            "pending_payment",
            "paid",
            "preparing",
            "out_for_delivery",
            "delivered"
        ]
    );
    let kinds: Vec<_> = app
        .published_events()
        .await
        .into_iter()
        .map(|e| (e.kind, e.status))
        .collect();
    assert_eq!(
        kinds,
        [
            (OrderEventKind::StatusChanged, OrderStatus::Preparing),
            (OrderEventKind::StatusChanged, OrderStatus::OutForDelivery),
            (OrderEventKind::StatusChanged, OrderStatus::Delivered),
        ]
    );
    app.patch(
        &format!("/admin/orders/{}/status", OrderId::new()),
        &set("preparing"),
        token,
    )
    .await
    .assert_problem(404);
}

#[tokio::test]
async fn cancelling_a_paid_order_marks_a_refund_due() {
    let (app, admin, jollof) = app().await;
    let token = Some(admin.access_token.as_str());
    let customer = walk_in(&app, &admin).await;
    let id = app
        .post("/admin/orders", &order_for(&app, &customer, &jollof), token)
        .await
        .json["id"]
        .as_str()
        .unwrap()
        .to_string();
    pay(&app, &id).await;
    app.published_events().await;
    let response = app
        .patch(
            &format!("/admin/orders/{id}/status"),
            &json!({"status": "cancelled", "reason": "Out of yam"}),
            token,
        )
        .await;
    response.assert_status(200);
    assert_eq!(response.json["status"], "cancelled");
    assert_eq!(response.json["refund_due"], true);
    assert_eq!(response.json["cancel_reason"], "Out of yam");
    let events = app.published_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, OrderEventKind::Cancelled);
    // An unpaid order cancelled by staff owes nothing.
    let unpaid = app
        .post("/admin/orders", &order_for(&app, &customer, &jollof), token)
        .await
        .json["id"]
        .as_str()
        .unwrap()
        .to_string();
    let response = app
        .patch(
            &format!("/admin/orders/{unpaid}/status"),
            &json!({"status": "cancelled"}),
            token,
        )
        .await;
    assert_eq!(response.json["refund_due"], false);
}

#[tokio::test]
async fn a_status_change_whose_write_the_sdk_sent_again_after_it_committed_answers_200() {
    let (app, admin, jollof) = app().await;
    let id = paid_order(&app, &admin, &jollof).await;
    let order_id = OrderId::parse(&id).unwrap();
    let before = app.db().get_order(&order_id).await.unwrap().unwrap();
    app.published_events().await;
    let lossy = app.with_first_write_answer_lost(admin::FUNCTION).await;
    let response = lossy
        .patch(
            &format!("/admin/orders/{id}/status"),
            &json!({"status": "preparing"}),
            Some(&admin.access_token),
        )
        .await;
    // The retry's condition failed on the first attempt's own write: that is a success.
    response.assert_status(200);
    assert_eq!(response.json["status"], "preparing");
    let after = app.db().get_order(&order_id).await.unwrap().unwrap();
    assert_eq!(after.version, before.version + 1, "written once");
    assert_eq!(after.order.status, OrderStatus::Preparing);
    let events = app.published_events().await;
    assert_eq!(events.len(), 1, "announced once: {events:?}");
}

#[tokio::test]
async fn a_status_change_that_committed_answers_200_even_when_its_announcement_cannot_be_made() {
    let (app, admin, jollof) = app().await;
    let id = paid_order(&app, &admin, &jollof).await;
    app.published_events().await;
    // The table stops answering reads once the change is written, so the customer cannot be read
    // for the SMS.
    let failing = app.with_reads_failing_after_a_write(admin::FUNCTION).await;
    let response = failing
        .patch(
            &format!("/admin/orders/{id}/status"),
            &json!({"status": "preparing"}),
            Some(&admin.access_token),
        )
        .await;
    response.assert_status(200);
    assert_eq!(response.json["status"], "preparing");
    let stored = app.stored_order(&id).await;
    assert_eq!(stored.order.status, OrderStatus::Preparing);
    assert!(app.published_events().await.is_empty());
}

#[tokio::test]
async fn two_staff_racing_on_one_order_move_it_once() {
    let (app, admin, jollof) = app().await;
    let token = Some(admin.access_token.as_str());
    let id = paid_order(&app, &admin, &jollof).await;
    app.published_events().await;
    let path = format!("/admin/orders/{id}/status");
    let body = json!({"status": "preparing"});
    let responses = futures::future::join_all((0..4).map(|_| app.patch(&path, &body, token))).await;
    // One request writes the move. One that read the order before that write loses the version race
    // (409); one that read it after finds the status asked for and answers it unchanged (200).
    let statuses: Vec<u16> = responses.iter().map(|r| r.status.as_u16()).collect();
    assert!(
        statuses.iter().all(|s| [200, 409].contains(s)) && statuses.contains(&200),
        "{statuses:?}"
    );
    for response in responses.iter().filter(|r| r.status == 200) {
        assert_eq!(response.json["status"], "preparing");
    }
    let stored = app.stored_order(&id).await;
    let moves = stored
        .order
        .status_history
        .iter()
        .filter(|step| step.status == OrderStatus::Preparing)
        .count();
    assert_eq!(moves, 1, "{statuses:?}");
    let events = app.published_events().await;
    assert_eq!(events.len(), 1, "{statuses:?}: {events:?}");
}

#[tokio::test]
async fn order_routes_are_for_staff_only() {
    let (app, _admin, _) = app().await;
    let customer = app.user(Role::Customer).await;
    let id = OrderId::new();
    for (method, path) in [
        (http::Method::GET, "/admin/orders".to_string()),
        (http::Method::POST, "/admin/orders".to_string()),
        (http::Method::GET, format!("/admin/orders/{id}")),
        (http::Method::PATCH, format!("/admin/orders/{id}/status")),
    ] {
        let body = json!({});
        let with_body = matches!(method, http::Method::POST | http::Method::PATCH).then_some(&body);
        app.request(method.clone(), &path, with_body, None)
            .await
            .assert_problem(401);
        app.request(method, &path, with_body, Some(&customer.access_token))
            .await
            .assert_problem(403);
    }
}

#[tokio::test]
async fn status_and_order_bodies_mean_what_the_document_says() {
    let (app, admin, jollof) = app().await;
    let token = Some(admin.access_token.as_str());
    let customer = walk_in(&app, &admin).await;
    // 2.0 portions is 2 portions: JSON has one kind of number.
    let mut body = order_for(&app, &customer, &jollof);
    body["items"][0]["quantity"] = json!(2.0);
    let placed = app
        .agrees_with_document(http::Method::POST, "/admin/orders", &body, token)
        .await;
    placed.assert_status(201);
    assert_eq!(placed.json["items"][0]["quantity"], 2);
    let mut twice = order_for(&app, &customer, &jollof);
    twice["items"] =
        json!([{"dish_id": jollof.id, "quantity": 1}, {"dish_id": jollof.id, "quantity": 1}]);
    let refused = app
        .agrees_with_document(http::Method::POST, "/admin/orders", &twice, token)
        .await;
    refused.assert_problem(422);
    assert_eq!(refused.error_fields(), ["items[1].dish_id"]);

    let path = format!(
        "/admin/orders/{}/status",
        placed.json["id"].as_str().unwrap()
    );
    for bad in [
        json!({"status": "delivered", "reason": "Out of chicken"}),
        json!({"status": "cancelled", "reason": null}),
        json!({"status": "cancelled", "reason": "   "}),
        json!({"status": "cancelled", "reason": "bell\u{7}"}),
        json!({"status": "cancelled", "reason": "x".repeat(501)}),
    ] {
        app.agrees_with_document(http::Method::PATCH, &path, &bad, token)
            .await
            .assert_problem(400);
    }
    let cancelled = app
        .agrees_with_document(
            http::Method::PATCH,
            &path,
            &json!({"status": "cancelled", "reason": "  Out of chicken\ntoday "}),
            token,
        )
        .await;
    cancelled.assert_status(200);
    assert_eq!(cancelled.json["cancel_reason"], "Out of chicken\ntoday");
}

#[tokio::test]
async fn a_move_records_the_staff_member_and_their_note_which_the_customer_sees_without_the_id() {
    let (app, admin, jollof) = app().await;
    let customer = app.user(Role::Customer).await;
    let placed = app
        .post(
            "/admin/orders",
            &json!({
                "user_id": customer.user.id, "items": [{"dish_id": jollof.id, "quantity": 1}],
                "delivery_date": app.today().to_string(), "delivery_address": "Yaba market",
                "note": "Ring twice.\nNo pepper.",
            }),
            Some(&admin.access_token),
        )
        .await;
    placed.assert_status(201);
    assert_eq!(placed.json["note"], "Ring twice.\nNo pepper.");
    assert_eq!(
        placed.json["status_history"][0]["admin_id"],
        admin.user.id.as_str()
    );
    let id = placed.json["id"].as_str().unwrap().to_string();
    pay(&app, &id).await;
    let moved = app
        .patch(
            &format!("/admin/orders/{id}/status"),
            &json!({"status": "preparing", "note": "Started early for the noon run."}),
            Some(&admin.access_token),
        )
        .await;
    moved.assert_status(200);
    let step = &moved.json["status_history"][2];
    assert_eq!(step["by"], "admin");
    assert_eq!(step["note"], "Started early for the noon run.");
    assert_eq!(step["admin_id"], admin.user.id.as_str());
    assert_eq!(moved.json["status_history"][1]["note"], Value::Null);
    assert!(moved.json["status_history"][1].get("admin_id").is_none());
    // The customer's view: the note, and no staff member's id anywhere.
    let orders = app.with_function(orders::FUNCTION).await;
    let seen = orders
        .get(&format!("/orders/{id}"), Some(&customer.access_token))
        .await;
    seen.assert_status(200);
    assert_eq!(seen.json["note"], "Ring twice.\nNo pepper.");
    assert_eq!(
        seen.json["status_history"][2]["note"],
        "Started early for the noon run."
    );
    for step in seen.json["status_history"].as_array().unwrap() {
        assert!(step.get("admin_id").is_none(), "{step}");
    }
    let listed = orders.get("/orders", Some(&customer.access_token)).await;
    assert!(!listed.text.contains("admin_id"), "{}", listed.text);
}

#[tokio::test]
async fn asking_for_the_status_an_order_already_has_answers_it_unchanged() {
    let (app, admin, jollof) = app().await;
    let id = paid_order(&app, &admin, &jollof).await;
    let path = format!("/admin/orders/{id}/status");
    let token = Some(admin.access_token.as_str());
    let first = app
        .patch(&path, &json!({"status": "preparing"}), token)
        .await;
    first.assert_status(200);
    let order_id = OrderId::parse(&id).unwrap();
    let version = app
        .db()
        .get_order(&order_id)
        .await
        .unwrap()
        .unwrap()
        .version;
    app.published_events().await;
    // A retry (its first answer lost), even with a note: the order as it is, nothing written.
    let again = app
        .patch(
            &path,
            &json!({"status": "preparing", "note": "again"}),
            token,
        )
        .await;
    again.assert_status(200);
    assert_eq!(again.json, first.json);
    let stored = app.db().get_order(&order_id).await.unwrap().unwrap();
    assert_eq!(stored.version, version, "nothing written");
    assert!(app.published_events().await.is_empty(), "no second SMS");
    // Bad input is still refused first.
    app.patch(&path, &json!({"status": "preparing", "note": " "}), token)
        .await
        .assert_problem(400);
}

#[tokio::test]
async fn a_status_note_must_be_a_short_text() {
    let (app, admin, jollof) = app().await;
    let id = paid_order(&app, &admin, &jollof).await;
    let path = format!("/admin/orders/{id}/status");
    let token = Some(admin.access_token.as_str());
    for note in devkit::testing::not_notes() {
        let response = app
            .patch(&path, &json!({"status": "preparing", "note": note}), token)
            .await;
        response.assert_problem(400);
        assert_eq!(
            response.error_fields(),
            ["note"],
            "{note}: {}",
            response.text
        );
    }
    let order = app.stored_order(&id).await;
    assert_eq!(order.order.status, OrderStatus::Paid, "nothing changed");
    let longest = app
        .patch(
            &path,
            &json!({"status": "preparing", "note": "é".repeat(280)}),
            token,
        )
        .await;
    longest.assert_status(200);
}

#[tokio::test]
async fn a_move_reads_the_order_beside_the_staff_check_and_is_made_as_that_staff_member() {
    let (app, admin, jollof) = app().await;
    let id = paid_order(&app, &admin, &jollof).await;
    let (moved, line) = app
        .request_logged(
            http::Method::PATCH,
            &format!("/admin/orders/{id}/status"),
            Some(&json!({"status": "preparing"})),
            &admin.access_token,
        )
        .await;
    moved.assert_status(200);
    // The check and the order at once; then, once the move is written, the customer the SMS
    // goes to (three reads, two waits; it was three waits with the check first).
    assert_eq!(line["db_reads"], 3, "{line}");
    assert_eq!(line["db_waited"], 2, "{line}");
    let step = moved.json["status_history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(step["status"], "preparing");
    assert_eq!(step["admin_id"], json!(admin.user.id));
    // A customer's token moves nothing, and a deactivated staff member's neither.
    let customer = app.user(Role::Customer).await;
    let body = json!({"status": "out_for_delivery"});
    let path = format!("/admin/orders/{id}/status");
    app.patch(&path, &body, Some(&customer.access_token))
        .await
        .assert_problem(403);
    let other = app.user(Role::Admin).await;
    app.deactivate(&admin, &other).await;
    app.patch(&path, &body, Some(&other.access_token))
        .await
        .assert_problem(401);
    assert_eq!(
        app.stored_order(&id).await.order.status,
        OrderStatus::Preparing
    );
}
