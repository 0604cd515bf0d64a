//! Orders: placed from a cart or a list of items, priced from the table, moved along their life
//! with a version condition so that racing changes never both apply.

use super::{
    Db, DbError, Item, SessionRead, attr,
    capacity::{Counter, Limits, Short},
    from_item,
    idempotency::IdempotentRequest,
    key, key_of,
    listing::{Index, Listing, Page},
    n, s,
};
use crate::caller::Credentials;
use crate::domain::{Date, OrderId, OrderStatus, UserId};
use crate::domain::{Order, User};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use time::OffsetDateTime;

pub(super) const ENTITY: &str = "order";
/// An order's partition key is this prefix and its id.
const PK_PREFIX: &str = "ORDER#";
/// Every order is in this partition of gsi3, sorted by delivery date.
pub(super) const ALL_ORDERS: &str = "ORDERS";

/// A customer's orders in gsi1.
fn customer_orders(user: &UserId) -> String {
    format!("ORDERS#{user}")
}

/// The orders in one status: their gsi2 partition. Public, like [`order_key`], for the tools that
/// must reach an item as the table holds it (the test harness's index-lag fault).
pub fn orders_in(status: OrderStatus) -> String {
    format!("ORDERS#{}", status.as_str())
}

/// The start of gsi3's sort key for orders delivered on `date`: the day's dispatch list is this prefix.
pub(super) fn delivered_on(date: Date) -> String {
    format!("{date}#")
}

/// An order's primary key.
pub fn order_key(id: &OrderId) -> Item {
    key(format!("{PK_PREFIX}{id}"), "ORDER")
}

/// The order's index entries. Each sort key is the order id (a ULID), so every list is newest first.
fn order_index(order: &Order) -> [(&'static str, String); 6] {
    [
        // The customer's orders.
        (attr::GSI1PK, customer_orders(&order.user_id)),
        (attr::GSI1SK, order.id.to_string()),
        // Orders by status: a status change moves the order between partitions.
        (attr::GSI2PK, orders_in(order.status)),
        (attr::GSI2SK, order.id.to_string()),
        // Every order, by delivery date and then id.
        (attr::GSI3PK, ALL_ORDERS.to_string()),
        (
            attr::GSI3SK,
            format!("{}{}", delivered_on(order.delivery_date), order.id),
        ),
    ]
}

/// The attribute naming the last write of an order item (see [`Db::replace_order`]).
const WRITE_ID: &str = "write_id";

impl Order {
    /// The item as the table holds it at `version`. Public so that tools that read the table
    /// (the load tool's invariants) can be tested on exactly what the API writes.
    pub fn to_item(&self, version: u64) -> Result<Item, DbError> {
        let mut item = super::to_item(self, ENTITY, order_key(&self.id), order_index(self))?;
        item.insert("version".into(), n(version));
        Ok(item)
    }
}

/// An order as read, with the version that guards its next write.
#[derive(Debug, Clone)]
pub struct StoredOrder {
    pub order: Order,
    pub version: u64,
}

impl StoredOrder {
    pub(super) fn from_item(item: Item) -> Result<Self, DbError> {
        stored(item)
    }
}

fn stored(item: Item) -> Result<StoredOrder, DbError> {
    let version = super::version_of(&item);
    Ok(StoredOrder {
        order: from_item(item)?,
        version,
    })
}

/// What replacing an order came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replaced {
    Done,
    /// The order changed since it was read (someone else won).
    Raced,
    /// These counters had no room for what the new order holds; nothing was written.
    Full(Vec<Counter>),
}

#[derive(Debug, thiserror::Error)]
pub enum PlaceOrderError {
    /// The kitchen has no room for it: these counters are full.
    #[error("the kitchen has no room for the order")]
    Full(Vec<Counter>),
    /// The cart changed (or was checked out) after it was priced.
    #[error("the cart changed while the order was being placed")]
    CartChanged,
    /// The idempotency key was used by a request that committed first.
    #[error("the idempotency key is already used")]
    KeyUsed,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The admin list's filters, as its query string gives them.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub delivery_date: Option<Date>,
    pub user_id: Option<UserId>,
}

