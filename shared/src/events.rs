//! Order events on the SNS topic: what happened to an order, for the notifier (and anyone else who
//! subscribes). Publishing happens after the change has committed and never fails the request: a
//! lost SMS is a nuisance, an order undone because SMS was down would be a bug. A lost event is
//! counted (`EventPublishFailed`), and an alarm watches the count.

use crate::domain::{Currency, Date, OrderId, OrderStatus, PhoneNumber, UserId};
use crate::metrics::EVENT_PUBLISH_FAILED;
use aws_sdk_sns::types::MessageAttributeValue;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The SNS message attribute that carries the event type, for subscription filter policies.
pub const EVENT_TYPE_ATTRIBUTE: &str = "event_type";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderEventKind {
    #[serde(rename = "order.placed")]
    Placed,
    #[serde(rename = "order.paid")]
    Paid,
    #[serde(rename = "order.status_changed")]
    StatusChanged,
    #[serde(rename = "order.cancelled")]
    Cancelled,
    /// A refund of the order's money reached Paystack's end (`processed`); `refunded` says how much.
    #[serde(rename = "order.refunded")]
    Refunded,
    /// The customer's bank opened a dispute on the order's charge: for the kitchen, which must
    /// answer it on Paystack's dashboard before it is due.
    #[serde(rename = "order.disputed")]
    Disputed,
    /// A paid order nobody has started preparing: for the kitchen alone, `reminder` says which
    /// reminder of how many.
    #[serde(rename = "order.unattended")]
    Unattended,
}

impl OrderEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderEventKind::Placed => "order.placed",
            OrderEventKind::Paid => "order.paid",
            OrderEventKind::StatusChanged => "order.status_changed",
            OrderEventKind::Cancelled => "order.cancelled",
            OrderEventKind::Refunded => "order.refunded",
            OrderEventKind::Disputed => "order.disputed",
            OrderEventKind::Unattended => "order.unattended",
        }
    }
}

/// One event: enough for an SMS without reading the table again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderEvent {
    #[serde(rename = "type")]
    pub kind: OrderEventKind,
    pub order_id: OrderId,
    pub user_id: UserId,
    /// The order's status after the change.
    pub status: OrderStatus,
    pub total: crate::domain::Money,
    pub currency: Currency,
    pub delivery_date: Date,
    /// The customer's phone when the event happened; none means no SMS.
    #[serde(default)]
    pub phone: Option<PhoneNumber>,
    /// The customer asked for no SMS about their orders (the kitchen's texts still go). Events
    /// published before the flag existed read as not opted out.
    #[serde(default)]
    pub sms_opt_out: bool,
    #[serde(default)]
    pub customer_name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// What an `order.refunded` gave back.
    #[serde(default)]
    pub refunded: Option<crate::domain::Money>,
    /// Which reminder an `order.unattended` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder: Option<KitchenReminder>,
}

/// One of the kitchen's reminders of a paid order left waiting: the `number`th of at most `of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KitchenReminder {
    pub number: u32,
    pub of: u32,
    /// When the order was paid, for the text's "paid N min ago".
    #[serde(with = "time::serde::rfc3339")]
    pub paid_at: OffsetDateTime,
}

/// Publishes order events to the topic; built once per cold start.
#[derive(Debug, Clone)]
pub struct Publisher {
    /// The SNS client and the topic; none in a function without `TOPIC_ARN` (auth, dishes), which
    /// then builds no SNS client at its cold start.
    target: Option<(aws_sdk_sns::Client, String)>,
}

impl Publisher {
    pub fn new(sns: aws_sdk_sns::Client, topic_arn: String) -> Self {
        Self {
            target: Some((sns, topic_arn)),
        }
    }

    /// The publisher of a function without a topic, which publishes nothing.
    pub fn without_topic() -> Self {
        Self { target: None }
    }

    /// Publishes `event`; a failure is logged at error level, counted as `EventPublishFailed` and
    /// otherwise ignored. Returns whether it was published, for tests.
    pub async fn publish(&self, event: &OrderEvent) -> bool {
        let Some((sns, topic)) = &self.target else {
            tracing::warn!(event_type = event.kind.as_str(), order_id = %event.order_id, "no TOPIC_ARN; event not published");
            return false;
        };
        let message = match serde_json::to_string(event) {
            Ok(message) => message,
            Err(err) => {
                tracing::error!(error = %err, "order event did not serialize");
                EVENT_PUBLISH_FAILED.count([event.kind.as_str()]);
                return false;
            }
        };
        let attribute = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(event.kind.as_str())
            .build()
            .expect("data type is set");
        let result = sns
            .publish()
            .topic_arn(topic)
            .message(message)
            .message_attributes(EVENT_TYPE_ATTRIBUTE, attribute)
            .send()
            .await;
        match result {
            Ok(_) => {
                tracing::info!(event_type = event.kind.as_str(), order_id = %event.order_id, "order event published");
                true
            }
            Err(err) => {
                tracing::error!(
                    event_type = event.kind.as_str(),
                    order_id = %event.order_id,
                    error = %crate::error::cause_chain(&err),
                    "order event not published"
                );
                EVENT_PUBLISH_FAILED.count([event.kind.as_str()]);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::captured;
    use aws_sdk_sns::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};

    fn placed() -> OrderEvent {
        OrderEvent {
            kind: OrderEventKind::Placed,
            order_id: OrderId::new(),
            user_id: UserId::new(),
            status: OrderStatus::PendingPayment,
            total: crate::domain::Money::from_minor_units(350_000),
            currency: Currency::Ngn,
            delivery_date: Date::parse("2026-11-24").unwrap(),
            phone: Some(PhoneNumber::parse("+2348012345678").unwrap()),
            sms_opt_out: false,
            customer_name: Some("Ada".into()),
            occurred_at: crate::now(),
            refunded: None,
            reminder: None,
        }
    }

    #[tokio::test]
    async fn an_event_the_topic_did_not_take_is_counted_as_lost() {
        if captured::in_child() {
            // SNS where nothing listens: the publish fails at once.
            let config = aws_sdk_sns::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::for_tests())
                .endpoint_url("http://127.0.0.1:9")
                .retry_config(RetryConfig::disabled())
                .build();
            let topic = "arn:aws:sns:us-east-1:123456789012:kitchen-events";
            let publisher = Publisher::new(aws_sdk_sns::Client::from_conf(config), topic.into());
            assert!(!publisher.publish(&placed()).await);
            return;
        }
        let counted = captured::counted_by(
            "events::tests::an_event_the_topic_did_not_take_is_counted_as_lost",
        );
        assert_eq!(counted.len(), 1, "{counted:?}");
        assert_eq!(counted[0]["EventPublishFailed"], 1);
        assert_eq!(counted[0]["EventType"], "order.placed");
        assert_eq!(
            counted[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([["Service", "EventType"], ["Service"]])
        );
    }

    #[test]
    fn an_event_reads_as_the_notifier_expects() {
        let event = placed();
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "order.placed");
        assert_eq!(json["status"], "pending_payment");
        assert_eq!(json["currency"], "NGN");
        let back: OrderEvent = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, event);
        // An event published before the opt-out existed reads as not opted out.
        let mut older = json;
        older.as_object_mut().unwrap().remove("sms_opt_out");
        assert!(
            !serde_json::from_value::<OrderEvent>(older)
                .unwrap()
                .sms_opt_out
        );
    }
}
