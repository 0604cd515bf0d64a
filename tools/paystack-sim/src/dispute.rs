//! Disputes (chargebacks) of paid transactions, as Paystack's `charge.dispute.*` webhooks show
//! them (<https://paystack.com/docs/payments/webhooks/#supported-events>,
//! <https://paystack.com/docs/payments/disputes/>).
//!
//! Paystack opens a dispute when the customer complains to their bank; the merchant then has
//! until `dueAt` to answer. Here the `/_sim` routes play the customer and the bank: open the
//! dispute, remind the merchant, and resolve it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::transaction::{Transaction, TransactionStatus, timestamp};

/// What the customer says in the dispute's first message, as in Paystack's sample.
const COMPLAINT: &str = "Customer complained about debit without value";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DisputeStatus {
    AwaitingMerchantFeedback,
    Resolved,
}

impl DisputeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingMerchantFeedback => "awaiting-merchant-feedback",
            Self::Resolved => "resolved",
        }
    }
}

/// How a dispute ended. `merchant-accepted` and `auto-accepted` (the merchant did not answer in
/// time) give the customer their money back; `declined` keeps it with the merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resolution {
    MerchantAccepted,
    #[default]
    Declined,
    AutoAccepted,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MerchantAccepted => "merchant-accepted",
            Self::Declined => "declined",
            Self::AutoAccepted => "auto-accepted",
        }
    }

    pub fn refunds_the_customer(self) -> bool {
        matches!(self, Self::MerchantAccepted | Self::AutoAccepted)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct HistoryEntry {
    pub status: &'static str,
    pub by: String,
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub(crate) struct Dispute {
    pub id: u64,
    pub refund_amount: u64,
    pub currency: String,
    pub status: DisputeStatus,
    pub resolution: Option<Resolution>,
    pub due_at: OffsetDateTime,
    pub resolved_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub history: Vec<HistoryEntry>,
}

/// A dispute as `GET /_sim/transactions` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisputeView {
    pub id: u64,
    pub status: DisputeStatus,
    pub resolution: Option<Resolution>,
    pub refund_amount: u64,
    pub currency: String,
    pub due_at: String,
    pub resolved_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Dispute {
    pub fn is_open(&self) -> bool {
        self.status != DisputeStatus::Resolved
    }

    pub fn view(&self) -> DisputeView {
        DisputeView {
            id: self.id,
            status: self.status,
            resolution: self.resolution,
            refund_amount: self.refund_amount,
            currency: self.currency.clone(),
            due_at: timestamp(self.due_at),
            resolved_at: self.resolved_at.map(timestamp),
            created_at: timestamp(self.created_at),
            updated_at: timestamp(self.updated_at),
        }
    }

    /// The `data` of `charge.dispute.create`, `.remind` and `.resolve`, after Paystack's sample:
    /// the whole transaction as `charge.success` carried it, and the customer in full.
    pub fn event_json(&self, transaction: &Transaction) -> Value {
        let mut embedded = serde_json::to_value(transaction.to_paystack()).unwrap_or_default();
        if self
            .resolution
            .is_some_and(Resolution::refunds_the_customer)
        {
            embedded["status"] = json!(TransactionStatus::Reversed.as_str());
        }
        let customer = &transaction.customer;
        let email = &customer.email;
        let created_at = timestamp(self.created_at);
        json!({
            "id": self.id,
            "refund_amount": self.refund_amount,
            "currency": self.currency,
            "status": self.status.as_str(),
            "resolution": self.resolution.map(Resolution::as_str),
            "domain": transaction.domain,
            "transaction": embedded,
            "transaction_reference": null,
            "category": "chargeback",
            "customer": {
                "id": customer.id,
                "first_name": null,
                "last_name": null,
                "email": email,
                "customer_code": customer.code,
                "phone": null,
                "metadata": {},
                "risk_action": "allow",
                "international_format_phone": null,
            },
            "bin": "408408",
            "last4": "4081",
            "dueAt": timestamp(self.due_at),
            "resolvedAt": self.resolved_at.map(timestamp),
            "evidence": null,
            "attachments": null,
            "note": null,
            "history": self.history.iter().map(|entry| json!({
                "status": entry.status,
                "by": entry.by,
                "createdAt": timestamp(entry.at),
            })).collect::<Vec<_>>(),
            "messages": [{ "sender": email, "body": COMPLAINT, "createdAt": created_at }],
            "created_at": created_at,
            "updated_at": timestamp(self.updated_at),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_read_as_paystack_writes_them() {
        for resolution in [
            Resolution::MerchantAccepted,
            Resolution::Declined,
            Resolution::AutoAccepted,
        ] {
            let written = serde_json::to_value(resolution).unwrap();
            assert_eq!(written, resolution.as_str());
            assert_eq!(
                serde_json::from_value::<Resolution>(written).unwrap(),
                resolution
            );
        }
        assert_eq!(Resolution::default(), Resolution::Declined);
        assert!(!Resolution::Declined.refunds_the_customer());
        assert_eq!(
            serde_json::to_value(DisputeStatus::AwaitingMerchantFeedback).unwrap(),
            "awaiting-merchant-feedback"
        );
    }
}
