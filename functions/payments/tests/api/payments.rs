//! Payments through the payments function and the Paystack simulator (in-process), against
//! DynamoDB Local, with the simulator's webhooks delivered over HTTP to the real paystack-webhook
//! router and the events read back from moto.

use devkit::testing::{Caller, TestApp, TestAppBuilder, closed_port_url};
use http::Method;
use kitchen::{
    db::StoredOrder,
    domain::{Actor, OrderId, OrderStatus, Role},
    domain::{Order, PaymentReference},
    events::OrderEventKind,
};
use paystack_sim::SucceedOverrides;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn app() -> (TestApp, Caller) {
    app_with(|builder| builder).await
}

async fn app_with(configure: impl FnOnce(TestAppBuilder) -> TestAppBuilder) -> (TestApp, Caller) {
    let builder = configure(TestApp::builder().capture_events().paystack_sim());
    let app = builder.spawn(payments::FUNCTION).await;
    let caller = app.user(Role::Customer).await;
    (app, caller)
}

/// Has the simulator deliver its webhooks over HTTP to the paystack-webhook function's router,
/// on the same table and topic.
async fn deliver_webhooks(app: &TestApp) {
    let url = app
        .with_function(paystack_webhook::FUNCTION)
        .await
        .serve()
        .await;
    app.paystack()
        .state()
        .set_webhook_url(format!("{url}/webhooks/paystack"));
}

async fn stored_order(app: &TestApp, id: &OrderId) -> StoredOrder {
    app.db().get_order(id).await.unwrap().unwrap()
}

async fn start(app: &TestApp, caller: &Caller, order: &Order) -> Value {
    let response = app
        .request(
            Method::POST,
            &format!("/orders/{}/payments", order.id),
            None,
            Some(&caller.access_token),
        )
        .await;
    response.assert_status(201);
    response.json
}

fn reference_of(payment: &Value) -> String {
    payment["reference"].as_str().unwrap().to_string()
}

async fn verify(app: &TestApp, caller: &Caller, reference: &str) -> Value {
    let response = app
        .request(
            Method::POST,
            &format!("/payments/{reference}/verify"),
            None,
            Some(&caller.access_token),
        )
        .await;
    response.assert_status(200);
    response.json
}

async fn payment(app: &TestApp, reference: &str) -> kitchen::domain::Payment {
    app.db()
        .get_payment(&PaymentReference::parse(reference).unwrap())
        .await
        .unwrap()
        .unwrap()
        .payment
}

fn kinds(events: &[kitchen::events::OrderEvent]) -> Vec<OrderEventKind> {
    events.iter().map(|e| e.kind).collect()
}

