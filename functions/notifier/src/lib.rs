//! The notifier function: each order event from the SNS topic becomes one SMS to the customer (and,
//! for a paid order, one to the kitchen), sent with SNS `Publish` to the phone number. A dispute
//! and a reminder of a paid order left waiting (`order.unattended`) are texted to the kitchen alone. A customer
//! who opted out of order SMS (`sms_opt_out`, carried in the event) gets none; the kitchen's texts
//! still go.
//!
//! [`Notifier`] is built once per cold start; [`Notifier::handle`] takes the typed SNS event and
//! handles its records one by one. Which failures are worth Lambda's retry is [`SmsError`]'s call:
//! only those where SNS may well take the same SMS a little later.
//!
//! Each SMS sent or refused is logged with its text and a masked phone number (how a developer sees
//! the SMS under `make dev`), and counted in one CloudWatch embedded-metric line.

pub mod sms;

/// What the notifier reads: its texts' settings, nothing of the table's or the tokens'.
pub const SETTINGS: &[kitchen::config::Setting] = &[kitchen::config::Setting::Sms];

use aws_lambda_events::sns::{SnsEvent, SnsRecord};
use aws_sdk_sns::{
    error::{ProvideErrorMetadata, SdkError},
    operation::publish::PublishError,
    types::MessageAttributeValue,
};
use kitchen::{
    domain::PhoneNumber,
    events::{OrderEvent, OrderEventKind},
    metrics,
};
use lambda_runtime::Diagnostic;
use serde::Serialize;

/// What one invocation did, returned as the function's result (Lambda drops it for SNS events;
/// tests and the local relay read it).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// SMS that SNS accepted.
    pub sent: u32,
    /// Records or recipients with nothing to send: no phone (the kitchen's included), a customer who
    /// opted out of order SMS, or a message that is no order event.
    pub skipped: u32,
    /// SMS that SNS refused for good (they are logged and counted, not retried).
    pub failed: u32,
}

/// Why an SMS was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    /// SNS throttled us, failed on its side (5xx) or did not answer in time: the same SMS may go
    /// through later, so the invocation fails and Lambda retries the event.
    #[error("SNS did not take the SMS this time: {0}")]
    Retryable(String),
    /// SNS refused the SMS itself (an invalid parameter, access denied, …): a retry would be refused
    /// the same way, so it is logged and the event is not retried.
    #[error("SNS refused the SMS: {0}")]
    NonRetryable(String),
}

impl SmsError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, SmsError::Retryable(_))
    }

    fn from_publish(error: &SdkError<PublishError>) -> Self {
        let detail = kitchen::error::cause_chain(error);
        let retryable = match error {
            SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
            SdkError::DispatchFailure(failure) => !failure.is_user(),
            SdkError::ServiceError(service) => {
                let status = service.raw().status().as_u16();
                let throttled = service.err().code().is_some_and(|code| {
                    code.contains("Throttl")
                        || code == "TooManyRequestsException"
                        || code == "RequestLimitExceeded"
                });
                status >= 500 || status == 429 || throttled
            }
            // A request the SDK could not even build is a bug here, not a passing condition.
            _ => false,
        };
        if retryable {
            SmsError::Retryable(detail)
        } else {
            SmsError::NonRetryable(detail)
        }
    }
}

/// Lambda's `errorType` says whether the failure was worth the retry.
impl From<SmsError> for Diagnostic {
    fn from(error: SmsError) -> Diagnostic {
        let error_type = if error.is_retryable() {
            "Retryable"
        } else {
            "NonRetryable"
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

/// Who an SMS is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    Customer,
    Kitchen,
}

impl Recipient {
    fn as_str(self) -> &'static str {
        match self {
            Recipient::Customer => "customer",
            Recipient::Kitchen => "kitchen",
        }
    }
}

/// The function's state: the SNS client and configuration, built once per cold start.
#[derive(Debug, Clone)]
pub struct Notifier {
    sns: aws_sdk_sns::Client,
    config: kitchen::Config,
}

impl Notifier {
    /// `config` is the notifier's ([`SETTINGS`]).
    pub fn new(sns: aws_sdk_sns::Client, config: kitchen::Config) -> Self {
        Self { sns, config }
    }

    /// Handles every record of `event`, one by one.
    ///
    /// A record whose message is not an [`OrderEvent`] is logged at error level and skipped: it
    /// would be just as malformed on a retry. An SMS that SNS refuses for good is logged and
    /// skipped too. Only a [retryable](SmsError::Retryable) failure fails the invocation, after
    /// the remaining records have been tried, so that Lambda retries the event (twice, for SNS's
    /// asynchronous invocations, then the function's dead-letter queue). A retried event may text
    /// a recipient again whose SMS had already gone out; SNS hands Lambda one record per event, so
    /// that is at most the other SMS of the same order event.
    pub async fn handle(&self, event: SnsEvent) -> Result<Outcome, SmsError> {
        let mut outcome = Outcome::default();
        let mut retry = None;
        for record in &event.records {
            if let Err(error) = self.handle_record(record, &mut outcome).await {
                retry.get_or_insert(error);
            }
        }
        match retry {
            Some(error) => Err(error),
            None => Ok(outcome),
        }
    }

