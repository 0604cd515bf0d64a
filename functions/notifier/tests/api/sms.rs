//! The notifier against moto: events in, SMS read back from moto's record of sent SMS
//! (`/moto-api/data.json`, `sns.SMS`). Each test texts phone numbers of its own, so tests running
//! side by side (and earlier runs against the same moto) never see each other's SMS.

use aws_lambda_events::sns::SnsEvent;
use kitchen::{
    domain::{Currency, Date, OrderId, OrderStatus, PhoneNumber, UserId},
    events::{OrderEvent, OrderEventKind},
};
use notifier::{Notifier, Outcome, SmsError, sms};
use serde_json::{Value, json};

/// The notifier as deployed: its template environment (the kitchen's phone a stack parameter) and
/// an SNS client under its template policy.
async fn notifier(kitchen_phone: Option<&PhoneNumber>) -> Notifier {
    let phone = kitchen_phone
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let function = devkit::testing::deploy_function("notifier", &[("KitchenPhone", &phone)]).await;
    let config =
        kitchen::Config::for_function(notifier::SETTINGS, |name| function.env.get(name).cloned())
            .expect("the notifier's configuration");
    assert_eq!(config.kitchen_phone.as_ref(), kitchen_phone);
    Notifier::new(aws_sdk_sns::Client::new(&function.sdk), config)
}

/// A Nigerian mobile number no other test uses.
fn unique_phone() -> PhoneNumber {
    PhoneNumber::parse(&format!(
        "+2349{:09}",
        rand::random::<u32>() % 1_000_000_000
    ))
    .unwrap()
}

fn order_event(
    kind: OrderEventKind,
    status: OrderStatus,
    phone: Option<&PhoneNumber>,
) -> OrderEvent {
    OrderEvent {
        kind,
        order_id: OrderId::new(),
        user_id: UserId::new(),
        status,
        total: kitchen::domain::Money::from_minor_units(1_250_050),
        currency: Currency::Ngn,
        delivery_date: Date::parse("2026-11-27").unwrap(),
        phone: phone.cloned(),
        sms_opt_out: false,
        customer_name: Some("Chidi Okafor".into()),
        occurred_at: kitchen::now(),
        refunded: None,
        reminder: None,
    }
}

/// The SNS event Lambda hands the function for one message published to the topic.
fn sns_event(message: &str, event_type: &str) -> SnsEvent {
    let topic = "arn:aws:sns:us-east-1:123456789012:kitchen-events";
    serde_json::from_value(json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": format!("{topic}:{}", ulid::Ulid::new()),
            "Sns": {
                "Type": "Notification",
                "MessageId": ulid::Ulid::new().to_string(),
                "TopicArn": topic,
                "Subject": null,
                "Message": message,
                "Timestamp": "2026-11-23T09:15:03.412Z",
                "SignatureVersion": "1",
                "Signature": "EXAMPLE",
                "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/cert.pem",
                "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                "MessageAttributes": {
                    "event_type": { "Type": "String", "Value": event_type }
                }
            }
        }]
    }))
    .expect("an SNS event")
}

fn event_for(order: &OrderEvent) -> SnsEvent {
    sns_event(&serde_json::to_string(order).unwrap(), order.kind.as_str())
}

