//! Refunds of paid transactions, and how Paystack shows them
//! (<https://paystack.com/docs/api/refund/>, <https://paystack.com/docs/payments/refunds/>).
//!
//! Three shapes come from one refund: the `data` of `POST /refund` (with a cut-down transaction
//! object inside), the `data` of `GET /refund/{id}` and of the list (the transaction by id only),
//! and the `data` of the `refund.*` webhooks, which is smaller again and — as in Paystack's own
//! samples — carries `amount` as a string, except in `refund.failed`, where it is a number.

use serde::Serialize;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::transaction::{Transaction, timestamp};

/// The simulated integration's id, as Paystack's refund samples show one.
pub(crate) const INTEGRATION_ID: u64 = 412_829;

/// Who "the merchant" is in `refunded_by` and the default merchant note: the owner of the
/// simulated integration's secret key.
pub(crate) const MERCHANT_EMAIL: &str = "merchant@kitchen.test";

/// Paystack's estimate of when the money reaches the customer: `expected_at` is this long after
/// the refund is created.
const EXPECTED_AFTER: Duration = Duration::days(9);

/// Where a refund is. It only moves forward:
/// `pending → processing → processed | failed | needs-attention`, and
/// `needs-attention → processed | failed`. `processed` and `failed` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefundStatus {
    Pending,
    Processing,
    Processed,
    Failed,
    NeedsAttention,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Processed => "processed",
            Self::Failed => "failed",
            Self::NeedsAttention => "needs-attention",
        }
    }

    /// The status a `/_sim/refunds/{id}/{step}` path names.
    pub fn from_step(step: &str) -> Option<Self> {
        match step {
            "processing" => Some(Self::Processing),
            "processed" => Some(Self::Processed),
            "failed" => Some(Self::Failed),
            "needs-attention" => Some(Self::NeedsAttention),
            _ => None,
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Processed | Self::Failed)
    }

    /// Whether a refund here may move to `next`.
    pub fn may_become(self, next: Self) -> bool {
        use RefundStatus::*;
        matches!(
            (self, next),
            (Pending, Processing | Processed | Failed | NeedsAttention)
                | (Processing, Processed | Failed | NeedsAttention)
                | (NeedsAttention, Processed | Failed)
        )
    }

    /// The webhook announcing that a refund reached this status.
    pub(crate) fn event(self) -> &'static str {
        match self {
            Self::Pending => "refund.pending",
            Self::Processing => "refund.processing",
            Self::Processed => "refund.processed",
            Self::Failed => "refund.failed",
            Self::NeedsAttention => "refund.needs-attention",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Refund {
    pub id: u64,
    pub transaction_reference: String,
    pub amount: u64,
    pub currency: String,
    pub status: RefundStatus,
    pub customer_note: String,
    pub merchant_note: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub refunded_at: Option<OffsetDateTime>,
    /// The processor's reference: `None` until processed (a bank-style number) or failed (a
    /// `TRF_` transfer code).
    pub refund_reference: Option<String>,
}

/// A refund as `GET /_sim/transactions` and `GET /_sim/refunds` list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefundView {
    pub id: u64,
    pub transaction_reference: String,
    pub amount: u64,
    pub currency: String,
    pub status: RefundStatus,
    pub refund_reference: Option<String>,
    pub customer_note: String,
    pub merchant_note: String,
    pub created_at: String,
    pub updated_at: String,
    pub refunded_at: Option<String>,
}

impl Refund {
    pub fn view(&self) -> RefundView {
        RefundView {
            id: self.id,
            transaction_reference: self.transaction_reference.clone(),
            amount: self.amount,
            currency: self.currency.clone(),
            status: self.status,
            refund_reference: self.refund_reference.clone(),
            customer_note: self.customer_note.clone(),
            merchant_note: self.merchant_note.clone(),
            created_at: timestamp(self.created_at),
            updated_at: timestamp(self.updated_at),
            refunded_at: self.refunded_at.map(timestamp),
        }
    }

