//! Orders, against DynamoDB Local, with the events read back from moto.

use devkit::testing::{Caller, TestApp, dish};
use kitchen::{
    domain::Dish,
    domain::{OrderId, Price, Role},
    events::OrderEventKind,
};
use serde_json::{Value, json};
use std::time::Duration;

async fn app() -> (TestApp, Caller) {
    let app = TestApp::builder()
        .capture_events()
        .spawn(orders::FUNCTION)
        .await;
    let caller = app.user(Role::Customer).await;
    (app, caller)
}

/// An app whose unpaid orders expire 300 s (the least CloudFormation takes) after they were placed,
/// and a customer. Tests place their orders in the past ([`TestApp::unpaid_order_placed`]).
async fn app_expiring_unpaid_orders_after_five_minutes() -> (TestApp, Caller) {
    let app = TestApp::builder()
        .capture_events()
        .parameter("UnpaidOrderExpirySeconds", "300")
        .spawn(orders::FUNCTION)
        .await;
    let caller = app.user(Role::Customer).await;
    (app, caller)
}

async fn menu(app: &TestApp) -> (Dish, Dish) {
    let jollof = dish("Jollof", app.today());
    let mut suya = dish("Suya", app.today());
    suya.price = Price::parse(120_000).unwrap();
    app.add_dishes(&[jollof.clone(), suya.clone()]).await;
    (jollof, suya)
}

fn order_body(app: &TestApp, items: Value) -> Value {
    json!({"delivery_date": app.today().to_string(), "delivery_address": "12 Marina, Lagos", "items": items})
}

async fn give_phone(app: &TestApp, caller: &Caller) {
    let changes = kitchen::db::ProfileChanges {
        phone: kitchen::domain::Patch::Value(
            kitchen::domain::PhoneNumber::parse("+2348012345678").unwrap(),
        ),
        ..Default::default()
    };
    app.db()
        .update_profile(&caller.user.id, &changes, kitchen::now())
        .await
        .unwrap();
}

#[tokio::test]
async fn an_order_is_priced_by_the_server_and_announced() {
    let (app, caller) = app().await;
    give_phone(&app, &caller).await;
    let (jollof, suya) = menu(&app).await;
    let body = order_body(
        &app,
        json!([{"dish_id": jollof.id, "quantity": 2}, {"dish_id": suya.id, "quantity": 1}]),
    );
    let response = app.post("/orders", &body, Some(&caller.access_token)).await;
    response.assert_status(201);
    let order = &response.json;
    assert_eq!(order["status"], "pending_payment");
    assert_eq!(order["total"], 2 * 250_000 + 120_000);
    assert_eq!(order["currency"], "NGN");
    assert_eq!(order["placed_by"], "customer");
    assert_eq!(order["items"][0]["line_total"], 500_000);
    assert_eq!(order["items"][1]["dish_name"], "Suya");
    assert_eq!(order["paid_at"], Value::Null);
    assert_eq!(order["status_history"][0]["status"], "pending_payment");
    assert_eq!(order["status_history"][0]["by"], "customer");
    let id = order["id"].as_str().unwrap();
    assert_eq!(
        response.headers["location"],
        format!("/orders/{id}").as_str()
    );
    let events = app.published_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, OrderEventKind::Placed);
    assert_eq!(events[0].order_id.as_str(), id);
    assert_eq!(events[0].total.minor_units(), 620_000);
    assert_eq!(
        events[0].phone.as_ref().map(|p| p.as_str()),
        Some("+2348012345678")
    );
    let shown = app
        .get(&format!("/orders/{id}"), Some(&caller.access_token))
        .await;
    // The order as placed, with its refunds (none) beside it.
    let mut with_refunds = order.clone();
    with_refunds["refunds"] = json!([]);
    assert_eq!(shown.json, with_refunds);
}

