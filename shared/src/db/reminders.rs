//! The kitchen's reminders of paid orders left waiting: read from the paid partition of gsi2,
//! bounded by the time inside the order ids, and each reminder noted on its order.
//!
//! The note (`kitchen_reminders`, how many were sent) lives on the order item outside the order's
//! version, as a payment's `asked_at` does: staff's moves are conditioned on the version, so a
//! reminder never makes one of them fail. A move out of `paid` puts the whole order again and the
//! note goes with it, which is all it needs to do: only a paid order is reminded of. Refunds, the
//! one write that keeps an order paid, are updates and leave it in place.

use super::{Db, DbError, Item, n, orders::StoredOrder, s};
use crate::domain::{OrderId, OrderStatus};
use aws_sdk_dynamodb::types::ReturnValue;
use time::OffsetDateTime;

/// How many reminders of the order have been sent.
const REMINDERS: &str = "kitchen_reminders";
/// The id of the run that noted the last reminder, to tell our own write on an SDK retry.
const REMINDER_WRITE: &str = "kitchen_reminder_write";
/// Paid orders read per query.
const PAGE: usize = 100;

/// A paid order as the reminder job reads it: the order, and how many reminders it has had.
#[derive(Debug, Clone)]
pub struct WaitingOrder {
    pub stored: StoredOrder,
    pub reminders_sent: u32,
}

impl WaitingOrder {
    fn from_item(item: Item) -> Result<Self, DbError> {
        let reminders_sent = item
            .get(REMINDERS)
            .and_then(|value| value.as_n().ok())
            .and_then(|count| count.parse().ok())
            .unwrap_or(0);
        Ok(Self {
            stored: StoredOrder::from_item(item)?,
            reminders_sent,
        })
    }
}

impl Db {
    /// Paid orders placed between `from` and `to` that have had fewer than `repeats` reminders,
    /// oldest first, every page: `gsi2pk = ORDERS#paid`, `gsi2sk BETWEEN ULID(from) AND ULID(to)`,
    /// filtered on the count. What it reads grows with the orders paid in that window and still
    /// waiting, never with the table. The index lags: an order listed here may have moved on
    /// since, which [`Db::record_kitchen_reminder`]'s condition settles.
    pub async fn paid_orders_waiting(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        repeats: u32,
    ) -> Result<Vec<WaitingOrder>, DbError> {
        let mut waiting = Vec::new();
        let mut start = None;
        loop {
            let mut listing = super::listing::Listing::partition(
                super::listing::Index::Gsi2,
                super::orders::orders_in(OrderStatus::Paid),
            )
            .sort_between(super::time_bound(from), super::time_bound(to))
            .name("#reminders", REMINDERS)
            .value(":repeats", n(repeats))
            .filter("(attribute_not_exists(#reminders) OR #reminders < :repeats)");
            listing.newest_first = false;
            let page = self.list_raw(listing, PAGE, start).await?;
            for item in page.items {
                waiting.push(WaitingOrder::from_item(item)?);
            }
            match page.next {
                Some(next) => start = Some(next),
                None => break,
            }
        }
        Ok(waiting)
    }

    /// Notes that reminder `number` of `order` is being sent: one `UpdateItem` of the order's
    /// count, conditioned on the order still being paid and on fewer than `number` reminders
    /// noted, so of two runs (or two deliveries of one) only one sends each reminder. The
    /// order's version is left as it is. The order as the write left it, or `None` if the
    /// condition failed: the order moved on, or another run sent this reminder. A failed
    /// condition on the SDK's retry of our own write (its first answer lost) is told by the
    /// write's id and counts as ours.
    pub async fn record_kitchen_reminder(
        &self,
        order: &OrderId,
        number: u32,
    ) -> Result<Option<WaitingOrder>, DbError> {
        let write_id = ulid::Ulid::new().to_string();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(super::orders::order_key(order)))
            .update_expression("SET #reminders = :number, #write = :write")
            .condition_expression(
                "#status = :paid AND (attribute_not_exists(#reminders) OR #reminders < :number)",
            )
            .expression_attribute_names("#reminders", REMINDERS)
            .expression_attribute_names("#write", REMINDER_WRITE)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":number", n(number))
            .expression_attribute_values(":write", s(&write_id))
            .expression_attribute_values(":paid", s(OrderStatus::Paid.as_str()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let item = match result {
            Ok(output) => output.attributes,
            Err(err) if super::condition_failed(&err) => self
                .get_consistent(super::orders::order_key(order))
                .await?
                .filter(|now| {
                    now.get(REMINDER_WRITE).and_then(|v| v.as_s().ok()) == Some(&write_id)
                }),
            Err(err) => return Err(err.into()),
        };
        item.map(WaitingOrder::from_item).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing;

    #[test]
    fn an_order_without_the_note_has_had_no_reminder() {
        let item = testing::order().to_item(3).unwrap();
        let read = WaitingOrder::from_item(item.clone()).unwrap();
        assert_eq!((read.reminders_sent, read.stored.version), (0, 3));
        let mut noted = item;
        noted.insert(REMINDERS.into(), n(2));
        assert_eq!(WaitingOrder::from_item(noted).unwrap().reminders_sent, 2);
    }
}