    async fn handle_record(
        &self,
        record: &SnsRecord,
        outcome: &mut Outcome,
    ) -> Result<(), SmsError> {
        let event: OrderEvent = match serde_json::from_str(&record.sns.message) {
            Ok(event) => event,
            Err(error) => {
                let event_type = record
                    .sns
                    .message_attributes
                    .get(kitchen::events::EVENT_TYPE_ATTRIBUTE)
                    .map(|attribute| attribute.value.as_str())
                    .unwrap_or("unknown");
                tracing::error!(
                    message_id = %record.sns.message_id,
                    event_type,
                    error = %error,
                    "message is not an order event; skipped, not retried"
                );
                outcome.skipped += 1;
                return Ok(());
            }
        };

        let mut retry = None;
        match &event.phone {
            _ if !sms::texts_customer(event.kind) => {}
            _ if event.sms_opt_out => {
                tracing::info!(
                    event_type = event.kind.as_str(),
                    order_id = %event.order_id,
                    "customer opted out of order SMS; no SMS sent"
                );
                outcome.skipped += 1;
            }
            Some(phone) => {
                let text = sms::customer_text(&event);
                self.deliver(&event, Recipient::Customer, phone, &text, outcome)
                    .await
                    .unwrap_or_else(|error| {
                        retry.get_or_insert(error);
                    });
            }
            None => {
                tracing::info!(
                    event_type = event.kind.as_str(),
                    order_id = %event.order_id,
                    "customer has no phone number; no SMS sent"
                );
                outcome.skipped += 1;
            }
        }
        let for_kitchen = match event.kind {
            OrderEventKind::Paid => Some(sms::kitchen_text(&event)),
            OrderEventKind::Disputed => Some(sms::dispute_text(&event)),
            OrderEventKind::Unattended => Some(sms::reminder_text(&event)),
            _ => None,
        };
        match (for_kitchen, &self.config.kitchen_phone) {
            (None, _) => {}
            (Some(text), Some(kitchen)) => {
                self.deliver(&event, Recipient::Kitchen, kitchen, &text, outcome)
                    .await
                    .unwrap_or_else(|error| {
                        retry.get_or_insert(error);
                    });
            }
            (Some(_), None) => {
                tracing::info!(
                    event_type = event.kind.as_str(),
                    order_id = %event.order_id,
                    "no KITCHEN_PHONE; no SMS sent to the kitchen"
                );
                outcome.skipped += 1;
            }
        }
        match retry {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Sends one SMS and accounts for it: logged and counted either way; a refusal for good is
    /// swallowed here, a retryable failure returned.
    async fn deliver(
        &self,
        event: &OrderEvent,
        recipient: Recipient,
        phone: &PhoneNumber,
        text: &str,
        outcome: &mut Outcome,
    ) -> Result<(), SmsError> {
        let to = sms::mask_phone(phone);
        let event_type = event.kind.as_str();
        match self.send_sms(phone, text).await {
            Ok(message_id) => {
                tracing::info!(
                    event_type,
                    order_id = %event.order_id,
                    recipient = recipient.as_str(),
                    to,
                    sms = text,
                    message_id,
                    "SMS sent"
                );
                emit_metric(recipient, event_type, true);
                outcome.sent += 1;
                Ok(())
            }
            Err(error) => {
                emit_metric(recipient, event_type, false);
                // A retryable failure (SNS throttled or down) fails the event so Lambda retries
                // it; a refusal (a number SNS will not text) would fail every retry alike.
                let retried = error.is_retryable();
                tracing::error!(
                    event_type,
                    order_id = %event.order_id,
                    recipient = recipient.as_str(),
                    to,
                    sms = text,
                    error = %error,
                    retried,
                    "SMS not sent"
                );
                if retried {
                    Err(error)
                } else {
                    outcome.failed += 1;
                    Ok(())
                }
            }
        }
    }

    /// Publishes `text` to `phone` as a transactional SMS (delivered ahead of promotional traffic
    /// and to numbers on do-not-disturb lists, as order updates should be). Returns SNS's message id.
    pub async fn send_sms(&self, phone: &PhoneNumber, text: &str) -> Result<String, SmsError> {
        let mut request = self
            .sns
            .publish()
            .phone_number(phone.as_str())
            .message(text)
            .message_attributes("AWS.SNS.SMS.SMSType", string_attribute("Transactional"));
        if let Some(sender) = &self.config.sms_sender_id {
            request = request.message_attributes("AWS.SNS.SMS.SenderID", string_attribute(sender));
        }
        let output = request
            .send()
            .await
            .map_err(|error| SmsError::from_publish(&error))?;
        Ok(output.message_id.unwrap_or_default())
    }
}

fn string_attribute(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("the data type is set")
}

/// One CloudWatch embedded-metric-format line: `SmsSent` or `SmsFailed`, by recipient.
fn emit_metric(recipient: Recipient, event_type: &str, sent: bool) {
    let metric = if sent {
        &metrics::SMS_SENT
    } else {
        &metrics::SMS_FAILED
    };
    metric.count([recipient.as_str(), event_type]);
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sample_event_is_a_typed_sns_event_carrying_an_order_event() {
        let event: aws_lambda_events::sns::SnsEvent =
            serde_json::from_str(include_str!("../../../events/notifier/order-placed.json"))
                .unwrap();
        assert_eq!(event.records.len(), 1);
        let order: kitchen::events::OrderEvent =
            serde_json::from_str(&event.records[0].sns.message).unwrap();
        assert_eq!(order.kind, kitchen::events::OrderEventKind::Placed);
        assert!(order.phone.is_some() && order.customer_name.is_some());
    }
}
