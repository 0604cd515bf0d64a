//! Refund events and the domain check: refund events shaped as Paystack's samples (no refund id,
//! `amount` a string or a number), each followed through the simulator's refund API.

use devkit::testing::{TEST_PAYSTACK_SECRET, TestApp};
use kitchen::domain::{
    Money, OrderStatus, Payment, PaymentStatus, Refund, RefundStatus, RequestedBy, Role,
};
use kitchen::events::OrderEventKind;
use paystack_sim::RefundStatus as AtPaystack;
use serde_json::{Value, json};

use crate::webhook::{charge_success, pending_payment, signed, status_of};

async fn app() -> TestApp {
    TestApp::builder()
        .capture_events()
        .paystack_sim()
        .spawn(paystack_webhook::FUNCTION)
        .await
}

/// A customer's order paid through the simulator (charged there, recorded here as verify would).
async fn charged(app: &TestApp) -> Payment {
    let customer = app.user(Role::Customer).await;
    let order = app.unpaid_order(&customer, 2).await;
    let paid = app.charge(&order).await;
    assert_eq!(paid.status, PaymentStatus::Success);
    paid
}

/// A refund of `amount` of `payment`, taken by Paystack and stored here as staff's would be.
async fn refunded(app: &TestApp, payment: &Payment, amount: i64) -> Refund {
    let amount = Money::from_minor_units(amount);
    let taken = app
        .state
        .paystack()
        .unwrap()
        .refund(&payment.reference, amount, payment.currency, "test")
        .await
        .unwrap();
    let refund = Refund {
        paystack_id: Some(taken.id),
        ..Refund::of(
            payment,
            amount,
            "test",
            RequestedBy::System,
            None,
            kitchen::now(),
        )
    };
    app.db()
        .reserve_refund(&refund, payment.amount, None)
        .await
        .unwrap();
    refund
}

/// A refund event as Paystack's samples show it: the charge's reference, no refund id, `amount` a
/// string (a number in `refund.failed`).
fn refund_event(name: &str, payment: &Payment, amount: i64) -> Vec<u8> {
    let status = name.trim_start_matches("refund.");
    let amount = if status == "failed" {
        json!(amount)
    } else {
        json!(amount.to_string())
    };
    serde_json::to_vec(&json!({
        "event": name,
        "data": {
            "status": status, "transaction_reference": payment.reference.as_str(),
            "refund_reference": if status == "processed" { json!("132013318360") } else { Value::Null },
            "amount": amount, "currency": "NGN", "processor": "instant-transfer",
            "customer": {"first_name": "Ada", "last_name": "Obi", "email": "ada@example.com"},
            "integration": 412829, "domain": "test",
        },
    }))
    .unwrap()
}

async fn refund_now(app: &TestApp, refund: &Refund) -> Refund {
    app.db()
        .get_refund(&refund.id)
        .await
        .unwrap()
        .unwrap()
        .refund
}

#[tokio::test]
async fn refund_events_move_each_refund_forward_as_paystack_reports_it() {
    let app = app().await;
    let payment = charged(&app).await;
    let first = refunded(&app, &payment, 100_000).await;
    let second = refunded(&app, &payment, 150_000).await;
    let sim = app.paystack().state();
    app.published_events().await;
    // Paystack moved the second refund on; the event names only the charge.
    sim.advance_refund(second.paystack_id.unwrap(), AtPaystack::Processing)
        .await
        .unwrap();
    let body = refund_event("refund.processing", &payment, 150_000);
    app.send(signed(&body)).await.assert_status(200);
    assert_eq!(refund_now(&app, &first).await.status, RefundStatus::Pending);
    assert_eq!(
        refund_now(&app, &second).await.status,
        RefundStatus::Processing
    );
    sim.advance_refund(second.paystack_id.unwrap(), AtPaystack::Processed)
        .await
        .unwrap();
    let body = refund_event("refund.processed", &payment, 150_000);
    app.send(signed(&body)).await.assert_status(200);
    let processed = refund_now(&app, &second).await;
    assert_eq!(processed.status, RefundStatus::Processed);
    assert!(processed.processed_at.is_some());
    // The customer is texted once, with the amount that went back.
    let events = app.published_events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].kind, OrderEventKind::Refunded);
    assert_eq!(events[0].refunded, Some(Money::from_minor_units(150_000)));
    assert_eq!(events[0].order_id, payment.order_id);
    // An older event arriving late, and the same event again, change nothing.
    for late in ["refund.pending", "refund.processing", "refund.processed"] {
        app.send(signed(&refund_event(late, &payment, 150_000)))
            .await
            .assert_status(200);
    }
    assert_eq!(refund_now(&app, &second).await, processed);
    assert!(app.published_events().await.is_empty(), "no second text");
    let counted = app
        .db()
        .get_payment(&payment.reference)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(counted.payment.refunded_amount.minor_units(), 250_000);
}

