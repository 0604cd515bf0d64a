//! The Paystack webhook through its router, against DynamoDB Local, with bodies signed as Paystack
//! signs them and the events read back from moto.

use axum::body::Body;
use devkit::testing::{TEST_PAYSTACK_SECRET, TestApp, TestAppBuilder};
use kitchen::{
    domain::{Order, Payment, PaymentReference, PaymentStatus},
    domain::{OrderStatus, Role},
    events::OrderEventKind,
};
use serde_json::{Value, json};

async fn app() -> TestApp {
    spawn(TestApp::builder().capture_events()).await
}

async fn spawn(builder: TestAppBuilder) -> TestApp {
    builder.spawn(paystack_webhook::FUNCTION).await
}

/// A customer's unpaid ₦2,500.00 order and a pending payment for it, straight in the table.
pub(crate) async fn pending_payment(app: &TestApp) -> (Order, Payment) {
    let customer = app.user(Role::Customer).await;
    let order = app.unpaid_order(&customer, 1).await;
    let payment = Payment::start(&order, kitchen::now());
    app.db().create_payment(&payment).await.unwrap();
    (order, payment)
}

/// A `charge.success` body as Paystack sends it (the fields we read, and some we do not).
pub(crate) fn charge_success(reference: &str, amount: i64, currency: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "event": "charge.success",
        "data": {
            "id": 5_000_000_123u64, "domain": "test", "status": "success", "reference": reference,
            "amount": amount, "currency": currency, "channel": "card", "gateway_response": "Successful",
            "paid_at": "2026-11-23T09:16:41.000Z", "paidAt": "2026-11-23T09:16:41.000Z",
            "created_at": "2026-11-23T09:15:58.000Z", "metadata": "", "log": null, "fees": 3750,
            "customer": {"email": "ada@example.com"}, "authorization": {"last4": "4081"},
        },
    }))
    .unwrap()
}

fn webhook(body: &[u8], signature: Option<&str>) -> http::Request<Body> {
    let mut request = http::Request::builder()
        .method("POST")
        .uri("/webhooks/paystack")
        .header("content-type", "application/json");
    if let Some(signature) = signature {
        request = request.header("x-paystack-signature", signature);
    }
    request.body(Body::from(body.to_vec())).unwrap()
}

pub(crate) fn signed(body: &[u8]) -> http::Request<Body> {
    webhook(body, Some(&paystack_sim::sign(TEST_PAYSTACK_SECRET, body)))
}

pub(crate) async fn status_of(
    app: &TestApp,
    order: &Order,
    payment: &Payment,
) -> (OrderStatus, PaymentStatus) {
    let order = app.db().get_order(&order.id).await.unwrap().unwrap();
    let payment = app
        .db()
        .get_payment(&payment.reference)
        .await
        .unwrap()
        .unwrap();
    (order.order.status, payment.payment.status)
}

#[tokio::test]
async fn a_signed_charge_success_marks_the_order_paid_once() {
    let app = app().await;
    let (order, payment) = pending_payment(&app).await;
    let body = charge_success(payment.reference.as_str(), 250_000, "NGN");
    let response = app.send(signed(&body)).await;
    response.assert_status(200);
    assert_eq!(response.json, json!({"received": true}));
    assert_eq!(
        status_of(&app, &order, &payment).await,
        (OrderStatus::Paid, PaymentStatus::Success)
    );
    let recorded = app
        .db()
        .get_payment(&payment.reference)
        .await
        .unwrap()
        .unwrap()
        .payment;
    assert_eq!(recorded.paid_at.unwrap().unix_timestamp(), 1_795_425_401);
    assert_eq!(recorded.channel.as_deref(), Some("card"));
    // Paystack delivering the same event again changes nothing.
    app.send(signed(&body)).await.assert_status(200);
    let events = app.published_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, OrderEventKind::Paid);
    assert_eq!(events[0].order_id, order.id);
}