#[tokio::test]
async fn a_customer_whose_email_is_not_verified_can_fill_a_cart_but_not_order() {
    let (app, _) = app().await;
    let (jollof, _) = menu(&app).await;
    let unverified = app.unverified_user().await;
    let token = Some(unverified.access_token.as_str());
    app.post(
        "/cart/items",
        &json!({"dish_id": jollof.id, "quantity": 2}),
        token,
    )
    .await
    .assert_status(201);
    for body in [
        order_body(&app, json!([{"dish_id": jollof.id, "quantity": 1}])),
        json!({"delivery_date": app.today().to_string(), "delivery_address": "12 Marina, Lagos"}),
    ] {
        let refused = app.post("/orders", &body, token).await;
        refused.assert_problem(403);
        assert_eq!(refused.json["type"], "urn:kitchen:problem:email-unverified");
    }
    // Nothing was placed, and the cart is as it was.
    let orders = app.get("/orders", token).await;
    orders.assert_status(200);
    assert_eq!(orders.json["items"], json!([]));
    assert_eq!(
        app.get("/cart", token).await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(app.published_events().await.is_empty());
}

#[tokio::test]
async fn prices_and_totals_from_the_client_are_refused() {
    let (app, caller) = app().await;
    let (jollof, _) = menu(&app).await;
    let token = Some(caller.access_token.as_str());
    let with_price = order_body(
        &app,
        json!([{"dish_id": jollof.id, "quantity": 1, "unit_price": 1}]),
    );
    let response = app.post("/orders", &with_price, token).await;
    response.assert_problem(400);
    assert_eq!(response.error_fields(), ["items[0].unit_price"]);
    let mut with_total = order_body(&app, json!([{"dish_id": jollof.id, "quantity": 1}]));
    with_total["total"] = json!(100);
    let response = app.post("/orders", &with_total, token).await;
    response.assert_problem(400);
    assert_eq!(response.error_fields(), ["total"]);
    assert!(app.published_events().await.is_empty());
}

#[tokio::test]
async fn bad_order_requests_are_400_and_unorderable_or_repeated_dishes_422_naming_the_dish() {
    let (app, caller) = app().await;
    let (jollof, suya) = menu(&app).await;
    let token = Some(caller.access_token.as_str());
    let mut later = dish("Christmas Special", app.today().add_days(5));
    later.available_until = Some(app.today().add_days(6));
    let mut withdrawn = dish("Withdrawn", app.today());
    withdrawn.active = false;
    app.add_dishes(&[later.clone(), withdrawn.clone()]).await;
    for (body, field) in [
        (order_body(&app, json!([])), "items"),
        (
            order_body(&app, json!([{"dish_id": jollof.id, "quantity": 0}])),
            "items[0].quantity",
        ),
        (
            order_body(&app, json!([{"dish_id": jollof.id}])),
            "items[0].quantity",
        ),
        (
            json!({"delivery_address": "x", "items": [{"dish_id": jollof.id, "quantity": 1}]}),
            "delivery_date",
        ),
        (
            json!({"delivery_date": "soon", "delivery_address": "x"}),
            "delivery_date",
        ),
        (
            json!({"delivery_date": app.today().to_string(), "delivery_address": ""}),
            "delivery_address",
        ),
    ] {
        let response = app.post("/orders", &body, token).await;
        response.assert_problem(400);
        assert_eq!(response.error_fields(), [field], "{body}");
    }
    let too_many: Vec<Value> = (0..21)
        .map(|_| json!({"dish_id": OrderId::new(), "quantity": 1}))
        .collect();
    app.post("/orders", &order_body(&app, json!(too_many)), token)
        .await
        .assert_problem(400);

    // A dish listed twice matches the document's schema (it cannot say "each dish once"), so it is
    // a 422 like the other rules the schema cannot express.
    let twice = app
        .post(
            "/orders",
            &order_body(
                &app,
                json!([{"dish_id": jollof.id, "quantity": 1}, {"dish_id": jollof.id, "quantity": 2}]),
            ),
            token,
        )
        .await;
    twice.assert_problem(422);
    assert_eq!(twice.error_fields(), ["items[1].dish_id"]);

    let not_yet = app
        .post(
            "/orders",
            &order_body(
                &app,
                json!([{"dish_id": suya.id, "quantity": 1}, {"dish_id": later.id, "quantity": 1}]),
            ),
            token,
        )
        .await;
    not_yet.assert_problem(422);
    assert_eq!(not_yet.error_fields(), ["items[1].dish_id"]);
    assert!(
        not_yet.json["detail"]
            .as_str()
            .unwrap()
            .contains("Christmas Special")
    );
    let mut on_the_day = order_body(&app, json!([{"dish_id": later.id, "quantity": 1}]));
    on_the_day["delivery_date"] = json!(app.today().add_days(5).to_string());
    app.post("/orders", &on_the_day, token)
        .await
        .assert_status(201);
    app.post(
        "/orders",
        &order_body(&app, json!([{"dish_id": withdrawn.id, "quantity": 1}])),
        token,
    )
    .await
    .assert_problem(422);
    app.post(
        "/orders",
        &order_body(&app, json!([{"dish_id": OrderId::new(), "quantity": 1}])),
        token,
    )
    .await
    .assert_problem(422);
    let mut yesterday = order_body(&app, json!([{"dish_id": jollof.id, "quantity": 1}]));
    yesterday["delivery_date"] = json!(app.today().add_days(-1).to_string());
    let past = app.post("/orders", &yesterday, token).await;
    past.assert_problem(422);
    assert_eq!(past.error_fields(), ["delivery_date"]);
    app.post("/orders", &order_body(&app, json!([])), None)
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn checking_out_the_cart_empties_it_in_the_same_transaction() {
    let (app, caller) = app().await;
    let (jollof, suya) = menu(&app).await;
    let token = Some(caller.access_token.as_str());
    let empty = app
        .post(
            "/orders",
            &json!({"delivery_date": app.today().to_string(), "delivery_address": "Yaba"}),
            token,
        )
        .await;
    empty.assert_problem(422);
    app.post(
        "/cart/items",
        &json!({"dish_id": jollof.id, "quantity": 3}),
        token,
    )
    .await
    .assert_status(201);
    app.post(
        "/cart/items",
        &json!({"dish_id": suya.id, "quantity": 1}),
        token,
    )
    .await
    .assert_status(201);
    let checkout = json!({"delivery_date": app.today().to_string(), "delivery_address": "Yaba"});
    let order = app.post("/orders", &checkout, token).await;
    order.assert_status(201);
    assert_eq!(order.json["total"], 3 * 250_000 + 120_000);
    assert_eq!(order.json["items"].as_array().unwrap().len(), 2);
    assert_eq!(app.get("/cart", token).await.json["items"], json!([]));
}

#[tokio::test]
async fn concurrent_checkouts_of_one_cart_make_exactly_one_order() {
    let (app, caller) = app().await;
    let (jollof, _) = menu(&app).await;
    let token = Some(caller.access_token.as_str());
    app.post(
        "/cart/items",
        &json!({"dish_id": jollof.id, "quantity": 1}),
        token,
    )
    .await
    .assert_status(201);
    let checkout = json!({"delivery_date": app.today().to_string(), "delivery_address": "Yaba"});
    let attempts = (0..6).map(|_| app.post("/orders", &checkout, token));
    let responses = futures::future::join_all(attempts).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [201, 409, 422].contains(s)),
        "{statuses:?}"
    );
    let listed = app.get("/orders", token).await;
    assert_eq!(listed.json["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_response() {
    let (app, caller) = app().await;
    let (jollof, _) = menu(&app).await;
    let body = order_body(&app, json!([{"dish_id": jollof.id, "quantity": 1}]));
    let send = |key: &'static str, body: Value| {
        let request = http::Request::builder()
            .method("POST")
            .uri("/orders")
            .header("authorization", format!("Bearer {}", caller.access_token))
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(axum::body::Body::from(body.to_string()))
            .unwrap();
        app.send(request)
    };
    let first = send("order-1", body.clone()).await;
    first.assert_status(201);
    let again = send("order-1", body.clone()).await;
    again.assert_status(201);
    assert_eq!(again.json, first.json);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let other = order_body(&app, json!([{"dish_id": jollof.id, "quantity": 2}]));
    send("order-1", other).await.assert_problem(422);
    // Concurrent retries with one key make one order too.
    let racing = futures::future::join_all((0..5).map(|_| send("order-2", body.clone()))).await;
    let ids: std::collections::HashSet<_> =
        racing.iter().map(|r| r.json["id"].to_string()).collect();
    assert!(
        racing.iter().all(|r| r.status == 201),
        "{:?}",
        racing.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(ids.len(), 1);
    let (all, _) = app
        .collect_pages("/orders", Some(&caller.access_token))
        .await;
    assert_eq!(all.len(), 2);
    assert_eq!(
        app.published_events().await.len(),
        2,
        "one event per order, none per replay"
    );
    let bad_key = http::Request::builder()
        .method("POST")
        .uri("/orders")
        .header("authorization", format!("Bearer {}", caller.access_token))
        .header("idempotency-key", "x".repeat(256))
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    app.send(bad_key).await.assert_problem(400);
    // Bytes that are not visible ASCII (API Gateway passes them on; the document's pattern
    // forbids them) are a 400 too, never a 500.
    for key in [&b"caf\xe9"[..], b"order\t1", b"   "] {
        let request = http::Request::builder()
            .method("POST")
            .uri("/orders")
            .header("authorization", format!("Bearer {}", caller.access_token))
            .header(
                "idempotency-key",
                http::HeaderValue::from_bytes(key).unwrap(),
            )
            .body(axum::body::Body::from(body.to_string()))
            .unwrap();
        let response = app.send(request).await;
        response.assert_problem(400);
        assert_eq!(response.error_fields(), ["Idempotency-Key"]);
    }
}

#[tokio::test]
async fn an_order_keeps_the_prices_it_was_placed_with() {
    let (app, caller) = app().await;
    let (jollof, _) = menu(&app).await;
    let token = Some(caller.access_token.as_str());
    let order = app
        .post(
            "/orders",
            &order_body(&app, json!([{"dish_id": jollof.id, "quantity": 2}])),
            token,
        )
        .await
        .json;
    let stored = app.db().get_dish(&jollof.id).await.unwrap().unwrap();
    let dearer = Dish {
        price: Price::parse(999_000).unwrap(),
        ..stored.dish.clone()
    };
    app.db().replace_dish(&stored, &dearer).await.unwrap();
    let shown = app
        .get(&format!("/orders/{}", order["id"].as_str().unwrap()), token)
        .await;
    assert_eq!(shown.json["total"], 500_000);
    assert_eq!(shown.json["items"][0]["unit_price"], 250_000);
}

#[tokio::test]
async fn customers_see_only_their_own_orders() {
    let (app, caller) = app().await;
    let (jollof, _) = menu(&app).await;
    let intruder = app.user(Role::Customer).await;
    let order = app
        .post(
            "/orders",
            &order_body(&app, json!([{"dish_id": jollof.id, "quantity": 1}])),
            Some(&caller.access_token),
        )
        .await
        .json;
    let path = format!("/orders/{}", order["id"].as_str().unwrap());
    let theirs = Some(intruder.access_token.as_str());
    app.get(&path, theirs).await.assert_problem(404);
    app.patch(&path, &json!({"delivery_address": "Mine now"}), theirs)
        .await
        .assert_problem(404);
    app.delete(&path, theirs).await.assert_problem(404);
    assert_eq!(app.get("/orders", theirs).await.json["items"], json!([]));
    app.get(
        &format!("/orders/{}", OrderId::new()),
        Some(&caller.access_token),
    )
    .await
    .assert_problem(404);
    app.get("/orders/not-an-id", Some(&caller.access_token))
        .await
        .assert_problem(404);
    for path in ["/orders", path.as_str()] {
        app.get(path, None).await.assert_problem(401);
    }
    // Nothing changed.
    let mine = app.get(&path, Some(&caller.access_token)).await;
    assert_eq!(mine.json["delivery_address"], "12 Marina, Lagos");
}

#[tokio::test]
async fn orders_are_listed_newest_first_by_status_over_pages() {
    let (app, caller) = app().await;
    let (jollof, _) = menu(&app).await;
    let token = Some(caller.access_token.as_str());
    let mut ids = Vec::new();
    for _ in 0..5 {
        let order = app
            .post(
                "/orders",
                &order_body(&app, json!([{"dish_id": jollof.id, "quantity": 1}])),
                token,
            )
            .await;
        ids.push(order.json["id"].as_str().unwrap().to_string());
    }
    app.delete(&format!("/orders/{}", ids[1]), token)
        .await
        .assert_status(204);
    let (all, pages) = app.collect_pages("/orders?limit=2", token).await;
    assert_eq!(pages, 3);
    let listed: Vec<_> = all
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    let newest_first: Vec<_> = ids.iter().rev().cloned().collect();
    assert_eq!(listed, newest_first);
    let (cancelled, _) = app.collect_pages("/orders?status=cancelled", token).await;
    assert_eq!(cancelled.len(), 1);
    let (pending, _) = app
        .collect_pages("/orders?status=pending_payment&limit=3", token)
        .await;
    assert_eq!(pending.len(), 4);
    app.get("/orders?status=lost", token)
        .await
        .assert_problem(400);
    app.get("/orders?limit=0", token).await.assert_problem(400);
}

#[tokio::test]
async fn an_unpaid_order_can_be_edited_and_is_priced_again() {
    let (app, caller) = app().await;
    let (jollof, suya) = menu(&app).await;
    let token = Some(caller.access_token.as_str());
    let order = app
        .post(
            "/orders",
            &order_body(&app, json!([{"dish_id": jollof.id, "quantity": 1}])),
            token,
        )
        .await
        .json;
    let path = format!("/orders/{}", order["id"].as_str().unwrap());
    let stored = app.db().get_dish(&jollof.id).await.unwrap().unwrap();
    app.db()
        .replace_dish(
            &stored,
            &Dish {
                price: Price::parse(260_000).unwrap(),
                ..stored.dish.clone()
            },
        )
        .await
        .unwrap();
    let tomorrow = app.today().add_days(1).to_string();
    let edited = app
        .patch(&path, &json!({"items": [{"dish_id": jollof.id, "quantity": 2}, {"dish_id": suya.id, "quantity": 1}], "delivery_date": tomorrow}), token)
        .await;
    edited.assert_status(200);
    assert_eq!(edited.json["total"], 2 * 260_000 + 120_000);
    assert_eq!(edited.json["delivery_date"], tomorrow.as_str());
    let moved = app
        .patch(&path, &json!({"delivery_address": "Lekki"}), token)
        .await;
    assert_eq!(moved.json["delivery_address"], "Lekki");
    assert_eq!(moved.json["total"], edited.json["total"]);
    app.patch(&path, &json!({"total": 1}), token)
        .await
        .assert_problem(400);
    app.patch(&path, &json!({"status": "paid"}), token)
        .await
        .assert_problem(400);
    app.patch(
        &path,
        &json!({"delivery_date": app.today().add_days(-1).to_string()}),
        token,
    )
    .await
    .assert_problem(422);
    assert_eq!(app.patch(&path, &json!({}), token).await.json, moved.json);
    app.delete(&path, token).await.assert_status(204);
    app.patch(&path, &json!({"delivery_address": "Too late"}), token)
        .await
        .assert_problem(409);
}

#[tokio::test]
async fn cancelling_an_unpaid_order_keeps_it_and_announces_it() {
    let (app, caller) = app().await;
    let (jollof, _) = menu(&app).await;
    let token = Some(caller.access_token.as_str());
    let order = app
        .post(
            "/orders",
            &order_body(&app, json!([{"dish_id": jollof.id, "quantity": 1}])),
            token,
        )
        .await
        .json;
    let path = format!("/orders/{}", order["id"].as_str().unwrap());
    app.delete(&path, token).await.assert_status(204);
    app.delete(&path, token).await.assert_problem(409);
    let shown = app.get(&path, token).await;
    assert_eq!(shown.json["status"], "cancelled");
    assert_eq!(shown.json["refund_due"], false);
    let history: Vec<_> = shown.json["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].clone())
        .collect();
    assert_eq!(history, [json!("pending_payment"), json!("cancelled")]);
    let kinds: Vec<_> = app
        .published_events()
        .await
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, [OrderEventKind::Placed, OrderEventKind::Cancelled]);
}

#[tokio::test]
async fn a_cancel_that_committed_answers_204_even_when_its_announcement_cannot_be_made() {
    let (app, caller) = app().await;
    let order = app.unpaid_order(&caller, 1).await;
    // The table stops answering reads once the cancel is written, so the customer cannot be read
    // for the SMS.
    let failing = app.with_reads_failing_after_a_write(orders::FUNCTION).await;
    failing
        .delete(&format!("/orders/{}", order.id), Some(&caller.access_token))
        .await
        .assert_status(204);
    let stored = app.db().get_order(&order.id).await.unwrap().unwrap();
    assert_eq!(stored.order.status, kitchen::domain::OrderStatus::Cancelled);
    assert!(app.published_events().await.is_empty());
}

#[tokio::test]
async fn an_unpaid_order_expires_on_read_and_the_sweep_writes_it_down() {
    let (app, caller) = app_expiring_unpaid_orders_after_five_minutes().await;
    let token = Some(caller.access_token.as_str());
    // Placed just over the stack's 300 s ago and never paid.
    let placed = app
        .unpaid_order_placed(&caller, 1, kitchen::now() - Duration::from_secs(301))
        .await;
    let order = json!({"id": placed.id.to_string()});
    let path = format!("/orders/{}", order["id"].as_str().unwrap());
    let shown = app.get(&path, token).await;
    assert_eq!(shown.json["status"], "cancelled");
    assert_eq!(shown.json["cancel_reason"], "payment_timeout");
    assert_eq!(shown.json["status_history"][1]["by"], "system");
    app.patch(&path, &json!({"delivery_address": "Lekki"}), token)
        .await
        .assert_problem(409);
    app.delete(&path, token).await.assert_problem(409);
    let (cancelled, _) = app.collect_pages("/orders?status=cancelled", token).await;
    assert_eq!(cancelled.len(), 1);
    assert!(
        app.collect_pages("/orders?status=pending_payment", token)
            .await
            .0
            .is_empty()
    );
    app.published_events().await;
    assert_eq!(orders::sweep(&app.state).await.unwrap().cancelled, 1);
    assert_eq!(
        orders::sweep(&app.state).await.unwrap().cancelled,
        0,
        "the sweep writes each order down once"
    );
    let events = app.published_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, OrderEventKind::Cancelled);
    let stored = app
        .db()
        .get_order(&OrderId::parse(order["id"].as_str().unwrap()).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.order.status, kitchen::domain::OrderStatus::Cancelled);
    assert_eq!(app.get(&path, token).await.json, shown.json);
}

#[tokio::test]
async fn the_sweep_cancels_every_expired_order_even_when_announcing_one_fails() {
    let (app, caller) = app_expiring_unpaid_orders_after_five_minutes().await;
    let placed = kitchen::now() - Duration::from_secs(301);
    let expired = [
        app.unpaid_order_placed(&caller, 1, placed).await,
        app.unpaid_order_placed(&caller, 2, placed).await,
    ];
    // Reads fail from the first cancel's write on: neither customer read for the SMS works.
    let failing = app.with_reads_failing_after_a_write(orders::FUNCTION).await;
    // The cancelling step: the run itself then fails (its later steps cannot read either).
    let payments = failing.state.payments().unwrap();
    assert_eq!(payments.sweep_unpaid().await.unwrap(), 2);
    assert!(orders::sweep(&failing.state).await.is_err());
    for order in &expired {
        let stored = app.db().get_order(&order.id).await.unwrap().unwrap();
        assert_eq!(stored.order.status, kitchen::domain::OrderStatus::Cancelled);
    }
    assert!(app.published_events().await.is_empty());
}

#[tokio::test]
async fn the_sweep_leaves_alone_an_order_cancelled_or_paid_since_the_index_listed_it_as_unpaid() {
    // Placed past the deadline, then cancelled and paid as if just before it (written straight to
    // the table: through the API an order past its deadline already reads as cancelled).
    let (app, caller) = app_expiring_unpaid_orders_after_five_minutes().await;
    let placed = kitchen::now() - Duration::from_secs(301);
    let cancelled = app.unpaid_order_placed(&caller, 1, placed).await;
    let paid = app.unpaid_order_placed(&caller, 2, placed).await;
    for (order, status, by) in [
        (
            &cancelled,
            kitchen::domain::OrderStatus::Cancelled,
            kitchen::domain::Actor::Customer,
        ),
        (
            &paid,
            kitchen::domain::OrderStatus::Paid,
            kitchen::domain::Actor::System,
        ),
    ] {
        let stored = app.db().get_order(&order.id).await.unwrap().unwrap();
        let moved = stored
            .order
            .moved_to(status, by, placed + Duration::from_secs(60))
            .unwrap();
        assert!(app.db().replace_order(&stored, &moved).await.unwrap());
    }
    // What a sweep sees when a cancel or a payment lands between its query of the index and its
    // read of the order: the index lists the order as unpaid, the order says otherwise.
    let mut before = Vec::new();
    for order in [&cancelled, &paid] {
        app.index_lists_as_unpaid(&order.id).await;
        before.push(app.db().get_order(&order.id).await.unwrap().unwrap());
    }
    let cutoff = kitchen::now() - app.state.config.unpaid_order_expiry;
    let listed = app.db().unpaid_orders_before(cutoff, 50).await.unwrap();
    assert_eq!(listed.len(), 2, "the sweep's query finds both");
    app.published_events().await;
    assert_eq!(orders::sweep(&app.state).await.unwrap().cancelled, 0);
    assert!(
        app.published_events().await.is_empty(),
        "no second order.cancelled, and none for a paid order"
    );
    for was in before {
        let now = app.db().get_order(&was.order.id).await.unwrap().unwrap();
        assert_eq!(
            now.version, was.version,
            "{} was written again",
            was.order.id
        );
        assert_eq!(now.order, was.order);
    }
}

#[tokio::test]
async fn order_bodies_mean_what_the_document_says() {
    let (app, caller) = app().await;
    let (jollof, _) = menu(&app).await;
    let token = Some(caller.access_token.as_str());
    let with = |field: &str, value: Value| {
        let mut body = order_body(&app, json!([{"dish_id": jollof.id, "quantity": 1}]));
        body[field] = value;
        body
    };
    // Leave items out to check out the cart; null is not the same.
    for body in [
        with("items", Value::Null),
        with("delivery_address", json!("12 Marina\u{0}")),
        with("delivery_address", json!("\t")),
        with("delivery_address", json!("12 Marina\nLagos")),
    ] {
        app.agrees_with_document(http::Method::POST, "/orders", &body, token)
            .await
            .assert_problem(400);
    }
    let placed = app
        .agrees_with_document(
            http::Method::POST,
            "/orders",
            &with("delivery_address", json!("12 Marina, Lagos")),
            token,
        )
        .await;
    placed.assert_status(201);
    let path = format!("/orders/{}", placed.json["id"].as_str().unwrap());
    for body in [
        json!({"delivery_date": null}),
        json!({"items": null}),
        json!({"delivery_address": null}),
    ] {
        app.agrees_with_document(http::Method::PATCH, &path, &body, token)
            .await
            .assert_problem(400);
    }
    let twice = app
        .agrees_with_document(
            http::Method::PATCH,
            &path,
            &json!({"items": [{"dish_id": jollof.id, "quantity": 1}, {"dish_id": jollof.id, "quantity": 2}]}),
            token,
        )
        .await;
    twice.assert_problem(422);
    assert_eq!(twice.error_fields(), ["items[1].dish_id"]);
}

#[tokio::test]
async fn an_order_shows_its_refunds_to_its_customer_only() {
    use kitchen::domain::{Money, Payment, PaymentStatus, Refund, RequestedBy};
    let (app, caller) = app().await;
    let order = app.unpaid_order(&caller, 2).await;
    let path = format!("/orders/{}", order.id);
    let token = Some(caller.access_token.as_str());
    assert_eq!(app.get(&path, token).await.json["refunds"], json!([]));
    let charge = Payment {
        status: PaymentStatus::Success,
        ..Payment::start(&order, kitchen::now())
    };
    app.db().create_payment(&charge).await.unwrap();
    for amount in [100_000, 50_000] {
        let refund = Refund {
            paystack_id: Some(7_000_000_001),
            ..Refund::of(
                &charge,
                Money::from_minor_units(amount),
                "staff only",
                RequestedBy::Admin,
                Some(kitchen::domain::UserId::new()),
                kitchen::now(),
            )
        };
        app.db()
            .reserve_refund(&refund, charge.amount, None)
            .await
            .unwrap();
    }
    let shown = app.get(&path, token).await;
    shown.assert_status(200);
    assert_eq!(shown.json["refunded_amount"], 150_000);
    let refunds = shown.json["refunds"].as_array().unwrap();
    let amounts: Vec<_> = refunds.iter().map(|r| r["amount"].clone()).collect();
    assert_eq!(amounts, [json!(100_000), json!(50_000)], "oldest first");
    for hidden in ["admin_id", "paystack_id", "reason", "requested_by"] {
        assert!(refunds[0].get(hidden).is_none(), "{hidden}");
    }
    // Another customer sees nothing of it.
    let other = app.user(Role::Customer).await;
    app.get(&path, Some(&other.access_token))
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn a_customer_leaves_a_note_when_ordering_and_changes_or_drops_it_while_unpaid() {
    let (app, caller) = app().await;
    let (jollof, _) = menu(&app).await;
    let token = Some(caller.access_token.as_str());
    let mut body = order_body(&app, json!([{"dish_id": jollof.id, "quantity": 1}]));
    body["note"] = json!("  No pepper, please.\nCall at the gate.  ");
    let placed = app.post("/orders", &body, token).await;
    placed.assert_status(201);
    assert_eq!(placed.json["note"], "No pepper, please.\nCall at the gate.");
    let id = placed.json["id"].as_str().unwrap().to_string();
    let path = format!("/orders/{id}");
    let order_id = OrderId::parse(&id).unwrap();
    let version = app
        .db()
        .get_order(&order_id)
        .await
        .unwrap()
        .unwrap()
        .version;
    // A note alone changes only the note.
    let changed = app
        .patch(&path, &json!({"note": "Extra plantain."}), token)
        .await;
    changed.assert_status(200);
    assert_eq!(changed.json["note"], "Extra plantain.");
    assert_eq!(changed.json["total"], placed.json["total"]);
    let stored = app.db().get_order(&order_id).await.unwrap().unwrap();
    assert_eq!(stored.version, version + 1);
    assert_eq!(stored.order.note.unwrap().as_str(), "Extra plantain.");
    // The same note again writes nothing; an edit of the lines keeps the note.
    app.patch(&path, &json!({"note": "Extra plantain."}), token)
        .await
        .assert_status(200);
    let relined = app
        .patch(
            &path,
            &json!({"items": [{"dish_id": jollof.id, "quantity": 2}]}),
            token,
        )
        .await;
    relined.assert_status(200);
    assert_eq!(relined.json["note"], "Extra plantain.");
    let version = app
        .db()
        .get_order(&order_id)
        .await
        .unwrap()
        .unwrap()
        .version;
    assert_eq!(version, stored.version + 1, "the repeat wrote nothing");
    // null drops it.
    let dropped = app.patch(&path, &json!({"note": null}), token).await;
    dropped.assert_status(200);
    assert_eq!(dropped.json["note"], Value::Null);
    // Once paid, the order and its note are final.
    let stored = app.db().get_order(&order_id).await.unwrap().unwrap();
    app.state
        .orders()
        .move_order(
            &stored,
            kitchen::domain::OrderStatus::Paid,
            kitchen::domain::Actor::System,
            None,
        )
        .await
        .unwrap();
    app.patch(&path, &json!({"note": "Too late?"}), token)
        .await
        .assert_problem(409);
}

#[tokio::test]
async fn a_note_is_at_most_280_characters_of_text_with_line_breaks_only() {
    let (app, caller) = app().await;
    let (jollof, _) = menu(&app).await;
    let token = Some(caller.access_token.as_str());
    let items = json!([{"dish_id": jollof.id, "quantity": 1}]);
    for note in devkit::testing::not_notes() {
        let mut body = order_body(&app, items.clone());
        body["note"] = note.clone();
        let response = app.post("/orders", &body, token).await;
        response.assert_problem(400);
        assert_eq!(
            response.error_fields(),
            ["note"],
            "{note}: {}",
            response.text
        );
    }
    let listed = app.get("/orders", token).await;
    assert_eq!(listed.json["items"], json!([]), "nothing placed");
    let mut body = order_body(&app, items);
    body["note"] = json!("ọ".repeat(280));
    let placed = app.post("/orders", &body, token).await;
    placed.assert_status(201);
    let path = format!("/orders/{}", placed.json["id"].as_str().unwrap());
    let refused = app
        .patch(&path, &json!({"note": "x".repeat(281)}), token)
        .await;
    refused.assert_problem(400);
    assert_eq!(refused.error_fields(), ["note"]);
}

#[tokio::test]
async fn the_list_waits_one_round_trip_and_a_revoked_session_sees_nothing_of_it() {
    let (app, caller) = app().await;
    app.assert_own_list_is_read_beside_the_session_check(&caller, "/orders")
        .await;
}