#[tokio::test]
async fn a_failed_refund_gives_its_amount_back_to_the_counters() {
    let app = app().await;
    let payment = charged(&app).await;
    let refund = refunded(&app, &payment, 500_000).await;
    let sim = app.paystack().state();
    sim.advance_refund(refund.paystack_id.unwrap(), AtPaystack::NeedsAttention)
        .await
        .unwrap();
    app.send(signed(&refund_event(
        "refund.needs-attention",
        &payment,
        500_000,
    )))
    .await
    .assert_status(200);
    assert_eq!(
        refund_now(&app, &refund).await.status,
        RefundStatus::NeedsAttention
    );
    sim.advance_refund(refund.paystack_id.unwrap(), AtPaystack::Failed)
        .await
        .unwrap();
    app.send(signed(&refund_event("refund.failed", &payment, 500_000)))
        .await
        .assert_status(200);
    assert_eq!(refund_now(&app, &refund).await.status, RefundStatus::Failed);
    let stored = app
        .db()
        .get_payment(&payment.reference)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.payment.refunded_amount, Money::ZERO);
    let order = app
        .db()
        .get_order(&payment.order_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.order.refunded_amount, Money::ZERO);
    assert_eq!(order.order.status, OrderStatus::Paid);
}

#[tokio::test]
async fn paystack_unreachable_while_following_a_refund_is_5xx_so_that_paystack_retries() {
    let app = app().await;
    let payment = charged(&app).await;
    let refund = refunded(&app, &payment, 100_000).await;
    app.paystack()
        .state()
        .set_delay(std::time::Duration::from_secs(10));
    let response = app
        .send(signed(&refund_event("refund.processed", &payment, 100_000)))
        .await;
    assert!(response.status.is_server_error(), "{}", response.status);
    assert_eq!(
        refund_now(&app, &refund).await.status,
        RefundStatus::Pending
    );
}

#[tokio::test]
async fn events_of_the_other_domain_change_nothing() {
    let app = app().await;
    let (order, payment) = pending_payment(&app).await;
    let mut live: Value =
        serde_json::from_slice(&charge_success(payment.reference.as_str(), 250_000, "NGN"))
            .unwrap();
    live["data"]["domain"] = json!("live");
    let body = serde_json::to_vec(&live).unwrap();
    app.send(signed(&body)).await.assert_status(200);
    assert_eq!(
        status_of(&app, &order, &payment).await,
        (OrderStatus::PendingPayment, PaymentStatus::Pending)
    );
    // A live deployment ignores test events.
    const LIVE_KEY: &str = "sk_live_kitchen";
    let live_app = TestApp::builder()
        .paystack_secret(LIVE_KEY)
        .spawn(paystack_webhook::FUNCTION)
        .await;
    let (order, payment) = pending_payment(&live_app).await;
    let body = charge_success(payment.reference.as_str(), 250_000, "NGN");
    let request = http::Request::builder()
        .method("POST")
        .uri("/webhooks/paystack")
        .header("content-type", "application/json")
        .header("x-paystack-signature", paystack_sim::sign(LIVE_KEY, &body))
        .body(axum::body::Body::from(body.clone()))
        .unwrap();
    live_app.send(request).await.assert_status(200);
    assert_eq!(
        status_of(&live_app, &order, &payment).await,
        (OrderStatus::PendingPayment, PaymentStatus::Pending)
    );
    assert_ne!(LIVE_KEY, TEST_PAYSTACK_SECRET);
}