#[tokio::test]
async fn forged_missing_and_wrong_key_signatures_are_401_and_change_nothing() {
    let app = app().await;
    let (order, payment) = pending_payment(&app).await;
    let body = charge_success(payment.reference.as_str(), 250_000, "NGN");
    let genuine = paystack_sim::sign(TEST_PAYSTACK_SECRET, &body);
    let tampered = charge_success(payment.reference.as_str(), 100, "NGN");
    let mut flipped = genuine.clone().into_bytes();
    flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).unwrap();
    let cases: Vec<(Vec<u8>, Option<String>)> = vec![
        (body.clone(), None),
        (body.clone(), Some(String::new())),
        (
            body.clone(),
            Some(paystack_sim::sign("sk_test_someone_else", &body)),
        ),
        (tampered.clone(), Some(genuine.clone())),
        (body.clone(), Some(flipped)),
        (body.clone(), Some(genuine[..64].to_string())),
        (body.clone(), Some("not hex at all".into())),
        // Re-serialized JSON is other bytes: the signature covers the raw body only.
        (
            serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&body).unwrap()).unwrap(),
            Some(genuine.clone()),
        ),
    ];
    for (body, signature) in cases {
        app.send(webhook(&body, signature.as_deref()))
            .await
            .assert_problem(401);
    }
    assert_eq!(
        status_of(&app, &order, &payment).await,
        (OrderStatus::PendingPayment, PaymentStatus::Pending)
    );
    assert!(app.published_events().await.is_empty());
    app.send(webhook(&body, Some(&genuine)))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn eight_concurrent_duplicate_webhooks_make_one_success_and_one_event() {
    let app = app().await;
    let (order, payment) = pending_payment(&app).await;
    let body = charge_success(payment.reference.as_str(), 250_000, "NGN");
    let responses = futures::future::join_all((0..8).map(|_| app.send(signed(&body)))).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status.as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let stored = app.db().get_order(&order.id).await.unwrap().unwrap();
    assert_eq!(stored.order.status, OrderStatus::Paid);
    assert_eq!(stored.version, 2, "exactly one write to the order");
    let paid_moves = stored
        .order
        .status_history
        .iter()
        .filter(|change| change.status == OrderStatus::Paid)
        .count();
    assert_eq!(paid_moves, 1);
    let stored_payment = app
        .db()
        .get_payment(&payment.reference)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored_payment.version, 2,
        "exactly one write to the payment"
    );
    let events = app.published_events().await;
    assert_eq!(
        events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [OrderEventKind::Paid]
    );
}

#[tokio::test]
async fn a_short_amount_or_another_currency_leaves_the_order_unpaid() {
    let app = app().await;
    for (amount, currency, note) in [
        (249_999, "NGN", "amount_mismatch"),
        (2_500_000, "NGN", "amount_mismatch"),
        (250_000, "GHS", "currency_mismatch"),
    ] {
        let (order, payment) = pending_payment(&app).await;
        let body = charge_success(payment.reference.as_str(), amount, currency);
        app.send(signed(&body)).await.assert_status(200);
        assert_eq!(
            status_of(&app, &order, &payment).await,
            (OrderStatus::PendingPayment, PaymentStatus::Failed)
        );
        let flagged = app
            .db()
            .get_payment(&payment.reference)
            .await
            .unwrap()
            .unwrap()
            .payment;
        assert_eq!(serde_json::to_value(flagged.note).unwrap(), note);
        assert!(flagged.refund_due);
        // The correct event arriving afterwards does not undo the flag.
        let right = charge_success(payment.reference.as_str(), 250_000, "NGN");
        app.send(signed(&right)).await.assert_status(200);
        assert_eq!(
            status_of(&app, &order, &payment).await,
            (OrderStatus::PendingPayment, PaymentStatus::Failed)
        );
    }
    assert!(app.published_events().await.is_empty());
}

#[tokio::test]
async fn unknown_references_and_other_events_are_acknowledged_and_change_nothing() {
    let app = app().await;
    let (order, payment) = pending_payment(&app).await;
    let not_charges = [
        json!({"event": "refund.processed", "data": {"transaction_reference": payment.reference.as_str(), "amount": "250000"}}),
        json!({"event": "transfer.success", "data": {}}),
        json!({"event": "charge.dispute.create", "data": {"reference": payment.reference.as_str()}}),
    ];
    for event in not_charges {
        let body = serde_json::to_vec(&event).unwrap();
        app.send(signed(&body)).await.assert_status(200);
    }
    for reference in [
        PaymentReference::new().to_string(),
        "T123456789".to_string(),
    ] {
        let body = charge_success(&reference, 250_000, "NGN");
        app.send(signed(&body)).await.assert_status(200);
    }
    assert_eq!(
        status_of(&app, &order, &payment).await,
        (OrderStatus::PendingPayment, PaymentStatus::Pending)
    );
    assert!(app.published_events().await.is_empty());
}

