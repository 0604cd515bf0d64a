//! The one way a committed change to an order is told: read what the message needs (the customer,
//! unless the caller has them already), publish the event, and never fail the caller — the change is
//! made whatever happens here. A failure is logged at error level and counted as
//! `EventPublishFailed` (by the publisher, or here when the customer cannot be read).

use crate::{
    db::Db,
    domain::OrderStatus,
    domain::{Order, User},
    events::{KitchenReminder, OrderEvent, OrderEventKind, Publisher},
    metrics::EVENT_PUBLISH_FAILED,
};
use time::OffsetDateTime;

/// What announcing needs: the table (to read the customer) and the topic.
#[derive(Clone, Copy)]
pub struct Announcer<'a> {
    pub db: &'a Db,
    pub events: &'a Publisher,
}

impl Announcer<'_> {
    /// Tells `order`'s customer about `kind`, a change that has committed. A customer handed in who
    /// is not the order's (read along with something else) is read again.
    pub async fn announce(&self, order: &Order, kind: OrderEventKind, customer: Option<&User>) {
        self.publish(order, kind, customer, None).await;
    }

    /// Tells `order`'s customer that a refund of `amount` of its money was processed.
    pub async fn announce_refund(&self, order: &Order, amount: crate::domain::Money) {
        self.publish(order, OrderEventKind::Refunded, None, Some(amount))
            .await;
    }

    async fn publish(
        &self,
        order: &Order,
        kind: OrderEventKind,
        customer: Option<&User>,
        refunded: Option<crate::domain::Money>,
    ) {
        let read;
        let customer = match customer.filter(|customer| customer.id == order.user_id) {
            Some(customer) => customer,
            None => match self.db.get_user(&order.user_id).await {
                Ok(Some(customer)) => {
                    read = customer;
                    &read
                }
                Ok(None) => {
                    tracing::error!(
                        event_type = kind.as_str(),
                        order_id = %order.id,
                        user_id = %order.user_id,
                        "the order's customer is not in the table; event not published"
                    );
                    EVENT_PUBLISH_FAILED.count([kind.as_str()]);
                    return;
                }
                Err(err) => {
                    tracing::error!(
                        event_type = kind.as_str(),
                        order_id = %order.id,
                        error = %crate::error::cause_chain(&err),
                        "reading the order's customer failed; event not published"
                    );
                    EVENT_PUBLISH_FAILED.count([kind.as_str()]);
                    return;
                }
            },
        };
        let mut event = event(order, kind, customer);
        event.refunded = refunded;
        self.events.publish(&event).await;
    }
}

/// The event for a change to `order`, addressed to `customer`.
pub fn event(order: &Order, kind: OrderEventKind, customer: &User) -> OrderEvent {
    let name = match (&customer.first_name, &customer.last_name) {
        (Some(first), Some(last)) => Some(format!("{first} {last}")),
        (Some(first), None) => Some(first.to_string()),
        (None, Some(last)) => Some(last.to_string()),
        (None, None) => None,
    };
    OrderEvent {
        phone: customer.phone.clone(),
        sms_opt_out: customer.sms_opt_out,
        customer_name: name,
        ..of_order(order, kind, order.updated_at)
    }
}

/// The kitchen's reminder of `order`, paid and left waiting, sent `at`. It names no customer (no
/// phone, no name): it is for the kitchen alone, and needs no read of the customer.
pub fn reminder_event(order: &Order, reminder: KitchenReminder, at: OffsetDateTime) -> OrderEvent {
    OrderEvent {
        reminder: Some(reminder),
        ..of_order(order, OrderEventKind::Unattended, at)
    }
}

/// What every event says of its order, addressed to nobody.
fn of_order(order: &Order, kind: OrderEventKind, at: OffsetDateTime) -> OrderEvent {
    OrderEvent {
        kind,
        order_id: order.id.clone(),
        user_id: order.user_id.clone(),
        status: order.status,
        total: order.total,
        currency: order.currency,
        delivery_date: order.delivery_date,
        phone: None,
        sms_opt_out: false,
        customer_name: None,
        occurred_at: at,
        refunded: None,
        reminder: None,
    }
}

/// The event kind a move to `status` announces.
pub fn kind_of_move(status: OrderStatus) -> OrderEventKind {
    match status {
        OrderStatus::Cancelled => OrderEventKind::Cancelled,
        OrderStatus::Paid => OrderEventKind::Paid,
        _ => OrderEventKind::StatusChanged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing;

    #[test]
    fn the_event_carries_the_customers_sms_opt_out() {
        let order = testing::order();
        let mut customer = testing::user();
        assert!(!event(&order, OrderEventKind::Paid, &customer).sms_opt_out);
        customer.sms_opt_out = true;
        let opted_out = event(&order, OrderEventKind::Paid, &customer);
        assert!(opted_out.sms_opt_out);
        assert_eq!(opted_out.customer_name.as_deref(), Some("Ada Lovelace"));
    }
}