/// A dispute event as Paystack's samples show it, on `payment`'s charge.
fn dispute_event(name: &str, payment: &Payment, status: &str, resolution: Option<&str>) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "event": name,
        "data": {
            "id": 358950, "refund_amount": payment.amount, "currency": "NGN", "status": status,
            "resolution": resolution, "domain": "test",
            "transaction": {
                "id": 896467688, "domain": "test", "status": "success", "reference": payment.reference.as_str(),
                "amount": payment.amount, "currency": "NGN", "channel": "card", "metadata": "",
                "paid_at": "2026-11-24T13:45:57.000Z",
            },
            "transaction_reference": null, "category": "chargeback",
            "customer": {"id": 5406463, "first_name": "Ada", "last_name": "Obi", "email": "ada@example.com"},
            "bin": "408408", "last4": "4081", "dueAt": "2026-11-25T18:00:00.000Z", "resolvedAt": null,
            "evidence": null, "attachments": null, "note": null,
            "history": [{"status": "pending", "by": "ada@example.com", "createdAt": "2026-11-24T13:46:57.000Z"}],
            "messages": [{"sender": "ada@example.com", "body": "Customer complained about debit without value",
                          "createdAt": "2026-11-24T13:46:57.000Z"}],
            "created_at": "2026-11-24T13:46:57.000Z", "updated_at": "2026-11-24T18:00:02.000Z",
        },
    }))
    .unwrap()
}

#[tokio::test]
async fn a_dispute_is_recorded_on_its_payment_listed_while_open_and_told_to_the_kitchen_once() {
    use kitchen::domain::DisputeStatus;
    let app = app().await;
    let payment = charged(&app).await;
    app.published_events().await;
    let create = dispute_event(
        "charge.dispute.create",
        &payment,
        "awaiting-merchant-feedback",
        None,
    );
    app.send(signed(&create)).await.assert_status(200);
    let stored = app
        .db()
        .get_payment(&payment.reference)
        .await
        .unwrap()
        .unwrap();
    let dispute = stored.payment.dispute.clone().expect("a dispute");
    assert_eq!(dispute.status, DisputeStatus::Open);
    assert_eq!(
        dispute.reason.as_deref(),
        Some("Customer complained about debit without value")
    );
    // 2026-11-25T18:00:00Z
    assert_eq!(dispute.due_at.unwrap().unix_timestamp(), 1_795_629_600);
    let open = app.db().open_disputes(10, None).await.unwrap();
    assert_eq!(open.items.len(), 1);
    assert_eq!(open.items[0].reference, payment.reference);
    let events = app.published_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, OrderEventKind::Disputed);
    // A reminder and a repeated create change the record, not the kitchen's texts.
    let remind = dispute_event(
        "charge.dispute.remind",
        &payment,
        "awaiting-merchant-feedback",
        None,
    );
    app.send(signed(&remind)).await.assert_status(200);
    app.send(signed(&create)).await.assert_status(200);
    assert!(app.published_events().await.is_empty());
    let resolve = dispute_event(
        "charge.dispute.resolve",
        &payment,
        "resolved",
        Some("declined"),
    );
    app.send(signed(&resolve)).await.assert_status(200);
    let stored = app
        .db()
        .get_payment(&payment.reference)
        .await
        .unwrap()
        .unwrap();
    let dispute = stored.payment.dispute.clone().unwrap();
    assert_eq!(dispute.status, DisputeStatus::Resolved);
    assert_eq!(dispute.resolution.as_deref(), Some("declined"));
    assert!(
        app.db()
            .open_disputes(10, None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // A create arriving after the resolution changes nothing.
    app.send(signed(&create)).await.assert_status(200);
    let after = app
        .db()
        .get_payment(&payment.reference)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.payment.dispute, stored.payment.dispute);
    assert!(app.published_events().await.is_empty());
}
