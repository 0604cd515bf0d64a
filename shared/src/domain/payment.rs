//! A payment attempt: our reference (Paystack's transaction reference), the amount asked, and where
//! it stands.

use super::{Currency, Money, Order, OrderId, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// Our reference for one payment attempt, sent to Paystack as the transaction reference: a ULID,
/// so it is unique, sorts by time, and uses only characters Paystack allows (`[A-Za-z0-9.=-]`).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PaymentReference(String);

impl PaymentReference {
    pub fn new() -> Self {
        // The order id generator's monotonic ULIDs: attempts made together still sort in order.
        Self(OrderId::new().to_string())
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        match ulid::Ulid::from_string(raw) {
            Ok(id) if id.to_string() == raw => Ok(Self(raw.to_string())),
            _ => Err("is not a payment reference".to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for PaymentReference {
    fn default() -> Self {
        Self::new()
    }
}

impl TryFrom<String> for PaymentReference {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value)
    }
}

impl From<PaymentReference> for String {
    fn from(value: PaymentReference) -> String {
        value.0
    }
}

impl fmt::Display for PaymentReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PaymentReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PaymentReference({:?})", self.0)
    }
}

/// Where a payment attempt stands. Paystack's in-between states (`ongoing`, `pending`,
/// `processing`, `queued`, and `abandoned` for a checkout not finished yet) are all `pending` here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Success,
    Failed,
    /// Never handed to the customer (Paystack was unreachable, or a concurrent request with the
    /// same idempotency key answered instead): nobody holds its checkout link, so nobody can pay it.
    Abandoned,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Success => "success",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Abandoned => "abandoned",
        }
    }
}

/// Why a payment did not simply go pending → success, for the back office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentNote {
    /// Paystack refused to start the transaction (`failed`).
    InitializeFailed,
    /// Paystack did not answer in time or could not be reached (`abandoned`).
    PaystackUnreachable,
    /// A concurrent request with the same `Idempotency-Key` answered instead (`abandoned`).
    DuplicateRequest,
    /// Paystack reported a different amount than ours (`failed`; the order stays unpaid).
    AmountMismatch,
    /// Paystack reported a different currency than ours (`failed`; the order stays unpaid).
    CurrencyMismatch,
    /// The order's total changed after this attempt started (`failed`; the order stays unpaid).
    OrderChanged,
    /// The money arrived after the order was cancelled or expired (`success`, refund due).
    OrderCancelled,
    /// The money arrived for an order another attempt had already paid (`success`, refund due).
    OrderAlreadyPaid,
}

/// One payment attempt, as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub reference: PaymentReference,
    pub order_id: OrderId,
    pub user_id: UserId,
    pub amount: Money,
    pub currency: Currency,
    pub status: PaymentStatus,
    /// Paystack's checkout page; none until Paystack has answered.
    pub authorization_url: Option<String>,
    pub access_code: Option<String>,
    pub channel: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub paid_at: Option<OffsetDateTime>,
    pub gateway_response: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Money was received that the order could not take (see `note`): staff must refund it.
    #[serde(default)]
    pub refund_due: bool,
    #[serde(default)]
    pub note: Option<PaymentNote>,
    /// What refunds not failed have given back of it (a counter kept in the refunds' own
    /// transactions, never above `amount`).
    #[serde(default)]
    pub refunded_amount: Money,
    /// What Paystack took, when that was not `amount` (an amount mismatch): what a refund of the
    /// charge gives back.
    #[serde(default)]
    pub charged_amount: Option<Money>,
    /// A chargeback the customer's bank opened on this charge, as Paystack last reported it.
    #[serde(default)]
    pub dispute: Option<Dispute>,
}

/// Whether a dispute still needs the kitchen's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeStatus {
    Open,
    Resolved,
}

