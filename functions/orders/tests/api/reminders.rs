//! The kitchen's reminders of paid orders nobody has started preparing (the `remind_kitchen` job),
//! against DynamoDB Local and moto: orders paid in the past written straight to the table, the
//! events read back from the topic.

use devkit::testing::{Caller, TestApp};
use kitchen::{
    domain::{Actor, Order, OrderId, OrderStatus, Role},
    events::{OrderEvent, OrderEventKind},
};
use std::time::Duration;

/// The orders function with its template's reminder settings (every 10 minutes, 3 at most).
async fn app() -> (TestApp, Caller) {
    let app = TestApp::builder()
        .capture_events()
        .spawn(orders::FUNCTION)
        .await;
    let alerts = app.state.config.kitchen_alerts;
    assert_eq!(
        (alerts.every, alerts.repeats),
        (Duration::from_secs(600), 3)
    );
    let caller = app.user(Role::Customer).await;
    (app, caller)
}

/// An order of `customer`'s placed a minute before it was paid, `ago` ago.
async fn paid(app: &TestApp, customer: &Caller, ago: Duration) -> Order {
    let paid_at = kitchen::now() - ago;
    let order = app
        .unpaid_order_placed(customer, 1, paid_at - Duration::from_secs(60))
        .await;
    let stored = app.db().get_order(&order.id).await.unwrap().unwrap();
    let paid = stored
        .order
        .moved_to(OrderStatus::Paid, Actor::System, paid_at)
        .unwrap();
    assert!(app.db().replace_order(&stored, &paid).await.unwrap());
    paid
}

const MINUTE: Duration = Duration::from_secs(60);

/// The reminders published since the last call, as (order, number, of).
async fn reminders(app: &TestApp) -> Vec<(OrderId, u32, u32)> {
    app.published_events()
        .await
        .into_iter()
        .filter(|event: &OrderEvent| event.kind == OrderEventKind::Unattended)
        .map(|event| {
            let reminder = event
                .reminder
                .expect("an order.unattended says which reminder");
            (event.order_id, reminder.number, reminder.of)
        })
        .collect()
}

/// How many reminders the order item has noted.
async fn noted(app: &TestApp, order: &Order) -> Option<String> {
    app.raw_item(&format!("ORDER#{}", order.id), "ORDER")
        .await
        .unwrap()
        .get("kitchen_reminders")
        .map(|count| count.as_n().unwrap().clone())
}

#[tokio::test]
async fn an_order_paid_eleven_minutes_ago_gets_one_reminder_and_a_run_right_after_sends_none() {
    let (app, caller) = app().await;
    let order = paid(&app, &caller, 11 * MINUTE).await;
    // Paid too recently, and still unpaid: neither is due anything.
    paid(&app, &caller, 9 * MINUTE).await;
    app.unpaid_order_placed(&caller, 1, kitchen::now() - 30 * MINUTE)
        .await;
    let reminded = orders::remind_kitchen(&app.state).await.unwrap();
    assert_eq!(reminded.sent, 1);
    let sent = reminders(&app).await;
    assert_eq!(sent, [(order.id.clone(), 1, 3)]);
    assert_eq!(noted(&app, &order).await.as_deref(), Some("1"));
    let event = app.db().get_order(&order.id).await.unwrap().unwrap();
    assert_eq!(
        event.version, 2,
        "the reminder is no new version of the order"
    );
    assert_eq!(orders::remind_kitchen(&app.state).await.unwrap().sent, 0);
    assert!(reminders(&app).await.is_empty(), "sent once");
}

#[tokio::test]
async fn the_reminder_event_is_for_the_kitchen_and_names_no_customer() {
    let (app, caller) = app().await;
    let order = paid(&app, &caller, 11 * MINUTE).await;
    orders::remind_kitchen(&app.state).await.unwrap();
    let events = app.published_events().await;
    let event = events
        .iter()
        .find(|event| event.kind == OrderEventKind::Unattended)
        .unwrap();
    assert_eq!(event.order_id, order.id);
    assert_eq!(event.status, OrderStatus::Paid);
    assert_eq!((&event.phone, &event.customer_name), (&None, &None));
    let reminder = event.reminder.unwrap();
    assert_eq!(Some(reminder.paid_at), order.paid_at);
    assert!(event.occurred_at - reminder.paid_at >= time::Duration::minutes(11));
}

