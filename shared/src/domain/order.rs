//! An order: its lines with their prices frozen, its delivery, and its life (`moved_to`, `as_of`).

use super::{
    Actor, Address, Currency, Date, DishId, Money, OrderId, OrderNote, OrderStatus, PlacedBy,
    Quantity, UserId,
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

/// One step of an order's life: where it went, when, by whom, and why if someone said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: OrderStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub by: Actor,
    /// What staff noted on the move.
    #[serde(default)]
    pub note: Option<OrderNote>,
    /// The staff member who made the move: for the back office only ([`Order::for_customer`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_id: Option<UserId>,
}

impl StatusChange {
    /// A step taken by `by` at `at`, with no note.
    pub fn new(status: OrderStatus, at: OffsetDateTime, by: Actor) -> Self {
        Self {
            status,
            at,
            by,
            note: None,
            admin_id: None,
        }
    }
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
    /// The customer's special instructions, set when placing or editing while unpaid.
    #[serde(default)]
    pub note: Option<OrderNote>,
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
            self.status_history.push(StatusChange::new(
                OrderStatus::Cancelled,
                deadline,
                Actor::System,
            ));
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
        order
            .status_history
            .push(StatusChange::new(next, now, actor));
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

    /// The order as its customer sees it: which staff member moved it is the back office's.
    pub fn for_customer(mut self) -> Self {
        for change in &mut self.status_history {
            change.admin_id = None;
        }
        self
    }

    /// Records who moved the order last and what they noted (the step `moved_to` just added).
    pub fn noted(mut self, admin_id: Option<UserId>, note: Option<OrderNote>) -> Self {
        if let Some(last) = self.status_history.last_mut() {
            last.admin_id = admin_id;
            last.note = note;
        }
        self
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
            note: None,
            created_at: at,
            updated_at: at,
            paid_at: None,
            status_history: vec![StatusChange::new(
                OrderStatus::PendingPayment,
                at,
                Actor::Customer,
            )],
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
        let admin = UserId::new();
        let noted = cancelled.noted(Some(admin.clone()), OrderNote::parse("burnt").ok());
        let last = noted.status_history.last().unwrap();
        assert_eq!(last.admin_id.as_ref(), Some(&admin));
        assert_eq!(last.note.as_ref().map(OrderNote::as_str), Some("burnt"));
        let seen = serde_json::to_value(noted.clone().for_customer()).unwrap();
        assert!(seen["status_history"][2].get("admin_id").is_none());
        assert_eq!(seen["status_history"][2]["note"], "burnt");
        let staff = serde_json::to_value(noted).unwrap();
        assert_eq!(staff["status_history"][2]["admin_id"], admin.to_string());
        let unpaid_cancel = unpaid(placed)
            .moved_to(OrderStatus::Cancelled, Actor::Customer, placed)
            .unwrap();
        assert!(!unpaid_cancel.refund_due);
    }
}