    /// The `data` of `POST /refund`, after the OpenAPI spec's example.
    pub fn created_json(&self, transaction: &Transaction) -> Value {
        let paid_at = transaction.paid_at.map(timestamp);
        json!({
            "transaction": {
                "id": transaction.id,
                "domain": transaction.domain,
                "reference": transaction.reference,
                "amount": transaction.amount,
                "paid_at": paid_at,
                "channel": "card",
                "currency": transaction.currency,
                "authorization": { "exp_month": null, "exp_year": null, "account_name": null },
                "customer": { "international_format_phone": null },
                "plan": {},
                "subaccount": { "currency": null },
                "split": {},
                "order_id": null,
                "paidAt": paid_at,
                "pos_transaction_data": null,
                "source": null,
                "fees_breakdown": null,
            },
            "integration": INTEGRATION_ID,
            "deducted_amount": self.deducted_amount(),
            "channel": null,
            "merchant_note": self.merchant_note,
            "customer_note": self.customer_note,
            "status": self.status.as_str(),
            "refunded_by": MERCHANT_EMAIL,
            "expected_at": timestamp(self.created_at + EXPECTED_AFTER),
            "currency": self.currency,
            "domain": transaction.domain,
            "amount": self.amount,
            "fully_deducted": self.fully_deducted(),
            "id": self.id,
            "createdAt": timestamp(self.created_at),
            "updatedAt": timestamp(self.updated_at),
        })
    }

    /// The `data` of `GET /refund/{id}`, and each entry of `GET /refund`.
    pub fn fetched_json(&self, transaction: &Transaction) -> Value {
        let customer = &transaction.customer;
        json!({
            "integration": INTEGRATION_ID,
            "transaction": transaction.id,
            "dispute": null,
            "settlement": null,
            "id": self.id,
            "domain": transaction.domain,
            "currency": self.currency,
            "amount": self.amount,
            "status": self.status.as_str(),
            "refunded_at": self.refunded_at.map(timestamp),
            "refunded_by": MERCHANT_EMAIL,
            "customer_note": self.customer_note,
            "merchant_note": self.merchant_note,
            "deducted_amount": self.deducted_amount(),
            "fully_deducted": self.fully_deducted(),
            "createdAt": timestamp(self.created_at),
            "bank_reference": null,
            "transaction_reference": transaction.reference,
            "reason": self.customer_note,
            "customer": {
                "id": customer.id,
                "first_name": null,
                "last_name": null,
                "email": customer.email,
                "customer_code": customer.code,
                "phone": null,
                "metadata": null,
                "risk_action": "default",
                "international_format_phone": null,
            },
            "refund_type": if self.amount >= transaction.amount { "full" } else { "partial" },
            "transaction_amount": transaction.amount,
            "initiated_by": "api",
            "refund_channel": "card",
            "session_id": null,
            "collect_account_number": false,
        })
    }

    /// The `data` of the `refund.<status>` webhook, after Paystack's samples.
    pub fn event_json(&self, transaction: &Transaction) -> Value {
        // The samples disagree on the type of `amount`; a receiver must accept both.
        let amount = match self.status {
            RefundStatus::Failed => json!(self.amount),
            _ => json!(self.amount.to_string()),
        };
        json!({
            "status": self.status.as_str(),
            "transaction_reference": transaction.reference,
            "refund_reference": self.refund_reference,
            "amount": amount,
            "currency": self.currency,
            "processor": "instant-transfer",
            "customer": {
                "first_name": null,
                "last_name": null,
                "email": transaction.customer.email,
            },
            "integration": INTEGRATION_ID,
            "domain": transaction.domain,
        })
    }

    /// What has left the merchant's balance: everything once processed, nothing before.
    fn deducted_amount(&self) -> u64 {
        if self.status == RefundStatus::Processed {
            self.amount
        } else {
            0
        }
    }

    fn fully_deducted(&self) -> bool {
        self.status == RefundStatus::Processed
    }

    /// Counts against what is left to refund: every refund except a failed one.
    pub fn holds_amount(&self) -> bool {
        self.status != RefundStatus::Failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RefundStatus::*;

    #[test]
    fn refunds_only_move_forward() {
        let all = [Pending, Processing, Processed, Failed, NeedsAttention];
        let allowed = [
            (Pending, Processing),
            (Pending, Processed),
            (Pending, Failed),
            (Pending, NeedsAttention),
            (Processing, Processed),
            (Processing, Failed),
            (Processing, NeedsAttention),
            (NeedsAttention, Processed),
            (NeedsAttention, Failed),
        ];
        for from in all {
            for to in all {
                assert_eq!(
                    from.may_become(to),
                    allowed.contains(&(from, to)),
                    "{from:?} → {to:?}"
                );
            }
        }
        assert!(Processed.is_final() && Failed.is_final());
        assert!(!NeedsAttention.is_final());
    }

    #[test]
    fn statuses_read_as_paystack_writes_them() {
        assert_eq!(NeedsAttention.as_str(), "needs-attention");
        assert_eq!(
            serde_json::to_value(NeedsAttention).unwrap(),
            "needs-attention"
        );
        assert_eq!(NeedsAttention.event(), "refund.needs-attention");
        assert_eq!(
            RefundStatus::from_step("needs-attention"),
            Some(NeedsAttention)
        );
        assert_eq!(RefundStatus::from_step("pending"), None);
    }
}