impl Db {
    /// Writes a new order; with `cart_version`, empties the caller's cart in the same transaction
    /// on the condition that it is unchanged; with `idempotency`, stores `response` as the key's
    /// answer. The order's portions and day slot are held in the same transaction, each within
    /// `limits` (`Full` names the counters that had no room).
    pub async fn place_order(
        &self,
        order: &Order,
        cart_version: Option<u64>,
        idempotency: Option<(&IdempotentRequest, &str)>,
        limits: &Limits,
    ) -> Result<(), PlaceOrderError> {
        let counters = match self.counter_writes(None, order, limits)? {
            Ok(counters) => counters,
            Err(Short(full)) => return Err(PlaceOrderError::Full(full)),
        };
        let put = super::built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(order.to_item(1)?))
                .condition_expression("attribute_not_exists(pk)")
                .build(),
        )?;
        let mut writes = vec![TransactWriteItem::builder().put(put).build()];
        let cart_at = cart_version.map(|version| {
            writes.push(self.cart_checkout_delete(&order.user_id, version)?);
            Ok::<_, DbError>(writes.len() - 1)
        });
        let cart_at = cart_at.transpose()?;
        let key_at = match idempotency {
            Some((request, response)) => {
                writes.push(self.idempotency_put(request, 201, response, order.created_at)?);
                Some(writes.len() - 1)
            }
            None => None,
        };
        // At most the order, the cart, the key, 20 lines' portions and the day's slot: 24 of the
        // 100 items DynamoDB allows a transaction.
        let first_counter = writes.len();
        writes.extend(counters.writes.iter().cloned());
        let Err(failure) = self.transact_contended(writes).await else {
            return Ok(());
        };
        if key_at.is_some_and(|at| failure.condition_failed_at(at)) {
            return Err(PlaceOrderError::KeyUsed);
        }
        if cart_at.is_some_and(|at| failure.condition_failed_at(at)) {
            return Err(PlaceOrderError::CartChanged);
        }
        let full = counters.full(&failure, first_counter);
        if !full.is_empty() {
            return Err(PlaceOrderError::Full(full));
        }
        Err(PlaceOrderError::Db(failure.into()))
    }

    pub async fn get_order(&self, id: &OrderId) -> Result<Option<StoredOrder>, DbError> {
        self.get_consistent(order_key(id))
            .await?
            .map(stored)
            .transpose()
    }

    /// An order and a customer (the one expected to own it), in one round trip.
    pub async fn order_and_customer(
        &self,
        order: &OrderId,
        customer: &UserId,
    ) -> Result<(Option<StoredOrder>, Option<User>), DbError> {
        let order_key = order_key(order);
        let (mut found, mut user) = (None, None);
        for item in self
            .batch_get(vec![order_key.clone(), super::users::user_key(customer)])
            .await?
        {
            if key_of(&item) == key_of(&order_key) {
                found = Some(stored(item)?);
            } else {
                user = Some(from_item(item)?);
            }
        }
        Ok((found, user))
    }

    /// The session check and one order, in one round trip.
    pub async fn session_and_order(
        &self,
        credentials: &Credentials,
        order: &OrderId,
    ) -> Result<SessionRead<Option<StoredOrder>>, DbError> {
        let (check, items) = self
            .session_user_and(credentials, vec![order_key(order)])
            .await?;
        let order = items.into_iter().next().map(stored).transpose()?;
        Ok(SessionRead::new(check, order))
    }

    /// Replaces an order read at `old.version`; `false` if it changed since (someone else won).
    /// Counters move with it in the same transaction (a cancel releases what the order held); the
    /// moves of status this is for never hold more, so they need no limits.
    pub async fn replace_order(&self, old: &StoredOrder, new: &Order) -> Result<bool, DbError> {
        match self
            .replace_order_within(old, new, &Limits::default())
            .await?
        {
            Replaced::Done => Ok(true),
            Replaced::Raced => Ok(false),
            Replaced::Full(full) => Err(DbError::internal(format!(
                "a change of status held more of {full:?}"
            ))),
        }
    }

    /// [`Db::replace_order`] for a change that may hold more (an edit of the lines or the date):
    /// each counter it increases must stay within `limits`.
    ///
    /// A write that moves no counter is a single put. The SDK retries a write whose answer it did
    /// not get (a timeout, a 5xx), and the first attempt may have committed: then the retry's
    /// condition fails on our own write. So each such put carries an id of its own (`write_id`),
    /// and a failed condition reads the order again: when it holds this write's id at the next
    /// version, the write was ours. Anything else is one transaction (the order, its counters, and
    /// its place on the list of orders owing money when it comes to owe some), whose request token
    /// makes the SDK's retries safe.
    pub async fn replace_order_within(
        &self,
        old: &StoredOrder,
        new: &Order,
        limits: &Limits,
    ) -> Result<Replaced, DbError> {
        let counters = match self.counter_writes(Some(&old.order), new, limits)? {
            Ok(counters) => counters,
            Err(Short(full)) => return Ok(Replaced::Full(full)),
        };
        let owes = new.refund_due && !old.order.refund_due;
        if counters.writes.is_empty() && !owes {
            return self.put_order_once(old, new).await;
        }
        let put = super::built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(new.to_item(old.version + 1)?))
                .condition_expression("version = :version AND #status = :status")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":version", n(old.version))
                .expression_attribute_values(":status", s(old.order.status.as_str()))
                .build(),
        )?;
        let mut writes = vec![TransactWriteItem::builder().put(put).build()];
        if owes {
            writes.push(self.owed_put(&new.id, new.updated_at)?);
        }
        // At most the order, its marker, and an edit's 20 lines released and 20 held with two
        // days' slots: 44 of the 100 items DynamoDB allows a transaction.
        let first_counter = writes.len();
        writes.extend(counters.writes.iter().cloned());
        let Err(failure) = self.transact_contended(writes).await else {
            return Ok(Replaced::Done);
        };
        if failure.condition_failed_at(0) {
            return Ok(Replaced::Raced);
        }
        let full = counters.full(&failure, first_counter);
        if !full.is_empty() {
            return Ok(Replaced::Full(full));
        }
        if failure.lost_race() {
            return Ok(Replaced::Raced);
        }
        Err(failure.into())
    }

    async fn put_order_once(&self, old: &StoredOrder, new: &Order) -> Result<Replaced, DbError> {
        let write_id = ulid::Ulid::new().to_string();
        let mut item = new.to_item(old.version + 1)?;
        item.insert(WRITE_ID.into(), s(&write_id));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("version = :version AND #status = :status")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":version", n(old.version))
            .expression_attribute_values(":status", s(old.order.status.as_str()))
            .send()
            .await;
        let ours = match result {
            Ok(_) => true,
            Err(err) if super::condition_failed(&err) => self
                .get_consistent(order_key(&new.id))
                .await?
                .is_some_and(|now| {
                    super::version_of(&now) == old.version + 1
                        && now.get(WRITE_ID).and_then(|v| v.as_s().ok()) == Some(&write_id)
                }),
            Err(err) => return Err(err.into()),
        };
        Ok(if ours {
            Replaced::Done
        } else {
            Replaced::Raced
        })
    }

    /// A customer's orders, newest first, optionally of one stored status.
    pub async fn orders_of(
        &self,
        user: &UserId,
        status: Option<OrderStatus>,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<Order>, DbError> {
        let mut listing = Listing::partition(Index::Gsi1, customer_orders(user));
        if let Some(status) = status {
            listing = listing
                .name("#status", "status")
                .value(":status", s(status.as_str()))
                .filter("#status = :status");
        }
        self.list(listing, limit, start).await
    }

    /// Every order for the back office. The most selective filter picks the index: a customer's
    /// orders (gsi1), a delivery day (gsi3 prefix), a status (gsi2), or all orders by delivery date
    /// (gsi3); the other filters apply on top.
    pub async fn all_orders(
        &self,
        filter: &OrderFilter,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<Order>, DbError> {
        let mut listing = if let Some(user) = &filter.user_id {
            Listing::partition(Index::Gsi1, customer_orders(user))
        } else if let Some(date) = filter.delivery_date {
            Listing::partition(Index::Gsi3, ALL_ORDERS).sort_begins_with(delivered_on(date))
        } else if let Some(status) = filter.status {
            Listing::partition(Index::Gsi2, orders_in(status))
        } else {
            Listing::partition(Index::Gsi3, ALL_ORDERS)
        };
        if filter.user_id.is_some()
            && let Some(date) = filter.delivery_date
        {
            listing = listing
                .name("#date", "delivery_date")
                .value(":date", s(date.to_string()))
                .filter("#date = :date");
        }
        if let Some(status) = filter.status
            && (filter.user_id.is_some() || filter.delivery_date.is_some())
        {
            listing = listing
                .name("#status", "status")
                .value(":status", s(status.as_str()))
                .filter("#status = :status");
        }
        self.list(listing, limit, start).await
    }

    /// Unpaid orders placed before `placed_before`, oldest first, for the expiry sweep (gsi2's
    /// pending partition, bounded by the time inside the ULID sort key).
    pub async fn unpaid_orders_before(
        &self,
        placed_before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<StoredOrder>, DbError> {
        let bound = super::time_bound(placed_before);
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi2")
            .key_condition_expression("gsi2pk = :pending AND gsi2sk < :bound")
            .expression_attribute_values(":pending", s(orders_in(OrderStatus::PendingPayment)))
            .expression_attribute_values(":bound", s(bound))
            .limit(limit as i32)
            .send()
            .await?;
        let mut orders = Vec::new();
        for item in output.items.unwrap_or_default() {
            // The index may lag; read each order itself before changing it.
            if let Some((pk, _)) = key_of(&item)
                && let Some(id) = pk
                    .strip_prefix(PK_PREFIX)
                    .and_then(|id| OrderId::parse(id).ok())
                && let Some(order) = self.get_order(&id).await?
            {
                orders.push(order);
            }
        }
        Ok(orders)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{self, layout};
    use crate::domain::Actor;

    #[test]
    fn an_order_is_listed_by_customer_status_and_delivery_date() {
        let item = testing::order().to_item(1).unwrap();
        let order = format!("ORDER#{}", testing::ORDER);
        let customer = format!("ORDERS#{}", testing::USER);
        let delivery = format!("2026-12-24#{}", testing::ORDER);
        assert_eq!(
            layout(&item),
            [
                ("entity", "order"),
                ("pk", order.as_str()),
                ("sk", "ORDER"),
                ("gsi1pk", customer.as_str()),
                ("gsi1sk", testing::ORDER),
                ("gsi2pk", "ORDERS#pending_payment"),
                ("gsi2sk", testing::ORDER),
                ("gsi3pk", "ORDERS"),
                ("gsi3sk", delivery.as_str()),
            ]
        );
        assert_eq!(item["version"].as_n().unwrap(), "1");
        // The expiry sweep reads the order id back out of the key.
        let (pk, _) = key_of(&item).unwrap();
        assert_eq!(pk.strip_prefix(PK_PREFIX), Some(testing::ORDER));
    }

    #[test]
    fn a_status_change_moves_an_order_to_that_status_partition() {
        let paid = testing::order()
            .moved_to(OrderStatus::Paid, Actor::System, testing::at())
            .unwrap();
        let item = paid.to_item(2).unwrap();
        assert_eq!(item[attr::GSI2PK].as_s().unwrap(), "ORDERS#paid");
    }
}
