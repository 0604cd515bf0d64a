//! One simulated transaction, and how Paystack would show it.
//!
//! [`Transaction::to_paystack`] is the transaction object Paystack returns from
//! `GET /transaction/verify/:reference` and puts in a `charge.success` webhook's `data`
//! (<https://paystack.com/docs/api/transaction/#verify>, <https://paystack.com/docs/payments/webhooks/>).
//! Fields we have no use for keep the values Paystack's samples show (`null`, `{}`), so a client that
//! deserializes the real thing also deserializes this.

use axum::body::Bytes;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::dispute::{Dispute, DisputeView};
use crate::refund::{Refund, RefundStatus, RefundView};

/// `data.status` as verify reports it. A freshly initialized, unpaid transaction is `abandoned`;
/// a paid one whose whole amount went back to the customer (refunds processed, or a chargeback
/// the merchant lost) is `reversed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransactionStatus {
    Abandoned,
    Success,
    Failed,
    Reversed,
}

impl TransactionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Abandoned => "abandoned",
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Reversed => "reversed",
        }
    }

    /// The customer paid, whatever happened to the money afterwards.
    pub fn is_paid(self) -> bool {
        matches!(self, Self::Success | Self::Reversed)
    }

    pub(crate) fn gateway_response(self) -> &'static str {
        match self {
            Self::Abandoned => "The transaction was not completed",
            // A reversal does not rewrite what the card processor said at the time.
            Self::Success | Self::Reversed => "Successful",
            Self::Failed => "Declined",
        }
    }
}

/// One attempt to deliver a webhook, as listed by `GET /_sim/transactions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// The event delivered (`charge.success`, `refund.pending`, …).
    pub event: String,
    /// Counts every delivery of this transaction's events, retries and re-sends included, from 1.
    pub attempt: u32,
    /// The receiver's HTTP status, or `None` when it could not be reached or timed out.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub at: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub id: u64,
    pub code: String,
    pub email: String,
}

/// The card the simulated customer pays with: Paystack's documented test Visa card.
#[derive(Debug, Clone)]
pub(crate) struct CardAuthorization {
    pub code: String,
    pub signature: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Transaction {
    pub id: u64,
    /// `test` or `live`, after the secret key's prefix.
    pub domain: &'static str,
    pub reference: String,
    pub access_code: String,
    pub customer: Customer,
    /// What was initialized.
    pub requested_amount: u64,
    /// What was paid; differs from `requested_amount` only when a test asked for a mismatch.
    pub amount: u64,
    pub currency: String,
    pub callback_url: Option<String>,
    /// The caller's metadata object, or `""` when none was given, as Paystack returns it.
    pub metadata: Value,
    pub status: TransactionStatus,
    pub created_at: OffsetDateTime,
    pub paid_at: Option<OffsetDateTime>,
    pub settled_at: Option<OffsetDateTime>,
    pub authorization: Option<CardAuthorization>,
    /// The last webhook of this transaction, kept for re-delivery — also one that was never
    /// delivered (a payment marked as lost-webhook), so it can be delivered late.
    pub last_event: Option<SentEvent>,
    pub deliveries: Vec<Delivery>,
    /// Oldest first.
    pub refunds: Vec<Refund>,
    /// The latest dispute, open or resolved.
    pub dispute: Option<Dispute>,
}

/// A webhook body as signed and sent, and the event it carries (for logs and delivery records).
#[derive(Debug, Clone)]
pub(crate) struct SentEvent {
    pub name: &'static str,
    pub body: Bytes,
}

/// The subset of a transaction a test or developer wants to look at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransactionView {
    pub id: u64,
    pub reference: String,
    pub access_code: String,
    pub authorization_url: String,
    pub email: String,
    pub status: TransactionStatus,
    pub amount: u64,
    pub requested_amount: u64,
    pub currency: String,
    pub callback_url: Option<String>,
    pub metadata: Value,
    pub gateway_response: String,
    pub created_at: String,
    pub paid_at: Option<String>,
    /// Whether any webhook delivery of this transaction was attempted.
    pub webhook_sent: bool,
    pub deliveries: Vec<Delivery>,
    /// What a refund may still take back: the amount paid minus every refund not failed.
    pub refundable: u64,
    /// Oldest first.
    pub refunds: Vec<RefundView>,
    /// The latest dispute, open or resolved; `null` if the customer never disputed.
    pub dispute: Option<DisputeView>,
}

