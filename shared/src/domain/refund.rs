//! Money given back: a refund of (part of) one successful charge, asked of Paystack
//! (`POST /refund`) and followed through its webhooks until it is processed or failed.

use super::{Currency, Money, OrderId, PaymentReference, RefundId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Where a refund stands, as Paystack reports it (`needs-attention` is spelled with an underscore
/// here, as every status of ours is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    Processing,
    /// Paystack could not pay it back on its own (the customer's bank account is needed).
    NeedsAttention,
    Processed,
    Failed,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Processing => "processing",
            RefundStatus::NeedsAttention => "needs_attention",
            RefundStatus::Processed => "processed",
            RefundStatus::Failed => "failed",
        }
    }

    /// Paystack's spelling (`needs-attention`); an unknown word is none.
    pub fn from_paystack(word: &str) -> Option<Self> {
        Some(match word {
            "pending" => RefundStatus::Pending,
            "processing" => RefundStatus::Processing,
            "needs-attention" | "needs_attention" => RefundStatus::NeedsAttention,
            "processed" => RefundStatus::Processed,
            "failed" => RefundStatus::Failed,
            _ => return None,
        })
    }

    /// How far along a refund is: a status only ever moves to a higher step.
    fn step(self) -> u8 {
        match self {
            RefundStatus::Pending => 0,
            RefundStatus::Processing => 1,
            RefundStatus::NeedsAttention => 2,
            RefundStatus::Processed | RefundStatus::Failed => 3,
        }
    }

    /// Processed and failed are where a refund ends.
    pub fn is_final(self) -> bool {
        self.step() == 3
    }

    /// Whether a refund that is `self` may become `next`: only forward, and never out of an end,
    /// so an older event arriving late changes nothing.
    pub fn may_become(self, next: RefundStatus) -> bool {
        next.step() > self.step()
    }
}

/// Who asked for a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestedBy {
    Admin,
    System,
}

impl RequestedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestedBy::Admin => "admin",
            RequestedBy::System => "system",
        }
    }
}

/// One refund, as stored and as staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    pub id: RefundId,
    pub payment_reference: PaymentReference,
    pub order_id: OrderId,
    pub user_id: UserId,
    pub amount: Money,
    pub currency: Currency,
    pub status: RefundStatus,
    pub reason: String,
    pub requested_by: RequestedBy,
    /// The staff member who asked (admins' view only).
    #[serde(default)]
    pub admin_id: Option<UserId>,
    /// Paystack's id for the refund, from its answer to `POST /refund`; none until it answered.
    #[serde(default)]
    pub paystack_id: Option<u64>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub processed_at: Option<OffsetDateTime>,
}

impl Refund {
    /// A new refund of `amount` of `charge`, `pending` until Paystack says otherwise, asked by
    /// `requested_by` (and the staff member `admin_id`) at `now`.
    pub fn of(
        charge: &super::Payment,
        amount: Money,
        reason: &str,
        requested_by: RequestedBy,
        admin_id: Option<UserId>,
        now: OffsetDateTime,
    ) -> Self {
        Refund {
            id: RefundId::new(),
            payment_reference: charge.reference.clone(),
            order_id: charge.order_id.clone(),
            user_id: charge.user_id.clone(),
            amount,
            currency: charge.currency,
            status: RefundStatus::Pending,
            reason: reason.to_string(),
            requested_by,
            admin_id,
            paystack_id: None,
            created_at: now,
            updated_at: now,
            processed_at: None,
        }
    }

    /// The refund moved to `next` at `now`, if it may move there.
    pub fn moved_to(&self, next: RefundStatus, now: OffsetDateTime) -> Option<Refund> {
        if !self.status.may_become(next) {
            return None;
        }
        let mut moved = self.clone();
        moved.status = next;
        moved.updated_at = now;
        if next == RefundStatus::Processed {
            moved.processed_at = Some(now);
        }
        Some(moved)
    }

    /// What the customer sees of it: amounts and statuses, no staff ids or Paystack's id.
    pub fn for_customer(&self) -> CustomerRefund {
        CustomerRefund {
            id: self.id.clone(),
            payment_reference: self.payment_reference.clone(),
            order_id: self.order_id.clone(),
            amount: self.amount,
            currency: self.currency,
            status: self.status,
            created_at: self.created_at,
            updated_at: self.updated_at,
            processed_at: self.processed_at,
        }
    }
}

/// A refund as its customer sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerRefund {
    pub id: RefundId,
    pub payment_reference: PaymentReference,
    pub order_id: OrderId,
    pub amount: Money,
    pub currency: Currency,
    pub status: RefundStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub processed_at: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refund_only_moves_forward_and_never_out_of_an_end() {
        use RefundStatus::*;
        assert!(Pending.may_become(Processing));
        assert!(Pending.may_become(Processed));
        assert!(Processing.may_become(NeedsAttention));
        assert!(NeedsAttention.may_become(Processed));
        assert!(NeedsAttention.may_become(Failed));
        assert!(!Processing.may_become(Pending));
        assert!(!Processing.may_become(Processing));
        assert!(!Processed.may_become(Failed));
        assert!(!Failed.may_become(Processed));
        assert!(Processed.is_final() && Failed.is_final() && !NeedsAttention.is_final());
    }

    #[test]
    fn paystack_statuses_are_read_in_either_spelling() {
        assert_eq!(
            RefundStatus::from_paystack("needs-attention"),
            Some(RefundStatus::NeedsAttention)
        );
        assert_eq!(
            RefundStatus::from_paystack("processed"),
            Some(RefundStatus::Processed)
        );
        assert_eq!(RefundStatus::from_paystack("reversed"), None);
        assert_eq!(
            serde_json::to_value(RefundStatus::NeedsAttention).unwrap(),
            "needs_attention"
        );
    }
}