#[tokio::test]
async fn paying_through_the_simulator_marks_the_order_paid_by_webhook() {
    let (app, caller) = app().await;
    deliver_webhooks(&app).await;
    let order = app.unpaid_order(&caller, 2).await;
    let started = start(&app, &caller, &order).await;
    assert_eq!(started["status"], "pending");
    assert_eq!(started["amount"], 500_000);
    assert_eq!(started["currency"], "NGN");
    assert_eq!(started["order_id"], order.id.as_str());
    assert_eq!(started["user_id"], caller.user.id.as_str());
    assert_eq!(started["refund_due"], false);
    let reference = reference_of(&started);
    let sim = app.paystack().state();
    let sent = sim
        .transaction(&reference)
        .expect("Paystack got the transaction");
    assert_eq!(sent.amount, 500_000, "the amount is the order's total");
    assert_eq!(sent.currency, "NGN");
    assert_eq!(
        sent.email,
        caller.user.email.as_ref().unwrap().as_str(),
        "the customer's email"
    );
    assert_eq!(sent.metadata["order_id"], order.id.as_str());
    assert_eq!(
        started["authorization_url"],
        sent.authorization_url.as_str()
    );

    let delivered = sim
        .succeed(&reference, SucceedOverrides::default())
        .await
        .unwrap();
    assert_eq!(delivered, Some(200), "the webhook answered 200");

    let paid = stored_order(&app, &order.id).await.order;
    assert_eq!(paid.status, OrderStatus::Paid);
    assert!(paid.paid_at.is_some());
    let last = paid.status_history.last().unwrap();
    assert_eq!((last.status, last.by), (OrderStatus::Paid, Actor::System));
    let recorded = payment(&app, &reference).await;
    assert_eq!(recorded.status, kitchen::domain::PaymentStatus::Success);
    assert_eq!(recorded.channel.as_deref(), Some("card"));
    assert_eq!(recorded.gateway_response.as_deref(), Some("Successful"));
    assert!(recorded.paid_at.is_some() && !recorded.refund_due);

    let events = app.published_events().await;
    assert_eq!(kinds(&events), [OrderEventKind::Paid]);
    assert_eq!(events[0].order_id, order.id);
    assert_eq!(events[0].status, OrderStatus::Paid);

    let token = Some(caller.access_token.as_str());
    let mine = app.get("/payments", token).await;
    mine.assert_status(200);
    assert_eq!(mine.json["items"][0]["reference"], reference.as_str());
    assert_eq!(mine.json["items"][0]["status"], "success");
    let attempts = app
        .get(&format!("/orders/{}/payments", order.id), token)
        .await;
    // The same attempt, with its refunds (none) beside it.
    let mut with_refunds = mine.json["items"].clone();
    with_refunds[0]["refunds"] = json!([]);
    assert_eq!(attempts.json["items"], with_refunds);
    // Verifying afterwards changes nothing and announces nothing.
    assert_eq!(verify(&app, &caller, &reference).await["status"], "success");
    assert!(app.published_events().await.is_empty());
}

#[tokio::test]
async fn a_customer_whose_email_is_not_verified_cannot_start_a_payment() {
    let (app, _) = app().await;
    let unverified = app.unverified_user().await;
    // An order staff placed for them needs nothing of them; paying it does.
    let order = app.unpaid_order(&unverified, 1).await;
    let refused = app
        .request(
            Method::POST,
            &format!("/orders/{}/payments", order.id),
            None,
            Some(&unverified.access_token),
        )
        .await;
    refused.assert_problem(403);
    assert_eq!(refused.json["type"], "urn:kitchen:problem:email-unverified");
    let attempts = app
        .get(
            &format!("/orders/{}/payments", order.id),
            Some(&unverified.access_token),
        )
        .await;
    attempts.assert_status(200);
    assert_eq!(attempts.json["items"], json!([]));
    assert!(app.paystack().state().transactions().is_empty());
}

#[tokio::test]
async fn verify_marks_the_order_paid_when_the_webhook_never_came() {
    let (app, caller) = app().await;
    let order = app.unpaid_order(&caller, 1).await;
    let reference = reference_of(&start(&app, &caller, &order).await);
    let sim = app.paystack().state();
    // Nobody listens at the webhook URL: Paystack's call is lost.
    let delivered = sim
        .succeed(&reference, SucceedOverrides::default())
        .await
        .unwrap();
    assert_eq!(delivered, None);
    assert_eq!(
        stored_order(&app, &order.id).await.order.status,
        OrderStatus::PendingPayment
    );

    let verified = verify(&app, &caller, &reference).await;
    assert_eq!(verified["status"], "success");
    assert_eq!(verified["channel"], "card");
    assert_eq!(
        stored_order(&app, &order.id).await.order.status,
        OrderStatus::Paid
    );
    assert_eq!(verify(&app, &caller, &reference).await, verified);
    // The webhook arriving late, twice, changes nothing.
    deliver_webhooks(&app).await;
    assert_eq!(sim.resend_webhook(&reference).await.unwrap(), Some(200));
    assert_eq!(sim.resend_webhook(&reference).await.unwrap(), Some(200));
    assert_eq!(kinds(&app.published_events().await), [OrderEventKind::Paid]);
    let history = stored_order(&app, &order.id).await.order.status_history;
    assert_eq!(
        history
            .iter()
            .filter(|h| h.status == OrderStatus::Paid)
            .count(),
        1
    );
}