impl Transaction {
    pub fn view(&self, public_url: &str) -> TransactionView {
        TransactionView {
            id: self.id,
            reference: self.reference.clone(),
            access_code: self.access_code.clone(),
            authorization_url: checkout_url(public_url, &self.access_code),
            email: self.customer.email.clone(),
            status: self.status,
            amount: self.amount,
            requested_amount: self.requested_amount,
            currency: self.currency.clone(),
            callback_url: self.callback_url.clone(),
            metadata: self.metadata.clone(),
            gateway_response: self.status.gateway_response().to_owned(),
            created_at: timestamp(self.created_at),
            paid_at: self.paid_at.map(timestamp),
            webhook_sent: !self.deliveries.is_empty(),
            deliveries: self.deliveries.clone(),
            refundable: self.refundable(),
            refunds: self.refunds.iter().map(Refund::view).collect(),
            dispute: self.dispute.as_ref().map(Dispute::view),
        }
    }

    /// The amount paid minus every refund that has not failed; nothing for an unpaid transaction.
    pub fn refundable(&self) -> u64 {
        if !self.status.is_paid() {
            return 0;
        }
        let held: u64 = self
            .refunds
            .iter()
            .filter(|r| r.holds_amount())
            .map(|r| r.amount)
            .sum();
        self.amount.saturating_sub(held)
    }

    /// Processed refunds that add up to the whole amount reverse the transaction.
    pub fn note_processed_refunds(&mut self) {
        let processed: u64 = self
            .refunds
            .iter()
            .filter(|r| r.status == RefundStatus::Processed)
            .map(|r| r.amount)
            .sum();
        if self.status == TransactionStatus::Success && processed >= self.amount {
            self.status = TransactionStatus::Reversed;
        }
    }

    /// The transaction object of verify responses and `charge.success` webhooks.
    pub fn to_paystack(&self) -> PaystackTransaction<'_> {
        let created_at = timestamp(self.created_at);
        let paid_at = self.paid_at.map(timestamp);
        PaystackTransaction {
            id: self.id,
            domain: self.domain,
            status: self.status.as_str(),
            reference: &self.reference,
            receipt_number: None,
            amount: self.amount,
            message: None,
            gateway_response: self.status.gateway_response(),
            paid_at: paid_at.clone(),
            created_at: created_at.clone(),
            channel: "card",
            currency: &self.currency,
            ip_address: "127.0.0.1",
            metadata: &self.metadata,
            log: self.log(),
            fees: self.status.is_paid().then(|| fees(self.amount)),
            fees_split: None,
            authorization: self.authorization_json(),
            customer: PaystackCustomer {
                id: self.customer.id,
                first_name: None,
                last_name: None,
                email: &self.customer.email,
                customer_code: &self.customer.code,
                phone: None,
                metadata: None,
                risk_action: "default",
                international_format_phone: None,
            },
            plan: None,
            split: Value::Object(Default::default()),
            order_id: None,
            paid_at_camel: paid_at,
            created_at_camel: created_at.clone(),
            requested_amount: self.requested_amount,
            pos_transaction_data: None,
            source: Source {
                kind: "api",
                source: "merchant_api",
                identifier: None,
                entry_point: "transaction_initialize",
            },
            fees_breakdown: None,
            connect: None,
            transaction_date: created_at,
            plan_object: Value::Object(Default::default()),
            subaccount: Value::Object(Default::default()),
        }
    }

    /// Paystack's checkout log: `null` until the customer tried to pay.
    fn log(&self) -> Option<Value> {
        let ended = self.settled_at?;
        let time_spent = (ended - self.created_at).whole_seconds().max(1);
        let paid = self.status.is_paid();
        let (outcome, message, errors) = if paid {
            ("success", "Successfully paid with card", 0)
        } else {
            ("error", "Declined", 1)
        };
        Some(serde_json::json!({
            "start_time": self.created_at.unix_timestamp(),
            "time_spent": time_spent,
            "attempts": 1,
            "errors": errors,
            "success": paid,
            "mobile": false,
            "input": [],
            "history": [
                { "type": "action", "message": "Attempted to pay with card", "time": time_spent },
                { "type": outcome, "message": message, "time": time_spent },
            ],
        }))
    }

    fn authorization_json(&self) -> Value {
        match &self.authorization {
            None => Value::Object(Default::default()),
            Some(card) => serde_json::json!({
                "authorization_code": card.code,
                "bin": "408408",
                "last4": "4081",
                "exp_month": "12",
                "exp_year": "2030",
                "channel": "card",
                "card_type": "visa ",
                "bank": "TEST BANK",
                "country_code": "NG",
                "brand": "visa",
                "reusable": true,
                "signature": card.signature,
                "account_name": null,
            }),
        }
    }
}

