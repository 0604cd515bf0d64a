//! An order: its lines with their prices frozen, its delivery, and its life (`moved_to`, `as_of`).

use super::{
    Actor, Address, Currency, Date, DishId, Money, OrderId, OrderStatus, PlacedBy, Quantity, UserId,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A line of an order, its price frozen when the order was placed or last edited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    pub dish_id: DishId,
    pub dish_name: String,
    pub unit_price: Money,
    pub quantity: Quantity,
    pub line_total: Money,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: OrderStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub by: Actor,
}

/// Why an order was cancelled when nobody gave a reason: it was not paid in time.
pub const PAYMENT_TIMEOUT: &str = "payment_timeout";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub user_id: UserId,
    pub status: OrderStatus,
    pub items: Vec<OrderItem>,
    pub total: Money,
    pub currency: Currency,
    pub delivery_date: Date,
    /// As written when the order was placed or edited (see [`super::StoredText`]).
    #[serde(deserialize_with = "super::stored")]
    pub delivery_address: Address,
    pub placed_by: PlacedBy,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub paid_at: Option<OffsetDateTime>,
    pub status_history: Vec<StatusChange>,
    #[serde(default)]
    pub refund_due: bool,
    #[serde(default)]
    pub cancel_reason: Option<String>,
    /// What refunds not failed have given back of what was paid for it.
    #[serde(default)]
    pub refunded_amount: Money,
}

impl Order {
    /// The order as it stands at `now`: an unpaid order older than `expiry` is cancelled for
    /// payment timeout, whether or not the sweep has written that down yet.
    pub fn as_of(mut self, now: OffsetDateTime, expiry: std::time::Duration) -> Self {
        let deadline = self.created_at + expiry;
        if self.status == OrderStatus::PendingPayment && now >= deadline {
            self.status = OrderStatus::Cancelled;
            self.cancel_reason = Some(PAYMENT_TIMEOUT.to_string());
            self.status_history.push(StatusChange {
                status: OrderStatus::Cancelled,
                at: deadline,
                by: Actor::System,
            });
            self.updated_at = deadline;
        }
        self
    }

    /// Moves the order to `next` if `actor` may; the history records it.
    pub fn moved_to(&self, next: OrderStatus, actor: Actor, now: OffsetDateTime) -> Option<Order> {
        if !self.status.can_move_to(next, actor) {
            return None;
        }
        let mut order = self.clone();
        order.status = next;
        order.updated_at = now;
        order.status_history.push(StatusChange {
            status: next,
            at: now,
            by: actor,
        });
        if next == OrderStatus::Paid {
            order.paid_at = Some(now);
        }
        if next == OrderStatus::Cancelled
            && matches!(self.status, OrderStatus::Paid | OrderStatus::Preparing)
        {
            order.refund_due = true;
        }
        Some(order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use time::macros::datetime;

    fn unpaid(at: OffsetDateTime) -> Order {
        Order {
            id: OrderId::new(),
            user_id: UserId::new(),
            status: OrderStatus::PendingPayment,
            items: Vec::new(),
            total: Money::from_minor_units(2500),
            currency: Currency::Ngn,
            delivery_date: Date::parse("2026-12-24").unwrap(),
            delivery_address: Address::parse("1 Marina, Lagos").unwrap(),
            placed_by: PlacedBy::Customer,
            created_at: at,
            updated_at: at,
            paid_at: None,
            status_history: vec![StatusChange {
                status: OrderStatus::PendingPayment,
                at,
                by: Actor::Customer,
            }],
            refund_due: false,
            cancel_reason: None,
            refunded_amount: Money::ZERO,
        }
    }

    #[test]
    fn an_unpaid_order_reads_as_cancelled_once_its_deadline_has_passed() {
        let placed = datetime!(2026-12-01 10:00 UTC);
        let expiry = Duration::from_secs(3600);
        let before = unpaid(placed).as_of(placed + Duration::from_secs(3599), expiry);
        assert_eq!(before.status, OrderStatus::PendingPayment);
        let after = unpaid(placed).as_of(placed + expiry, expiry);
        assert_eq!(after.status, OrderStatus::Cancelled);
        assert_eq!(after.cancel_reason.as_deref(), Some(PAYMENT_TIMEOUT));
        assert_eq!(after.updated_at, placed + expiry);
        assert_eq!(after.status_history.last().unwrap().by, Actor::System);
    }

    #[test]
    fn a_move_is_recorded_and_cancelling_a_paid_order_owes_a_refund() {
        let placed = datetime!(2026-12-01 10:00 UTC);
        let paid = unpaid(placed)
            .moved_to(OrderStatus::Paid, Actor::System, placed)
            .unwrap();
        assert_eq!(paid.paid_at, Some(placed));
        assert_eq!(paid.status_history.len(), 2);
        assert!(
            unpaid(placed)
                .moved_to(OrderStatus::Paid, Actor::Customer, placed)
                .is_none()
        );
        let cancelled = paid
            .moved_to(OrderStatus::Cancelled, Actor::Admin, placed)
            .unwrap();
        assert!(cancelled.refund_due);
        let unpaid_cancel = unpaid(placed)
            .moved_to(OrderStatus::Cancelled, Actor::Customer, placed)
            .unwrap();
        assert!(!unpaid_cancel.refund_due);
    }
}