#[tokio::test]
async fn an_unfinished_checkout_stays_pending_and_a_declined_card_can_still_pay_later() {
    let (app, caller) = app().await;
    deliver_webhooks(&app).await;
    let order = app.unpaid_order(&caller, 1).await;
    let reference = reference_of(&start(&app, &caller, &order).await);
    let sim = app.paystack().state();
    // Paystack says `abandoned` until the customer pays: still ours to wait for.
    assert_eq!(verify(&app, &caller, &reference).await["status"], "pending");
    sim.fail(&reference).unwrap();
    let declined = verify(&app, &caller, &reference).await;
    assert_eq!(declined["status"], "failed");
    assert_eq!(declined["gateway_response"], "Declined");
    assert_eq!(declined["note"], Value::Null);
    assert_eq!(
        stored_order(&app, &order.id).await.order.status,
        OrderStatus::PendingPayment
    );
    // Paystack lets the customer try another card on the same checkout.
    sim.succeed(&reference, SucceedOverrides::default())
        .await
        .unwrap();
    assert_eq!(payment(&app, &reference).await.status.as_str(), "success");
    assert_eq!(
        stored_order(&app, &order.id).await.order.status,
        OrderStatus::Paid
    );
    assert_eq!(kinds(&app.published_events().await), [OrderEventKind::Paid]);
}

#[tokio::test]
async fn each_call_is_a_new_attempt_and_a_second_payment_is_flagged_for_refund() {
    let (app, caller) = app().await;
    deliver_webhooks(&app).await;
    let order = app.unpaid_order(&caller, 1).await;
    let first = reference_of(&start(&app, &caller, &order).await);
    let second = reference_of(&start(&app, &caller, &order).await);
    assert_ne!(first, second);
    let token = Some(caller.access_token.as_str());
    let (attempts, pages) = app
        .collect_pages(&format!("/orders/{}/payments?limit=1", order.id), token)
        .await;
    assert_eq!(pages, 2);
    let listed: Vec<_> = attempts.iter().map(reference_of).collect();
    assert_eq!(listed, [second.clone(), first.clone()], "newest first");
    assert!(attempts.iter().all(|p| p["status"] == "pending"));

    let sim = app.paystack().state();
    sim.succeed(&second, SucceedOverrides::default())
        .await
        .unwrap();
    app.request(
        Method::POST,
        &format!("/orders/{}/payments", order.id),
        None,
        token,
    )
    .await
    .assert_problem(409);
    // The customer pays the older checkout too: the money is recorded, and owed back.
    sim.succeed(&first, SucceedOverrides::default())
        .await
        .unwrap();
    // The money is recorded, and given back without a person: a full refund by the system.
    let double = payment(&app, &first).await;
    assert_eq!(double.status.as_str(), "success");
    assert_eq!(
        double.note,
        Some(kitchen::domain::PaymentNote::OrderAlreadyPaid)
    );
    assert!(!double.refund_due, "the refund was started");
    assert_eq!(double.refunded_amount, double.amount);
    let refunds = sim.refunds();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].transaction_reference, first);
    assert_eq!(
        stored_order(&app, &order.id).await.order.status,
        OrderStatus::Paid
    );
    assert_eq!(kinds(&app.published_events().await), [OrderEventKind::Paid]);
}