/// A dispute (chargeback) on a charge, from Paystack's `charge.dispute.*` events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dispute {
    pub status: DisputeStatus,
    /// What the customer told their bank, or the dispute's category when they said nothing.
    pub reason: Option<String>,
    /// When Paystack needs the kitchen's answer by.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
    /// How it ended (`merchant-accepted`, `declined`, `auto-accepted`…), once resolved.
    #[serde(default)]
    pub resolution: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Payment {
    /// A new attempt to pay `order`'s total, `pending` until Paystack says otherwise.
    pub fn start(order: &Order, now: OffsetDateTime) -> Self {
        Payment {
            reference: PaymentReference::new(),
            order_id: order.id.clone(),
            user_id: order.user_id.clone(),
            amount: order.total,
            currency: order.currency,
            status: PaymentStatus::Pending,
            authorization_url: None,
            access_code: None,
            channel: None,
            paid_at: None,
            gateway_response: None,
            created_at: now,
            refund_due: false,
            note: None,
            refunded_amount: Money::ZERO,
            charged_amount: None,
            dispute: None,
        }
    }

    /// The payment with money owed back: `status` as recorded, `note` saying why.
    pub fn owed_back(mut self, status: PaymentStatus, note: PaymentNote) -> Self {
        self.status = status;
        self.note = Some(note);
        self.refund_due = true;
        self
    }

    /// What Paystack took for it: a success's amount; for a charge that did not match the order
    /// (another amount, or an order changed since the attempt started) what was charged, all of
    /// which is owed back; nothing for a charge that took no money, or took it in another currency
    /// (staff refund that one by hand).
    pub fn took(&self) -> Money {
        match (self.status, self.note) {
            (PaymentStatus::Success, _) | (_, Some(PaymentNote::OrderChanged)) => self.amount,
            (_, Some(PaymentNote::AmountMismatch)) => self.charged_amount.unwrap_or(Money::ZERO),
            _ => Money::ZERO,
        }
    }

    /// What may still be refunded of it: what it took, less what refunds not failed have given
    /// back.
    pub fn refundable(&self) -> Money {
        self.took().less(self.refunded_amount)
    }

    /// Whether Paystack's word on this payment is in and final: a success, or anything flagged. A
    /// plain `failed` (a declined card) is not final: Paystack lets the customer try again on the same
    /// checkout, and a later success still counts.
    pub fn is_settled(&self) -> bool {
        self.status == PaymentStatus::Success || self.note.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_ulids_paystack_accepts_and_sort_in_order() {
        let references: Vec<_> = (0..50).map(|_| PaymentReference::new()).collect();
        assert!(
            references
                .windows(2)
                .all(|pair| pair[0].as_str() < pair[1].as_str())
        );
        for reference in &references {
            assert!(
                reference
                    .as_str()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric())
            );
            assert_eq!(
                &PaymentReference::parse(reference.as_str()).unwrap(),
                reference
            );
        }
        for bad in ["", "ref_1", "not-a-ulid", "01jd3xb2n6p8r4s7t1v5w9x3yz"] {
            assert!(PaymentReference::parse(bad).is_err(), "{bad:?}");
        }
    }

    fn pending() -> Payment {
        Payment {
            reference: PaymentReference::new(),
            order_id: OrderId::new(),
            user_id: UserId::new(),
            amount: Money::from_minor_units(250_000),
            currency: Currency::Ngn,
            status: PaymentStatus::Pending,
            authorization_url: None,
            access_code: None,
            channel: None,
            paid_at: None,
            gateway_response: None,
            created_at: crate::now(),
            refund_due: false,
            note: None,
            refunded_amount: Money::ZERO,
            charged_amount: None,
            dispute: None,
        }
    }

    #[test]
    fn only_a_success_or_a_flag_settles_a_payment() {
        let mut payment = pending();
        assert!(!payment.is_settled());
        payment.status = PaymentStatus::Failed;
        assert!(!payment.is_settled(), "a declined card may still be paid");
        payment.note = Some(PaymentNote::AmountMismatch);
        assert!(payment.is_settled());
        payment.note = None;
        payment.status = PaymentStatus::Success;
        assert!(payment.is_settled());
        let json = serde_json::to_value(&payment).unwrap();
        assert_eq!(json["status"], "success");
        assert_eq!(json["note"], serde_json::Value::Null);
        assert_eq!(json["refund_due"], false);
    }

    #[test]
    fn what_a_charge_took_is_what_its_refunds_may_give_back() {
        let mut payment = pending();
        let asked = payment.amount;
        assert_eq!(payment.took(), Money::ZERO, "pending: nothing taken");
        payment.status = PaymentStatus::Failed;
        assert_eq!(payment.took(), Money::ZERO, "declined: nothing taken");

        payment.status = PaymentStatus::Success;
        payment.refunded_amount = Money::from_minor_units(1_000);
        assert_eq!(payment.took(), asked);
        assert_eq!(payment.refundable(), asked.less(payment.refunded_amount));

        let changed = payment
            .clone()
            .owed_back(PaymentStatus::Failed, PaymentNote::OrderChanged);
        assert_eq!(
            changed.took(),
            asked,
            "the order changed: all it paid is owed back"
        );

        let mut short = payment
            .clone()
            .owed_back(PaymentStatus::Failed, PaymentNote::AmountMismatch);
        short.refunded_amount = Money::ZERO;
        assert_eq!(short.took(), Money::ZERO, "what was charged is not known");
        short.charged_amount = Some(Money::from_minor_units(100));
        assert_eq!(short.refundable(), Money::from_minor_units(100));

        let other = payment.owed_back(PaymentStatus::Failed, PaymentNote::CurrencyMismatch);
        assert_eq!(
            other.took(),
            Money::ZERO,
            "another currency is refunded by hand"
        );
    }
}