#[tokio::test]
async fn the_second_reminder_follows_the_first_one_interval_later_and_the_third_is_the_last() {
    let (app, caller) = app().await;
    let second = paid(&app, &caller, 21 * MINUTE).await;
    app.db()
        .record_kitchen_reminder(&second.id, 1)
        .await
        .unwrap()
        .expect("the first, sent before");
    let done = paid(&app, &caller, 45 * MINUTE).await;
    for number in 1..=3 {
        app.db()
            .record_kitchen_reminder(&done.id, number)
            .await
            .unwrap()
            .expect("sent before");
    }
    orders::remind_kitchen(&app.state).await.unwrap();
    assert_eq!(reminders(&app).await, [(second.id.clone(), 2, 3)]);
    assert_eq!(noted(&app, &done).await.as_deref(), Some("3"), "no fourth");
}

#[tokio::test]
async fn a_run_after_missed_ones_sends_one_reminder_not_each_it_missed() {
    let (app, caller) = app().await;
    let order = paid(&app, &caller, 35 * MINUTE).await;
    assert_eq!(orders::remind_kitchen(&app.state).await.unwrap().sent, 1);
    assert_eq!(reminders(&app).await, [(order.id.clone(), 3, 3)]);
    assert_eq!(orders::remind_kitchen(&app.state).await.unwrap().sent, 0);
}

#[tokio::test]
async fn an_order_moved_to_preparing_is_not_reminded_of() {
    let (app, caller) = app().await;
    let order = paid(&app, &caller, 11 * MINUTE).await;
    let stored = app.db().get_order(&order.id).await.unwrap().unwrap();
    app.state
        .orders()
        .move_order(&stored, OrderStatus::Preparing, Actor::Admin, None)
        .await
        .unwrap();
    assert_eq!(orders::remind_kitchen(&app.state).await.unwrap().sent, 0);
    assert!(reminders(&app).await.is_empty());
    // Nor is an order the index still lists as paid: the write's condition reads the order itself.
    let lagging = paid(&app, &caller, 11 * MINUTE).await;
    let stored = app.db().get_order(&lagging.id).await.unwrap().unwrap();
    app.state
        .orders()
        .move_order(&stored, OrderStatus::Preparing, Actor::Admin, None)
        .await
        .unwrap();
    assert!(
        app.db()
            .record_kitchen_reminder(&lagging.id, 1)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn concurrent_runs_send_each_reminder_once() {
    let (app, caller) = app().await;
    let mut waiting = Vec::new();
    for _ in 0..3 {
        waiting.push(paid(&app, &caller, 11 * MINUTE).await.id);
    }
    let second = app.with_function(orders::FUNCTION).await;
    let runs = futures::future::join_all((0..4).map(|run| {
        let state = if run % 2 == 0 {
            &app.state
        } else {
            &second.state
        };
        orders::remind_kitchen(state)
    }))
    .await;
    let sent: usize = runs.into_iter().map(|run| run.unwrap().sent).sum();
    assert_eq!(sent, 3);
    let mut reminded: Vec<_> = reminders(&app)
        .await
        .into_iter()
        .map(|(id, number, _)| (id.to_string(), number))
        .collect();
    reminded.sort();
    let mut expected: Vec<_> = waiting.iter().map(|id| (id.to_string(), 1)).collect();
    expected.sort();
    assert_eq!(reminded, expected, "one SMS per reminder");
}

#[tokio::test]
async fn a_staff_move_right_after_a_reminder_goes_through() {
    let (app, caller) = app().await;
    let order = paid(&app, &caller, 11 * MINUTE).await;
    // Staff read the order, the reminder goes out, then staff move it on what they read.
    let read = app.db().get_order(&order.id).await.unwrap().unwrap();
    assert_eq!(orders::remind_kitchen(&app.state).await.unwrap().sent, 1);
    let moved = app
        .state
        .orders()
        .move_order(&read, OrderStatus::Preparing, Actor::Admin, None)
        .await
        .expect("no 409: the reminder left the version alone");
    assert_eq!(moved.status, OrderStatus::Preparing);
    assert_eq!(
        noted(&app, &order).await,
        None,
        "the move wrote the order anew"
    );
    assert_eq!(orders::remind_kitchen(&app.state).await.unwrap().sent, 0);
}

#[tokio::test]
async fn the_scheduled_event_names_the_job() {
    let sample: serde_json::Value = serde_json::from_str(include_str!(
        "../../../../events/orders/remind-kitchen.json"
    ))
    .unwrap();
    assert_eq!(sample, serde_json::json!({"job": "remind_kitchen"}));
}