/// Roughly Paystack's local card pricing (1.5 %, plus ₦100 from ₦2,500, capped at ₦2,000), so
/// `fees` looks plausible. Nothing of ours may depend on it.
fn fees(amount: u64) -> u64 {
    let flat = if amount >= 250_000 { 10_000 } else { 0 };
    (amount.saturating_mul(15) / 1_000 + flat).min(200_000)
}

pub(crate) fn checkout_url(public_url: &str, access_code: &str) -> String {
    format!(
        "{}/checkout/{access_code}",
        public_url.trim_end_matches('/')
    )
}

/// Paystack's timestamp style: UTC, milliseconds, `Z` (`2024-08-22T09:15:02.000Z`).
pub(crate) fn timestamp(at: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

#[derive(Debug, Serialize)]
pub(crate) struct PaystackTransaction<'a> {
    id: u64,
    domain: &'static str,
    status: &'static str,
    reference: &'a str,
    receipt_number: Option<String>,
    amount: u64,
    message: Option<String>,
    gateway_response: &'static str,
    paid_at: Option<String>,
    created_at: String,
    channel: &'static str,
    currency: &'a str,
    ip_address: &'static str,
    metadata: &'a Value,
    log: Option<Value>,
    fees: Option<u64>,
    fees_split: Option<Value>,
    authorization: Value,
    customer: PaystackCustomer<'a>,
    plan: Option<Value>,
    split: Value,
    order_id: Option<String>,
    #[serde(rename = "paidAt")]
    paid_at_camel: Option<String>,
    #[serde(rename = "createdAt")]
    created_at_camel: String,
    requested_amount: u64,
    pos_transaction_data: Option<Value>,
    source: Source,
    fees_breakdown: Option<Value>,
    connect: Option<Value>,
    transaction_date: String,
    plan_object: Value,
    subaccount: Value,
}

#[derive(Debug, Serialize)]
struct PaystackCustomer<'a> {
    id: u64,
    first_name: Option<String>,
    last_name: Option<String>,
    email: &'a str,
    customer_code: &'a str,
    phone: Option<String>,
    metadata: Option<Value>,
    risk_action: &'static str,
    international_format_phone: Option<String>,
}

#[derive(Debug, Serialize)]
struct Source {
    #[serde(rename = "type")]
    kind: &'static str,
    source: &'static str,
    identifier: Option<String>,
    entry_point: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        assert_eq!(
            timestamp(datetime!(2024-08-22 10:15:02.123456 +01:00)),
            "2024-08-22T09:15:02.123Z"
        );
    }

    #[test]
    fn fees_are_capped() {
        assert_eq!(fees(100_000), 1_500);
        assert_eq!(fees(250_000), 13_750);
        assert_eq!(fees(100_000_000), 200_000);
    }

    #[test]
    fn checkout_url_tolerates_a_trailing_slash() {
        assert_eq!(
            checkout_url("http://127.0.0.1:9100/", "abc"),
            "http://127.0.0.1:9100/checkout/abc"
        );
    }
}
