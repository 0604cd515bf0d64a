//! The kitchen's calendar where orders are written: portions per dish and date and the daily cap
//! held in the order's own transaction, the cut-off and closed dates enforced, and the counters
//! always what the orders hold.

use devkit::testing::{Caller, TestApp, dish};
use kitchen::{
    db::{Counter, holding},
    domain::{DailyLimit, Date, Dish, Role},
};
use serde_json::{Value, json};
use std::collections::HashMap;

async fn app() -> (TestApp, Caller) {
    let app = TestApp::spawn(orders::FUNCTION).await;
    let caller = app.user(Role::Customer).await;
    (app, caller)
}

/// Tomorrow: far from any cut-off of today's date whenever the test runs.
fn tomorrow(app: &TestApp) -> Date {
    app.today().add_days(1)
}

/// A dish with `portions` a day (none for no limit), on the menu.
async fn limited(app: &TestApp, name: &str, portions: Option<u32>) -> Dish {
    let mut limited = dish(name, app.today());
    limited.daily_portions = portions.map(|p| DailyLimit::parse(p).unwrap());
    app.add_dishes(std::slice::from_ref(&limited)).await;
    limited
}

fn order_for(date: Date, items: Value) -> Value {
    json!({"delivery_date": date.to_string(), "delivery_address": "12 Marina, Lagos", "items": items})
}

async fn place(app: &TestApp, caller: &Caller, body: &Value) -> devkit::testing::TestResponse {
    app.post("/orders", body, Some(&caller.access_token)).await
}

/// What the counters of `date` hold, from the table.
async fn counted(app: &TestApp, date: Date) -> kitchen::db::DayCounts {
    app.db().day_counts(date).await.unwrap()
}

#[tokio::test]
async fn an_order_holds_its_portions_and_one_that_does_not_fit_is_refused_naming_the_dish() {
    let (app, caller) = app().await;
    let egusi = limited(&app, "Egusi", Some(5)).await;
    let rice = limited(&app, "Rice", None).await;
    let date = tomorrow(&app);
    let first = place(
        &app,
        &caller,
        &order_for(
            date,
            json!([{"dish_id": egusi.id, "quantity": 3}, {"dish_id": rice.id, "quantity": 2}]),
        ),
    )
    .await;
    first.assert_status(201);
    let counts = counted(&app, date).await;
    assert_eq!(counts.portions_of(&egusi.id), 3);
    assert_eq!(
        counts.portions_of(&rice.id),
        2,
        "unlimited dishes are counted too"
    );
    assert_eq!(counts.orders, 1);

    let too_many = order_for(
        date,
        json!([{"dish_id": rice.id, "quantity": 1}, {"dish_id": egusi.id, "quantity": 3}]),
    );
    let refused = place(&app, &caller, &too_many).await;
    refused.assert_problem(422);
    assert_eq!(refused.error_fields(), ["items[1].quantity"]);
    assert!(
        refused.json["detail"]
            .as_str()
            .unwrap()
            .contains("only 2 portions of Egusi are left"),
        "{}",
        refused.json
    );
    assert_eq!(counted(&app, date).await, counts, "nothing changed");

    // Another day has its own portions.
    let other_day = order_for(
        date.add_days(1),
        json!([{"dish_id": egusi.id, "quantity": 5}]),
    );
    place(&app, &caller, &other_day).await.assert_status(201);

    // Cancelling gives the portions back.
    let id = first.json["id"].as_str().unwrap();
    app.delete(&format!("/orders/{id}"), Some(&caller.access_token))
        .await
        .assert_status(204);
    let released = counted(&app, date).await;
    assert_eq!(released.portions_of(&egusi.id), 0);
    assert_eq!(released.orders, 0);
    place(&app, &caller, &too_many).await.assert_status(201);
}

