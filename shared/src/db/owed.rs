//! The list of orders that owe money back: one marker item per order whose payment or order has
//! `refund_due` set, put in the same transaction that sets it, so no crash can leave money owed
//! that nothing will retry. The sweep works through the list (oldest first) and deletes a marker
//! once nothing of its order is left to give back, conditioned on the marker as it read it: a
//! marker put again meanwhile (another charge owed) stays.

use super::{Db, DbError, attr, key, listing::Index, listing::Listing, s};
use crate::domain::OrderId;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use time::OffsetDateTime;

/// The markers are in this partition of gsi3, by order id (oldest order first).
const REFUNDS_DUE: &str = "REFUNDS_DUE";
/// Which marking this is: a fresh ULID each time it is put.
const MARKED: &str = "marked";

fn owed_key(order: &OrderId) -> super::Item {
    key(format!("OWED#{order}"), "OWED")
}

/// An order on the list, as the sweep read it.
#[derive(Debug, Clone)]
pub struct Owed {
    pub order_id: OrderId,
    marked: String,
}

impl Db {
    /// The write that puts `order` on the list (or marks it anew), for the transaction that sets
    /// `refund_due`.
    pub(super) fn owed_put(
        &self,
        order: &OrderId,
        at: OffsetDateTime,
    ) -> Result<TransactWriteItem, DbError> {
        let item = owed_item(order, at);
        let put = super::built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Puts `order` on the list on its own (before a refund that was held is failed, so that the
    /// money it held is owed again).
    pub async fn mark_owed(&self, order: &OrderId) -> Result<(), DbError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(owed_item(order, crate::now())))
            .send()
            .await?;
        Ok(())
    }

    /// A page of up to `limit` orders on the list, oldest first, after `start`.
    pub async fn owed_orders(
        &self,
        limit: usize,
        start: Option<super::Item>,
    ) -> Result<super::Page<Owed>, DbError> {
        let mut listing = Listing::partition(Index::Gsi3, REFUNDS_DUE);
        listing.newest_first = false;
        let page = self.list_raw(listing, limit, start).await?;
        let items = page
            .items
            .iter()
            .filter_map(|item| {
                let order_id = OrderId::parse(item.get("order_id")?.as_s().ok()?).ok()?;
                let marked = item.get(MARKED)?.as_s().ok()?.clone();
                Some(Owed { order_id, marked })
            })
            .collect();
        Ok(super::Page {
            items,
            next: page.next,
        })
    }

    /// Takes `owed` off the list unless it was marked again since it was read; `false` then.
    pub async fn clear_owed(&self, owed: &Owed) -> Result<bool, DbError> {
        let delete = super::built(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(owed_key(&owed.order_id)))
                .condition_expression("#marked = :marked")
                .expression_attribute_names("#marked", MARKED)
                .expression_attribute_values(":marked", s(&owed.marked))
                .build(),
        )?;
        self.transact_unless_raced(vec![TransactWriteItem::builder().delete(delete).build()])
            .await
    }
}

/// The marker of `order`, marked at `at`.
fn owed_item(order: &OrderId, at: OffsetDateTime) -> super::Item {
    let mut item = owed_key(order);
    item.insert(attr::ENTITY.into(), s("refund_due"));
    item.insert(attr::GSI3PK.into(), s(REFUNDS_DUE));
    item.insert(attr::GSI3SK.into(), s(order.to_string()));
    item.insert("order_id".into(), s(order.to_string()));
    item.insert(MARKED.into(), s(marking(at)));
    item
}

/// A marking unique to this write, sorting by time.
fn marking(at: OffsetDateTime) -> String {
    let millis = (at.unix_timestamp_nanos() / 1_000_000).max(0) as u64;
    ulid::Ulid::from_parts(millis, rand::random()).to_string()
}

#[cfg(test)]
mod tests {
    use crate::db::testing::{self, layout};

    #[test]
    fn an_order_owing_money_is_listed_by_its_id() {
        let item = super::owed_item(&testing::order().id, testing::at());
        let pk = format!("OWED#{}", testing::ORDER);
        assert_eq!(
            layout(&item),
            [
                ("entity", "refund_due"),
                ("pk", pk.as_str()),
                ("sk", "OWED"),
                ("gsi3pk", "REFUNDS_DUE"),
                ("gsi3sk", testing::ORDER),
            ]
        );
        assert_eq!(item["order_id"].as_s().unwrap(), testing::ORDER);
    }
}