#[tokio::test]
async fn a_signed_body_that_is_not_an_event_is_400_an_unreadable_charge_200_and_an_oversized_one_413()
 {
    let app = app().await;
    for body in [&b"[]"[..], b"not json", b""] {
        app.send(signed(body)).await.assert_problem(400);
    }
    // A signed charge.success whose transaction cannot be read is acknowledged (Paystack would
    // retry the same bytes against the same parser for 72 hours) and changes nothing: the payment
    // stays pending for verify to settle.
    let (order, payment) = pending_payment(&app).await;
    let charge: Value =
        serde_json::from_slice(&charge_success(payment.reference.as_str(), 250_000, "NGN"))
            .unwrap();
    for (field, value) in [
        ("amount", None),
        ("amount", Some(json!("12.5"))),
        ("status", Some(json!(7))),
        ("reference", None),
    ] {
        let mut unreadable = charge.clone();
        match value {
            Some(value) => unreadable["data"][field] = value,
            None => drop(unreadable["data"].as_object_mut().unwrap().remove(field)),
        }
        let response = app
            .send(signed(&serde_json::to_vec(&unreadable).unwrap()))
            .await;
        response.assert_status(200);
    }
    app.send(signed(br#"{"event":"charge.success"}"#))
        .await
        .assert_status(200);
    assert_eq!(
        status_of(&app, &order, &payment).await,
        (OrderStatus::PendingPayment, PaymentStatus::Pending)
    );
    let huge = vec![b' '; 64 * 1024 + 1];
    app.send(signed(&huge)).await.assert_problem(413);
}

#[tokio::test]
async fn a_table_that_is_down_answers_5xx_so_that_paystack_retries() {
    let app = spawn(TestApp::builder().unreachable_table()).await;
    let body = charge_success(PaymentReference::new().as_str(), 250_000, "NGN");
    let response = app.send(signed(&body)).await;
    response.assert_problem(503);
    assert!(response.headers.contains_key("retry-after"));
}

/// The recorded sample event (events/paystack-webhook/charge-success.json, signed with the local
/// stack's key), as lambda_http hands it to the router: with API Gateway's request context.
fn sample_event() -> http::Request<Body> {
    let text = std::fs::read_to_string(
        devkit::repo_root().join("events/paystack-webhook/charge-success.json"),
    )
    .unwrap();
    let request = lambda_http::request::from_str(&text).unwrap();
    let (parts, body) = request.into_parts();
    http::Request::from_parts(parts, Body::from(body.to_vec()))
}

#[tokio::test]
async fn the_sample_event_is_accepted_and_the_allow_list_reads_api_gateways_source_ip() {
    const LOCAL_KEY: &str = "sk_test_local_secret";
    let open = spawn(TestApp::builder().paystack_secret(LOCAL_KEY)).await;
    // Its reference is not one of ours: acknowledged.
    open.send(sample_event()).await.assert_status(200);
    let listed = spawn(TestApp::builder().paystack_secret(LOCAL_KEY).parameter(
        "PaystackWebhookAllowedIps",
        "52.31.139.75,52.49.173.169,52.214.14.220",
    ))
    .await;
    listed.send(sample_event()).await.assert_status(200);
    let elsewhere = spawn(
        TestApp::builder()
            .paystack_secret(LOCAL_KEY)
            .parameter("PaystackWebhookAllowedIps", "52.49.173.169"),
    )
    .await;
    elsewhere.send(sample_event()).await.assert_problem(403);
    // Without API Gateway in front there is no source address to check: refused while the list is on.
    let (parts, body) = sample_event().into_parts();
    let mut bare = http::Request::builder()
        .method(parts.method)
        .uri("/webhooks/paystack");
    for (name, value) in &parts.headers {
        bare = bare.header(name, value);
    }
    listed
        .send(bare.body(body).unwrap())
        .await
        .assert_problem(403);
}

/// `charge_success` with `metadata` naming an order and a customer, as our initialize sends it.
fn charge_success_naming(reference: &str, amount: i64, order: &str, user: &str) -> Vec<u8> {
    let mut body: Value =
        serde_json::from_slice(&charge_success(reference, amount, "NGN")).unwrap();
    body["data"]["metadata"] = json!({"order_id": order, "user_id": user});
    serde_json::to_vec(&body).unwrap()
}

#[tokio::test]
async fn the_order_and_customer_named_in_metadata_are_read_along_and_the_event_reaches_the_customer()
 {
    let app = app().await;
    let (order, payment) = pending_payment(&app).await;
    let body = charge_success_naming(
        payment.reference.as_str(),
        250_000,
        order.id.as_str(),
        order.user_id.as_str(),
    );
    app.send(signed(&body)).await.assert_status(200);
    assert_eq!(
        status_of(&app, &order, &payment).await,
        (OrderStatus::Paid, PaymentStatus::Success)
    );
    let events = app.published_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, OrderEventKind::Paid);
    assert_eq!(events[0].user_id, order.user_id);
}

#[tokio::test]
async fn metadata_naming_another_order_or_customer_is_not_trusted() {
    let app = app().await;
    let (order, payment) = pending_payment(&app).await;
    // Another customer's unpaid order, named in the metadata of a charge for the first payment.
    let (other_order, other_payment) = pending_payment(&app).await;
    let body = charge_success_naming(
        payment.reference.as_str(),
        250_000,
        other_order.id.as_str(),
        other_order.user_id.as_str(),
    );
    app.send(signed(&body)).await.assert_status(200);
    assert_eq!(
        status_of(&app, &order, &payment).await,
        (OrderStatus::Paid, PaymentStatus::Success),
        "the payment's own order is paid"
    );
    assert_eq!(
        status_of(&app, &other_order, &other_payment).await,
        (OrderStatus::PendingPayment, PaymentStatus::Pending),
        "the order the metadata named is untouched"
    );
    let events = app.published_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].order_id, order.id);
    assert_eq!(
        events[0].user_id, order.user_id,
        "the event goes to the payment's customer"
    );

    // The right order but someone else as its customer: the event still goes to the order's own.
    let (third, third_payment) = pending_payment(&app).await;
    let body = charge_success_naming(
        third_payment.reference.as_str(),
        250_000,
        third.id.as_str(),
        other_order.user_id.as_str(),
    );
    app.send(signed(&body)).await.assert_status(200);
    let events = app.published_events().await;
    assert_eq!(events.len(), 1, "one more event");
    assert_eq!(events[0].order_id, third.id);
    assert_eq!(events[0].user_id, third.user_id);
}