/// Every SMS moto has recorded as sent to `phone`, oldest first.
async fn sms_sent_to(phone: &PhoneNumber) -> Vec<String> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SNS").expect("AWS_ENDPOINT_URL_SNS");
    let state: Value = reqwest::get(format!(
        "{}/moto-api/data.json",
        endpoint.trim_end_matches('/')
    ))
    .await
    .expect("moto answers")
    .json()
    .await
    .expect("moto's state is JSON");
    state["sns"]["SMS"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|sms| sms["phone_number"] == phone.as_str())
        .map(|sms| sms["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_placed_order_texts_the_customer_once() {
    let phone = unique_phone();
    let order = order_event(
        OrderEventKind::Placed,
        OrderStatus::PendingPayment,
        Some(&phone),
    );

    let outcome = notifier(None)
        .await
        .handle(event_for(&order))
        .await
        .unwrap();

    assert_eq!(
        outcome,
        Outcome {
            sent: 1,
            skipped: 0,
            failed: 0
        }
    );
    let sent = sms_sent_to(&phone).await;
    assert_eq!(sent, vec![sms::customer_text(&order)]);
    assert!(sent[0].contains("₦12,500.50"), "{sent:?}");
    assert!(
        sent[0].contains(&sms::order_ref(&order.order_id)),
        "{sent:?}"
    );
}

#[tokio::test]
async fn every_event_type_texts_the_customer_what_happened() {
    use {OrderEventKind as Kind, OrderStatus as Status};
    let notifier = notifier(None).await;
    for (kind, status, expected) in [
        (Kind::Placed, Status::PendingPayment, "Pay to confirm"),
        (Kind::Paid, Status::Paid, "We're on it"),
        (Kind::StatusChanged, Status::Preparing, "being prepared"),
        (Kind::StatusChanged, Status::OutForDelivery, "on its way"),
        (Kind::StatusChanged, Status::Delivered, "delivered"),
        (Kind::Cancelled, Status::Cancelled, "cancelled"),
        (Kind::Refunded, Status::Cancelled, "Refund of"),
    ] {
        let phone = unique_phone();
        let order = order_event(kind, status, Some(&phone));
        let outcome = notifier.handle(event_for(&order)).await.unwrap();
        assert_eq!(outcome.sent, 1, "{kind:?} {status:?}");
        let sent = sms_sent_to(&phone).await;
        assert_eq!(sent.len(), 1, "{kind:?} {status:?}: {sent:?}");
        assert!(sent[0].contains(expected), "{kind:?} {status:?}: {sent:?}");
    }
}

#[tokio::test]
async fn a_paid_order_also_texts_the_kitchen() {
    let customer = unique_phone();
    let kitchen = unique_phone();
    let order = order_event(OrderEventKind::Paid, OrderStatus::Paid, Some(&customer));

    let outcome = notifier(Some(&kitchen))
        .await
        .handle(event_for(&order))
        .await
        .unwrap();

    assert_eq!(outcome.sent, 2);
    assert_eq!(
        sms_sent_to(&customer).await,
        vec![sms::customer_text(&order)]
    );
    let to_kitchen = sms_sent_to(&kitchen).await;
    assert_eq!(to_kitchen, vec![sms::kitchen_text(&order)]);
    assert!(
        to_kitchen[0].starts_with("New paid order"),
        "{to_kitchen:?}"
    );
    assert!(to_kitchen[0].contains("Chidi Okafor"), "{to_kitchen:?}");
}

#[tokio::test]
async fn a_dispute_is_texted_to_the_kitchen_and_not_to_the_customer() {
    let customer = unique_phone();
    let kitchen = unique_phone();
    let order = order_event(OrderEventKind::Disputed, OrderStatus::Paid, Some(&customer));
    let outcome = notifier(Some(&kitchen))
        .await
        .handle(event_for(&order))
        .await
        .unwrap();
    assert_eq!(outcome.sent, 1);
    assert!(sms_sent_to(&customer).await.is_empty());
    let to_kitchen = sms_sent_to(&kitchen).await;
    assert_eq!(to_kitchen, vec![sms::dispute_text(&order)]);
    assert!(
        to_kitchen[0].starts_with("Dispute on order"),
        "{to_kitchen:?}"
    );
}

/// The kitchen's second reminder of an order paid 20 minutes ago.
fn unattended(customer: &PhoneNumber) -> OrderEvent {
    let event = order_event(
        OrderEventKind::Unattended,
        OrderStatus::Paid,
        Some(customer),
    );
    OrderEvent {
        reminder: Some(kitchen::events::KitchenReminder {
            number: 2,
            of: 3,
            paid_at: event.occurred_at - time::Duration::minutes(20),
        }),
        ..event
    }
}

#[tokio::test]
async fn a_reminder_of_an_order_left_waiting_is_texted_to_the_kitchen_alone() {
    let customer = unique_phone();
    let kitchen = unique_phone();
    let event = unattended(&customer);
    let outcome = notifier(Some(&kitchen))
        .await
        .handle(event_for(&event))
        .await
        .unwrap();
    assert_eq!((outcome.sent, outcome.skipped), (1, 0));
    let to_kitchen = sms_sent_to(&kitchen).await;
    assert_eq!(to_kitchen, vec![sms::reminder_text(&event)]);
    assert!(
        to_kitchen[0].contains(&sms::order_ref(&event.order_id))
            && to_kitchen[0].contains("paid 20 min ago")
            && to_kitchen[0].contains("reminder 2 of 3"),
        "{to_kitchen:?}"
    );
    assert!(sms_sent_to(&customer).await.is_empty());
}

#[tokio::test]
async fn a_reminder_without_a_kitchen_phone_is_skipped() {
    let customer = unique_phone();
    let outcome = notifier(None)
        .await
        .handle(event_for(&unattended(&customer)))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Outcome {
            sent: 0,
            skipped: 1,
            failed: 0
        }
    );
    assert!(sms_sent_to(&customer).await.is_empty());
}