#[tokio::test]
async fn thirty_concurrent_orders_for_the_last_ten_portions_make_exactly_ten() {
    let (app, caller) = app().await;
    let suya = limited(&app, "Suya", Some(10)).await;
    let date = tomorrow(&app);
    let body = order_for(date, json!([{"dish_id": suya.id, "quantity": 1}]));
    let answers = futures::future::join_all((0..30).map(|_| place(&app, &caller, &body))).await;
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    for answer in &answers {
        *statuses.entry(answer.status.as_u16()).or_insert(0) += 1;
    }
    assert_eq!(statuses.get(&201), Some(&10), "{statuses:?}");
    assert_eq!(statuses.get(&422), Some(&20), "{statuses:?}");
    let counts = counted(&app, date).await;
    assert_eq!(counts.portions_of(&suya.id), 10);
    assert_eq!(counts.orders, 10);
}

#[tokio::test]
async fn the_daily_cap_counts_the_dates_orders_that_are_not_cancelled() {
    let (app, caller) = app().await;
    app.set_kitchen(json!({"max_orders_per_day": 2})).await;
    let rice = limited(&app, "Rice", None).await;
    let date = tomorrow(&app);
    let body = order_for(date, json!([{"dish_id": rice.id, "quantity": 1}]));
    let first = place(&app, &caller, &body).await;
    first.assert_status(201);
    place(&app, &caller, &body).await.assert_status(201);
    let full = place(&app, &caller, &body).await;
    full.assert_problem(422);
    assert_eq!(full.error_fields(), ["delivery_date"]);
    assert!(
        full.json["detail"]
            .as_str()
            .unwrap()
            .contains("all 2 are placed")
    );
    let id = first.json["id"].as_str().unwrap();
    app.delete(&format!("/orders/{id}"), Some(&caller.access_token))
        .await
        .assert_status(204);
    place(&app, &caller, &body).await.assert_status(201);
    assert_eq!(counted(&app, date).await.orders, 2);
}

#[tokio::test]
async fn the_cut_off_and_closed_dates_are_enforced_when_placing_and_editing() {
    let (app, caller) = app().await;
    let rice = limited(&app, "Rice", None).await;
    let date = tomorrow(&app);
    let closed = date.add_days(3);
    let open = date.add_days(4);
    let placed = place(
        &app,
        &caller,
        &order_for(open, json!([{"dish_id": rice.id, "quantity": 1}])),
    )
    .await;
    placed.assert_status(201);
    // Ordering for a date closes two days before it, so tomorrow is already closed.
    app.set_kitchen(json!({
        "order_cutoff": {"days_before": 2, "time": "18:00"},
        "closed_dates": [closed.to_string()],
    }))
    .await;
    let late = place(
        &app,
        &caller,
        &order_for(date, json!([{"dish_id": rice.id, "quantity": 1}])),
    )
    .await;
    late.assert_problem(422);
    assert_eq!(late.error_fields(), ["delivery_date"]);
    let detail = late.json["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(&format!("ordering for {date} closed at ")),
        "{detail}"
    );
    assert!(detail.ends_with("Africa/Lagos"), "{detail}");

    let shut = place(
        &app,
        &caller,
        &order_for(closed, json!([{"dish_id": rice.id, "quantity": 1}])),
    )
    .await;
    shut.assert_problem(422);
    assert!(shut.json["detail"].as_str().unwrap().contains("closed on"));

    // An open order cannot be moved onto a closed date either; its counters stay where they were.
    let id = placed.json["id"].as_str().unwrap();
    let path = format!("/orders/{id}");
    let moved = app
        .patch(
            &path,
            &json!({"delivery_date": closed.to_string()}),
            Some(&caller.access_token),
        )
        .await;
    moved.assert_problem(422);
    assert_eq!(counted(&app, open).await.orders, 1);
    assert_eq!(counted(&app, closed).await.orders, 0);
}