#[tokio::test]
async fn a_cancelled_order_cannot_be_paid_and_money_arriving_late_is_owed_back() {
    let (app, caller) = app().await;
    deliver_webhooks(&app).await;
    let order = app.unpaid_order(&caller, 1).await;
    let reference = reference_of(&start(&app, &caller, &order).await);
    let stored = stored_order(&app, &order.id).await;
    app.state
        .orders()
        .move_order(&stored, OrderStatus::Cancelled, Actor::Customer, None)
        .await
        .unwrap();
    let again = app
        .request(
            Method::POST,
            &format!("/orders/{}/payments", order.id),
            None,
            Some(&caller.access_token),
        )
        .await;
    again.assert_problem(409);
    assert!(again.json["detail"].as_str().unwrap().contains("cancelled"));
    // The customer had the checkout open and paid anyway.
    app.paystack()
        .state()
        .succeed(&reference, SucceedOverrides::default())
        .await
        .unwrap();
    let late = payment(&app, &reference).await;
    assert_eq!(late.status.as_str(), "success");
    assert_eq!(
        late.note,
        Some(kitchen::domain::PaymentNote::OrderCancelled)
    );
    // Given back at once, by the system; the order shows it.
    assert!(!late.refund_due);
    assert_eq!(late.refunded_amount, late.amount);
    let kept = stored_order(&app, &order.id).await.order;
    assert_eq!(kept.status, OrderStatus::Cancelled);
    assert!(!kept.refund_due, "the refund was started");
    assert_eq!(kept.refunded_amount, late.amount);
    assert_eq!(app.paystack().state().refunds().len(), 1);
    // The customer sees the refund beside the attempt: amount and status, no staff or Paystack ids.
    let listed = app
        .get(
            &format!("/orders/{}/payments", order.id),
            Some(&caller.access_token),
        )
        .await;
    listed.assert_status(200);
    let refunds = listed.json["items"][0]["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0]["amount"], 250_000);
    assert_eq!(refunds[0]["status"], "pending");
    assert_eq!(refunds[0]["payment_reference"], json!(reference));
    for hidden in [
        "admin_id",
        "paystack_id",
        "reason",
        "requested_by",
        "user_id",
    ] {
        assert!(refunds[0].get(hidden).is_none(), "{hidden}");
    }
    assert_eq!(
        kinds(&app.published_events().await),
        [OrderEventKind::Cancelled],
        "no order.paid"
    );
}

#[tokio::test]
async fn money_for_an_expired_order_writes_the_expiry_down_and_is_owed_back() {
    let (app, caller) = app_with(|b| b.parameter("UnpaidOrderExpirySeconds", "300")).await;
    deliver_webhooks(&app).await;
    // Five seconds before the stack's 300 s expiry.
    let order = app
        .unpaid_order_placed(&caller, 1, kitchen::now() - Duration::from_secs(295))
        .await;
    let reference = reference_of(&start(&app, &caller, &order).await);
    tokio::time::sleep(Duration::from_millis(5100)).await;
    app.request(
        Method::POST,
        &format!("/orders/{}/payments", order.id),
        None,
        Some(&caller.access_token),
    )
    .await
    .assert_problem(409);
    app.paystack()
        .state()
        .succeed(&reference, SucceedOverrides::default())
        .await
        .unwrap();
    let kept = stored_order(&app, &order.id).await.order;
    assert_eq!(kept.status, OrderStatus::Cancelled);
    assert_eq!(kept.cancel_reason.as_deref(), Some("payment_timeout"));
    // Owed back, and given back at once.
    assert!(!kept.refund_due);
    let late = payment(&app, &reference).await;
    assert!(!late.refund_due);
    assert_eq!(late.refunded_amount, late.amount);
    // Announced once, here; the sweep finds nothing left to write down, even while the index
    // still lists the order as unpaid (as it may for a moment after the payment's write).
    assert_eq!(
        kinds(&app.published_events().await),
        [OrderEventKind::Cancelled]
    );
    app.index_lists_as_unpaid(&order.id).await;
    // Past the deadline, to the second the sweep's query counts in.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let cutoff = kitchen::now() - app.state.config.unpaid_order_expiry;
    let listed = app.db().unpaid_orders_before(cutoff, 50).await.unwrap();
    assert_eq!(listed.len(), 1, "the sweep's query finds the order");
    assert_eq!(
        app.state.payments().unwrap().sweep_unpaid().await.unwrap(),
        0
    );
    assert!(app.published_events().await.is_empty());
}

#[tokio::test]
async fn a_replay_after_the_order_moved_on_leaves_its_status_alone() {
    let (app, caller) = app().await;
    deliver_webhooks(&app).await;
    let order = app.unpaid_order(&caller, 1).await;
    let reference = reference_of(&start(&app, &caller, &order).await);
    let sim = app.paystack().state();
    sim.succeed(&reference, SucceedOverrides::default())
        .await
        .unwrap();
    let paid = stored_order(&app, &order.id).await;
    app.state
        .orders()
        .move_order(&paid, OrderStatus::Preparing, Actor::Admin, None)
        .await
        .unwrap();
    assert_eq!(sim.resend_webhook(&reference).await.unwrap(), Some(200));
    assert_eq!(verify(&app, &caller, &reference).await["status"], "success");
    let now = stored_order(&app, &order.id).await;
    assert_eq!(now.order.status, OrderStatus::Preparing);
    assert_eq!(now.version, paid.version + 1, "only the move to preparing");
    assert_eq!(
        kinds(&app.published_events().await),
        [OrderEventKind::Paid, OrderEventKind::StatusChanged]
    );
}

#[tokio::test]
async fn a_short_amount_or_a_wrong_currency_leaves_the_order_unpaid() {
    let (app, caller) = app().await;
    deliver_webhooks(&app).await;
    let order = app.unpaid_order(&caller, 2).await;
    let sim = app.paystack().state();
    let cases = [
        (
            SucceedOverrides {
                amount: Some(499_999),
                currency: None,
            },
            kitchen::domain::PaymentNote::AmountMismatch,
        ),
        (
            SucceedOverrides {
                amount: None,
                currency: Some("USD".into()),
            },
            kitchen::domain::PaymentNote::CurrencyMismatch,
        ),
    ];
    for (overrides, note) in cases {
        let reference = reference_of(&start(&app, &caller, &order).await);
        assert_eq!(
            sim.succeed(&reference, overrides).await.unwrap(),
            Some(200),
            "acknowledged, so Paystack stops retrying"
        );
        let flagged = payment(&app, &reference).await;
        assert_eq!(flagged.status.as_str(), "failed");
        assert_eq!(flagged.note, Some(note));
        if note == kitchen::domain::PaymentNote::AmountMismatch {
            // What was charged is given back at once, by the system.
            assert!(!flagged.refund_due);
            assert_eq!(
                flagged.charged_amount.map(|m| m.minor_units()),
                Some(499_999)
            );
            assert_eq!(flagged.refunded_amount.minor_units(), 499_999);
            let at_paystack = sim.refunds();
            assert_eq!(at_paystack.len(), 1);
            assert_eq!(at_paystack[0].amount, 499_999);
        } else {
            // Money in another currency is for staff to give back by hand.
            assert!(flagged.refund_due);
            assert_eq!(flagged.refunded_amount.minor_units(), 0);
            assert_eq!(sim.refunds().len(), 1, "no refund of it");
        }
        assert_eq!(
            stored_order(&app, &order.id).await.order.status,
            OrderStatus::PendingPayment
        );
        // A replay, and a verify, find it flagged and change nothing.
        assert_eq!(sim.resend_webhook(&reference).await.unwrap(), Some(200));
        let verified = verify(&app, &caller, &reference).await;
        assert_eq!(verified["note"], serde_json::to_value(note).unwrap());
        assert_eq!(verified["status"], "failed");
    }
    assert!(app.published_events().await.is_empty());
    // A full payment on a new attempt still pays the order.
    let reference = reference_of(&start(&app, &caller, &order).await);
    sim.succeed(&reference, SucceedOverrides::default())
        .await
        .unwrap();
    assert_eq!(
        stored_order(&app, &order.id).await.order.status,
        OrderStatus::Paid
    );
}

#[tokio::test]
async fn an_order_changed_after_the_attempt_started_is_not_paid_by_it() {
    let (app, caller) = app().await;
    deliver_webhooks(&app).await;
    let order = app.unpaid_order(&caller, 1).await;
    let reference = reference_of(&start(&app, &caller, &order).await);
    let stored = stored_order(&app, &order.id).await;
    let mut bigger = stored.order.clone();
    bigger.total = kitchen::domain::Money::from_minor_units(750_000);
    assert!(app.db().replace_order(&stored, &bigger).await.unwrap());
    app.paystack()
        .state()
        .succeed(&reference, SucceedOverrides::default())
        .await
        .unwrap();
    let flagged = payment(&app, &reference).await;
    assert_eq!(
        flagged.note,
        Some(kitchen::domain::PaymentNote::OrderChanged)
    );
    // All it paid is given back at once, by the system.
    assert!(!flagged.refund_due);
    assert_eq!(flagged.refunded_amount, flagged.amount);
    let at_paystack = app.paystack().state().refunds();
    assert_eq!(at_paystack.len(), 1);
    assert_eq!(at_paystack[0].amount as i64, flagged.amount.minor_units());
    assert_eq!(
        stored_order(&app, &order.id).await.order.status,
        OrderStatus::PendingPayment
    );
}

#[tokio::test]
async fn concurrent_webhooks_and_verifies_pay_the_order_exactly_once() {
    let (app, caller) = app().await;
    let order = app.unpaid_order(&caller, 1).await;
    let reference = reference_of(&start(&app, &caller, &order).await);
    let sim = app.paystack().state();
    sim.succeed(&reference, SucceedOverrides::default())
        .await
        .unwrap();
    deliver_webhooks(&app).await;
    let webhooks = futures::future::join_all((0..8).map(|_| sim.resend_webhook(&reference)));
    let verifies = futures::future::join_all((0..3).map(|_| verify(&app, &caller, &reference)));
    let (delivered, verified) = tokio::join!(webhooks, verifies);
    assert!(
        delivered.iter().all(|d| d.as_ref().unwrap() == &Some(200)),
        "{delivered:?}"
    );
    assert!(verified.iter().all(|v| v["status"] == "success"));
    let paid = stored_order(&app, &order.id).await;
    assert_eq!(paid.order.status, OrderStatus::Paid);
    assert_eq!(paid.version, 2, "one write after the order was placed");
    assert_eq!(kinds(&app.published_events().await), [OrderEventKind::Paid]);
}

#[tokio::test]
async fn paystack_down_is_503_and_leaves_the_order_as_it_was() {
    let app = TestApp::builder()
        .capture_events()
        .parameter("PaystackBaseUrl", closed_port_url())
        .spawn(payments::FUNCTION)
        .await;
    let caller = app.user(Role::Customer).await;
    let order = app.unpaid_order(&caller, 1).await;
    let before = stored_order(&app, &order.id).await;
    let response = app
        .request(
            Method::POST,
            &format!("/orders/{}/payments", order.id),
            None,
            Some(&caller.access_token),
        )
        .await;
    response.assert_problem(503);
    assert!(response.headers.contains_key("retry-after"));
    let after = stored_order(&app, &order.id).await;
    assert_eq!(
        (after.version, after.order.status),
        (before.version, OrderStatus::PendingPayment)
    );
    // The attempt is on record, and marked as never handed out.
    let listed = app.get("/payments", Some(&caller.access_token)).await;
    let attempt = &listed.json["items"][0];
    assert_eq!(attempt["status"], "abandoned");
    assert_eq!(attempt["note"], "paystack_unreachable");
    assert_eq!(attempt["authorization_url"], Value::Null);
    assert!(app.published_events().await.is_empty());
}

#[tokio::test]
async fn a_slow_paystack_times_out_with_503_and_changes_nothing() {
    let (app, caller) = app_with(|b| b.parameter("PaystackTimeoutMs", "300")).await;
    let order = app.unpaid_order(&caller, 1).await;
    let pending = reference_of(&start(&app, &caller, &order).await);
    let sim = app.paystack().state();
    sim.set_delay(Duration::from_millis(1500));
    let before = stored_order(&app, &order.id).await;
    let started = Instant::now();
    let response = app
        .request(
            Method::POST,
            &format!("/orders/{}/payments", order.id),
            None,
            Some(&caller.access_token),
        )
        .await;
    response.assert_problem(503);
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
    // Verify is a read, retried only when Paystack fails fast: a timeout is not retried.
    let slow_verify = app
        .request(
            Method::POST,
            &format!("/payments/{pending}/verify"),
            None,
            Some(&caller.access_token),
        )
        .await;
    slow_verify.assert_problem(503);
    assert_eq!(
        payment(&app, &pending).await.status.as_str(),
        "pending",
        "a verify that failed records nothing"
    );
    let after = stored_order(&app, &order.id).await;
    assert_eq!(after.version, before.version);
    assert_eq!(after.order.status, OrderStatus::PendingPayment);
}

#[tokio::test]
async fn a_paystack_refusal_is_a_502_and_changes_nothing() {
    let (app, caller) = app_with(|b| b.paystack_secret("sk_test_not_the_right_one")).await;
    let order = app.unpaid_order(&caller, 1).await;
    let response = app
        .request(
            Method::POST,
            &format!("/orders/{}/payments", order.id),
            None,
            Some(&caller.access_token),
        )
        .await;
    response.assert_problem(502);
    assert!(
        !response.text.contains("Invalid key"),
        "Paystack's message stays in the logs"
    );
    let listed = app.get("/payments", Some(&caller.access_token)).await;
    assert_eq!(listed.json["items"][0]["status"], "failed");
    assert_eq!(listed.json["items"][0]["note"], "initialize_failed");
    assert_eq!(
        stored_order(&app, &order.id).await.order.status,
        OrderStatus::PendingPayment
    );
}

fn start_with_key(caller: &Caller, order: &OrderId, key: &str) -> http::Request<axum::body::Body> {
    http::Request::builder()
        .method("POST")
        .uri(format!("/orders/{order}/payments"))
        .header("authorization", format!("Bearer {}", caller.access_token))
        .header("idempotency-key", key)
        .body(axum::body::Body::empty())
        .unwrap()
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_attempt() {
    let (app, caller) = app().await;
    let order = app.unpaid_order(&caller, 1).await;
    let first = app.send(start_with_key(&caller, &order.id, "pay-1")).await;
    first.assert_status(201);
    let again = app.send(start_with_key(&caller, &order.id, "pay-1")).await;
    again.assert_status(201);
    assert_eq!(again.json, first.json);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(app.paystack().state().transactions().len(), 1);
    // The same key for another order is another request.
    let other = app.unpaid_order(&caller, 2).await;
    app.send(start_with_key(&caller, &other.id, "pay-1"))
        .await
        .assert_problem(422);
    // Concurrent retries with one key answer one attempt.
    let racing = futures::future::join_all(
        (0..5).map(|_| app.send(start_with_key(&caller, &other.id, "pay-2"))),
    )
    .await;
    assert!(racing.iter().all(|r| r.status == 201));
    let answered: std::collections::HashSet<_> =
        racing.iter().map(|r| reference_of(&r.json)).collect();
    assert_eq!(answered.len(), 1, "{answered:?}");
    let (attempts, _) = app
        .collect_pages(
            &format!("/orders/{}/payments", other.id),
            Some(&caller.access_token),
        )
        .await;
    let handed_out: Vec<_> = attempts
        .iter()
        .filter(|p| p["status"] == "pending")
        .collect();
    assert_eq!(handed_out.len(), 1);
    assert!(
        attempts
            .iter()
            .filter(|p| p["status"] != "pending")
            .all(|p| p["status"] == "abandoned" && p["note"] == "duplicate_request")
    );
    let bad_key = start_with_key(&caller, &order.id, &"x".repeat(256));
    app.send(bad_key).await.assert_problem(400);
}

#[tokio::test]
async fn customers_reach_only_their_own_payments() {
    let (app, caller) = app().await;
    let intruder = app.user(Role::Customer).await;
    let order = app.unpaid_order(&caller, 1).await;
    let reference = reference_of(&start(&app, &caller, &order).await);
    let theirs = Some(intruder.access_token.as_str());
    let paths = [
        (Method::POST, format!("/orders/{}/payments", order.id)),
        (Method::GET, format!("/orders/{}/payments", order.id)),
        (Method::POST, format!("/payments/{reference}/verify")),
    ];
    for (method, path) in &paths {
        app.request(method.clone(), path, None, theirs)
            .await
            .assert_problem(404);
        app.request(method.clone(), path, None, None)
            .await
            .assert_problem(401);
    }
    app.get("/payments", None).await.assert_problem(401);
    assert_eq!(app.get("/payments", theirs).await.json["items"], json!([]));
    assert_eq!(
        app.paystack().state().transactions().len(),
        1,
        "the intruder started nothing"
    );
    let mine = Some(caller.access_token.as_str());
    for (method, path) in [
        (Method::POST, format!("/orders/{}/payments", OrderId::new())),
        (Method::GET, format!("/orders/{}/payments", OrderId::new())),
        (Method::POST, "/orders/not-an-id/payments".to_string()),
        (Method::GET, "/orders/not-an-id/payments".to_string()),
        (
            Method::POST,
            format!("/payments/{}/verify", PaymentReference::new()),
        ),
        (Method::POST, "/payments/not_a_reference/verify".to_string()),
    ] {
        app.request(method, &path, None, mine)
            .await
            .assert_problem(404);
    }
    assert_eq!(
        payment(&app, &reference).await.status.as_str(),
        "pending",
        "nothing changed"
    );
}

#[tokio::test]
async fn payment_lists_page_newest_first_and_refuse_bad_queries() {
    let (app, caller) = app().await;
    let token = Some(caller.access_token.as_str());
    let mut references = Vec::new();
    for portions in 1..=3 {
        let order = app.unpaid_order(&caller, portions).await;
        references.push(reference_of(&start(&app, &caller, &order).await));
    }
    let (all, pages) = app.collect_pages("/payments?limit=2", token).await;
    assert_eq!(pages, 2);
    let listed: Vec<_> = all.iter().map(reference_of).collect();
    references.reverse();
    assert_eq!(listed, references);
    for query in [
        "limit=0",
        "limit=101",
        "limit=x",
        "status=success",
        "cursor=forged.cursor",
    ] {
        app.get(&format!("/payments?{query}"), token)
            .await
            .assert_problem(400);
    }
    let first = app.get("/payments?limit=1", token).await;
    let cursor = first.json["next_cursor"].as_str().unwrap();
    let other = app.user(Role::Customer).await;
    app.get(
        &format!("/payments?cursor={cursor}"),
        Some(&other.access_token),
    )
    .await
    .assert_problem(400);
}

#[tokio::test]
async fn the_sample_events_reach_their_routes() {
    let (app, _) = app().await;
    for name in ["list.json", "start.json", "verify.json"] {
        let path = devkit::repo_root().join("events/payments").join(name);
        let request = lambda_http::request::from_str(&std::fs::read_to_string(path).unwrap())
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, axum::body::Body::from(body.to_vec()));
        // Their token is a placeholder: the route is found, and the caller refused.
        let response = app.send(request).await;
        response.assert_problem(401);
    }
}

#[tokio::test]
async fn the_list_waits_one_round_trip_and_a_revoked_session_sees_nothing_of_it() {
    let (app, caller) = app().await;
    app.assert_own_list_is_read_beside_the_session_check(&caller, "/payments")
        .await;
}