#[tokio::test]
async fn only_paid_orders_are_texted_to_the_kitchen() {
    let kitchen = unique_phone();
    let notifier = notifier(Some(&kitchen)).await;
    for (kind, status) in [
        (OrderEventKind::Placed, OrderStatus::PendingPayment),
        (OrderEventKind::StatusChanged, OrderStatus::Preparing),
        (OrderEventKind::Cancelled, OrderStatus::Cancelled),
    ] {
        let order = order_event(kind, status, Some(&unique_phone()));
        assert_eq!(notifier.handle(event_for(&order)).await.unwrap().sent, 1);
    }
    assert!(sms_sent_to(&kitchen).await.is_empty());
}

#[tokio::test]
async fn a_customer_who_opted_out_gets_no_sms_and_the_kitchen_still_hears_of_the_paid_order() {
    let customer = unique_phone();
    let kitchen = unique_phone();
    let notifier = notifier(Some(&kitchen)).await;
    let paid = OrderEvent {
        sms_opt_out: true,
        ..order_event(OrderEventKind::Paid, OrderStatus::Paid, Some(&customer))
    };

    let outcome = notifier.handle(event_for(&paid)).await.unwrap();

    assert_eq!(
        outcome,
        Outcome {
            sent: 1,
            skipped: 1,
            failed: 0
        }
    );
    assert_eq!(sms_sent_to(&kitchen).await, vec![sms::kitchen_text(&paid)]);
    // Nor any other order SMS of theirs; the kitchen's dispute text goes as before.
    for (kind, status) in [
        (OrderEventKind::Placed, OrderStatus::PendingPayment),
        (OrderEventKind::StatusChanged, OrderStatus::Preparing),
        (OrderEventKind::Cancelled, OrderStatus::Cancelled),
        (OrderEventKind::Disputed, OrderStatus::Paid),
    ] {
        let event = OrderEvent {
            sms_opt_out: true,
            ..order_event(kind, status, Some(&customer))
        };
        notifier.handle(event_for(&event)).await.unwrap();
    }
    assert!(sms_sent_to(&customer).await.is_empty());
    assert_eq!(
        sms_sent_to(&kitchen).await.len(),
        2,
        "the paid order and the dispute"
    );
}

#[tokio::test]
async fn a_customer_without_a_phone_is_skipped() {
    let order = order_event(OrderEventKind::Placed, OrderStatus::PendingPayment, None);

    let outcome = notifier(None)
        .await
        .handle(event_for(&order))
        .await
        .unwrap();

    assert_eq!(
        outcome,
        Outcome {
            sent: 0,
            skipped: 1,
            failed: 0
        }
    );
}