#[tokio::test]
async fn an_edit_moves_what_the_order_holds_atomically_or_not_at_all() {
    let (app, caller) = app().await;
    let egusi = limited(&app, "Egusi", Some(4)).await;
    let rice = limited(&app, "Rice", None).await;
    let date = tomorrow(&app);
    let later = date.add_days(1);
    let placed = place(
        &app,
        &caller,
        &order_for(date, json!([{"dish_id": egusi.id, "quantity": 2}])),
    )
    .await;
    placed.assert_status(201);
    let path = format!("/orders/{}", placed.json["id"].as_str().unwrap());
    let token = Some(caller.access_token.as_str());

    // More of the limited dish than is left: refused, nothing moves.
    let greedy = json!({"items": [{"dish_id": egusi.id, "quantity": 5}]});
    let refused = app.patch(&path, &greedy, token).await;
    refused.assert_problem(422);
    assert_eq!(refused.error_fields(), ["items[0].quantity"]);
    assert_eq!(counted(&app, date).await.portions_of(&egusi.id), 2);

    // Up to what is left (the order's own two count as its own): held.
    let all = json!({"items": [{"dish_id": egusi.id, "quantity": 4}, {"dish_id": rice.id, "quantity": 1}]});
    app.patch(&path, &all, token).await.assert_status(200);
    let counts = counted(&app, date).await;
    assert_eq!(counts.portions_of(&egusi.id), 4);
    assert_eq!(counts.portions_of(&rice.id), 1);
    assert_eq!(counts.orders, 1);

    // Another date: the old date is released and the new one held, in one write.
    app.patch(&path, &json!({"delivery_date": later.to_string()}), token)
        .await
        .assert_status(200);
    let before = counted(&app, date).await;
    assert_eq!(
        (
            before.portions_of(&egusi.id),
            before.portions_of(&rice.id),
            before.orders
        ),
        (0, 0, 0)
    );
    let after = counted(&app, later).await;
    assert_eq!(
        (
            after.portions_of(&egusi.id),
            after.portions_of(&rice.id),
            after.orders
        ),
        (4, 1, 1)
    );
}

#[tokio::test]
async fn concurrent_edits_and_cancels_leave_the_counters_equal_to_what_the_orders_hold() {
    let (app, caller) = app().await;
    let egusi = limited(&app, "Egusi", Some(40)).await;
    let rice = limited(&app, "Rice", None).await;
    let date = tomorrow(&app);
    let later = date.add_days(1);
    let mut ids = Vec::new();
    for _ in 0..6 {
        let placed = place(
            &app,
            &caller,
            &order_for(date, json!([{"dish_id": egusi.id, "quantity": 2}])),
        )
        .await;
        placed.assert_status(201);
        ids.push(placed.json["id"].as_str().unwrap().to_string());
    }
    let token = Some(caller.access_token.as_str());
    let app = &app;
    // Each order gets an edit of its lines, an edit of its date and (for half) a cancel, all at once.
    let mut changes = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let path = format!("/orders/{id}");
        let lines = json!({"items": [{"dish_id": egusi.id, "quantity": 3 + i}, {"dish_id": rice.id, "quantity": 1}]});
        let moved = json!({"delivery_date": later.to_string()});
        changes.push(Box::pin(async move {
            let path = path;
            let (a, b, c) = tokio::join!(
                app.patch(&path, &lines, token),
                app.patch(&path, &moved, token),
                async {
                    if i % 2 == 0 {
                        Some(app.delete(&path, token).await)
                    } else {
                        None
                    }
                }
            );
            for answer in [Some(a), Some(b), c].into_iter().flatten() {
                assert!(
                    [200, 204, 409].contains(&answer.status.as_u16()),
                    "{} {}",
                    answer.status,
                    answer.text
                );
            }
        }));
    }
    futures::future::join_all(changes).await;

    // Recount from the orders themselves.
    let mut expected: HashMap<Counter, i64> = HashMap::new();
    for id in &ids {
        let order = app
            .db()
            .get_order(&kitchen::domain::OrderId::parse(id).unwrap())
            .await
            .unwrap()
            .unwrap()
            .order;
        for (counter, count) in holding(&order) {
            *expected.entry(counter).or_insert(0) += count;
        }
    }
    for day in [date, later] {
        let counts = counted(app, day).await;
        let held = |counter: Counter| expected.get(&counter).copied().unwrap_or(0);
        assert_eq!(
            i64::from(counts.orders),
            held(Counter::Orders(day)),
            "{day}"
        );
        assert_eq!(
            i64::from(counts.portions_of(&egusi.id)),
            held(Counter::Portions(day, egusi.id.clone())),
            "{day}"
        );
        assert_eq!(
            i64::from(counts.portions_of(&rice.id)),
            held(Counter::Portions(day, rice.id.clone())),
            "{day}"
        );
    }
}