#[tokio::test]
async fn the_kitchen_hears_of_a_paid_order_even_when_the_customer_has_no_phone() {
    let kitchen = unique_phone();
    let order = order_event(OrderEventKind::Paid, OrderStatus::Paid, None);

    let outcome = notifier(Some(&kitchen))
        .await
        .handle(event_for(&order))
        .await
        .unwrap();

    assert_eq!((outcome.sent, outcome.skipped), (1, 1));
    assert_eq!(sms_sent_to(&kitchen).await, vec![sms::kitchen_text(&order)]);
}

#[tokio::test]
async fn a_message_that_is_no_order_event_is_skipped_not_retried() {
    let notifier = notifier(None).await;
    for message in [
        "not json",
        r#"{"type":"order.placed"}"#,
        r#"{"type":"order.eaten"}"#,
    ] {
        let outcome = notifier
            .handle(sns_event(message, "order.placed"))
            .await
            .expect("a malformed message is not worth a retry");
        assert_eq!(outcome.skipped, 1, "{message}");
    }
}

#[tokio::test]
async fn records_are_handled_one_by_one() {
    let first = unique_phone();
    let second = unique_phone();
    let placed = order_event(
        OrderEventKind::Placed,
        OrderStatus::PendingPayment,
        Some(&first),
    );
    let delivered = order_event(
        OrderEventKind::StatusChanged,
        OrderStatus::Delivered,
        Some(&second),
    );
    let mut event = event_for(&placed);
    event
        .records
        .push(sns_event("garbage", "order.paid").records.remove(0));
    event.records.extend(event_for(&delivered).records);

    let outcome = notifier(None).await.handle(event).await.unwrap();

    assert_eq!((outcome.sent, outcome.skipped), (2, 1));
    assert_eq!(sms_sent_to(&first).await, vec![sms::customer_text(&placed)]);
    assert_eq!(
        sms_sent_to(&second).await,
        vec![sms::customer_text(&delivered)]
    );
}

#[tokio::test]
async fn sns_out_of_reach_fails_the_invocation_so_lambda_retries_it() {
    devkit::testing::require_local_stack();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    // On the client's own config: AWS_ENDPOINT_URL_SNS would win over the shared config's.
    let sdk = kitchen::state::aws_sdk_config().await;
    let sns = aws_sdk_sns::config::Builder::from(&sdk)
        .endpoint_url(endpoint)
        .build();
    let notifier = Notifier::new(
        aws_sdk_sns::Client::from_conf(sns),
        kitchen::Config::for_function(notifier::SETTINGS, |_| None).unwrap(),
    );
    let order = order_event(
        OrderEventKind::Placed,
        OrderStatus::PendingPayment,
        Some(&unique_phone()),
    );

    let error = notifier.handle(event_for(&order)).await.unwrap_err();

    assert!(error.is_retryable(), "{error}");
    let diagnostic = lambda_runtime::Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "Retryable");
}

#[tokio::test]
async fn an_sms_that_sns_refuses_is_not_worth_a_retry() {
    // moto refuses an SMS over 1,600 bytes with InvalidParameter, as SNS does.
    let error = notifier(None)
        .await
        .send_sms(&unique_phone(), &"x".repeat(1_700))
        .await
        .unwrap_err();

    assert!(matches!(error, SmsError::NonRetryable(_)), "{error}");
}

#[tokio::test]
async fn the_sample_event_file_is_handled() {
    let event: SnsEvent = serde_json::from_str(include_str!(
        "../../../../events/notifier/order-placed.json"
    ))
    .unwrap();
    let order: OrderEvent = serde_json::from_str(&event.records[0].sns.message).unwrap();
    let phone = order.phone.clone().expect("the sample has a phone");

    let outcome = notifier(None).await.handle(event).await.unwrap();

    assert_eq!(outcome.sent, 1);
    // The sample's phone is fixed, so earlier runs against the same moto may have texted it too.
    assert!(
        sms_sent_to(&phone)
            .await
            .contains(&sms::customer_text(&order))
    );
}
