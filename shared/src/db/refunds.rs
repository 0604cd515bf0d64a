//! Refunds: one item per refund asked of Paystack, keyed by our id, listed by payment, by order
//! and all together, with a version that guards each write.
//!
//! Nothing can give back more than a charge took, however many refunds race: each refund is
//! stored in one transaction with `ADD refunded_amount` on its payment, conditioned on the
//! payment's counter still leaving room for it (`refunded_amount <= amount - this refund`,
//! computed here since a condition cannot add), and on its order's counter. A refund that fails
//! gives its amount back to both counters in the transaction that records the failure, so each
//! counter is always the sum of its refunds not failed.

use super::{
    Db, DbError, Item, attr, from_item,
    idempotency::IdempotentRequest,
    key,
    listing::{Index, Listing, Page},
    n, s,
};
use crate::domain::{Money, OrderId, PaymentReference, Refund, RefundId, RefundStatus};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};

pub(super) const ENTITY: &str = "refund";
/// Every refund is in this partition of gsi3, newest first.
const ALL_REFUNDS: &str = "REFUNDS";

/// A payment's refunds in gsi1 (the webhook's refund events name the payment, not the refund).
fn payment_refunds(reference: &PaymentReference) -> String {
    format!("REFUNDS#PAYMENT#{reference}")
}

/// An order's refunds in gsi2.
fn order_refunds(order: &OrderId) -> String {
    format!("REFUNDS#ORDER#{order}")
}

fn refund_key(id: &RefundId) -> Item {
    key(format!("REFUND#{id}"), "REFUND")
}

/// The refund's index entries; each sort key is the refund id (a ULID), so lists are newest first.
fn refund_index(refund: &Refund) -> [(&'static str, String); 6] {
    [
        (attr::GSI1PK, payment_refunds(&refund.payment_reference)),
        (attr::GSI1SK, refund.id.to_string()),
        (attr::GSI2PK, order_refunds(&refund.order_id)),
        (attr::GSI2SK, refund.id.to_string()),
        (attr::GSI3PK, ALL_REFUNDS.to_string()),
        (attr::GSI3SK, refund.id.to_string()),
    ]
}

impl Refund {
    /// The item as the table holds it at `version`.
    pub fn to_item(&self, version: u64) -> Result<Item, DbError> {
        let mut item = super::to_item(self, ENTITY, refund_key(&self.id), refund_index(self))?;
        item.insert("version".into(), n(version));
        Ok(item)
    }
}

/// A refund as read, with the version that guards its next write.
#[derive(Debug, Clone)]
pub struct StoredRefund {
    pub refund: Refund,
    pub version: u64,
}

pub(super) fn stored(item: Item) -> Result<StoredRefund, DbError> {
    let version = super::version_of(&item);
    Ok(StoredRefund {
        refund: from_item(item)?,
        version,
    })
}

/// The back office's filters.
#[derive(Debug, Clone, Default)]
pub struct RefundFilter {
    pub status: Option<RefundStatus>,
    pub order_id: Option<OrderId>,
}

/// Why a refund could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum ReserveRefundError {
    /// The payment is not a success, or has less left to refund than this refund asks (another
    /// refund got there first).
    #[error("the payment has not that much left to refund")]
    NotEnoughLeft,
    /// The idempotency key was used by a request that committed first.
    #[error("the idempotency key is already used")]
    KeyUsed,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl Db {
    /// Moves `amount` onto (or, negative, off) the `refunded_amount` counter of the item at `key`,
    /// with the version moved on, so a put conditioned on the version read before cannot write
    /// back a stale counter.
    fn counter_update(
        &self,
        key: Item,
        amount: i64,
        condition: Option<(&str, Money)>,
    ) -> Result<TransactWriteItem, DbError> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression("ADD refunded_amount :amount, version :one")
            .expression_attribute_values(":amount", n(amount))
            .expression_attribute_values(":one", n(1));
        update = match condition {
            Some((expression, limit)) => update
                .condition_expression(expression)
                .expression_attribute_values(":limit", n(limit.minor_units())),
            None => update.condition_expression("attribute_exists(pk)"),
        };
        Ok(TransactWriteItem::builder()
            .update(super::built(update.build())?)
            .build())
    }

    /// Stores a new refund (version 1, before Paystack is asked) and moves its amount onto its
    /// payment's and order's counters, in one transaction; the payment (which took
    /// `payment_amount`) must be a success with at least the refund's amount left. With
    /// `idempotency`, the key's answer is stored in the same transaction.
    pub async fn reserve_refund(
        &self,
        refund: &Refund,
        payment_amount: Money,
        idempotency: Option<(&IdempotentRequest, &str)>,
    ) -> Result<(), ReserveRefundError> {
        let put = super::built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(refund.to_item(1)?))
                .condition_expression("attribute_not_exists(pk)")
                .build(),
        )?;
        let amount = refund.amount.minor_units();
        let limit = payment_amount.less(refund.amount);
        let mut payment = self.counter_update(
            super::payments::payment_key(&refund.payment_reference),
            amount,
            Some((
                "#status = :success AND (attribute_not_exists(refunded_amount) OR refunded_amount <= :limit)",
                limit,
            )),
        )?;
        if let Some(update) = payment.update.as_mut() {
            update
                .expression_attribute_names
                .get_or_insert_with(Default::default)
                .insert("#status".into(), "status".into());
            update
                .expression_attribute_values
                .get_or_insert_with(Default::default)
                .insert(":success".into(), s("success"));
        }
        let order =
            self.counter_update(super::orders::order_key(&refund.order_id), amount, None)?;
        let mut writes = vec![
            TransactWriteItem::builder().put(put).build(),
            payment,
            order,
        ];
        if let Some((request, response)) = idempotency {
            writes.push(self.idempotency_put(request, 201, response, refund.created_at)?);
        }
        let Err(failure) = self.transact(writes).await else {
            return Ok(());
        };
        if idempotency.is_some() && failure.condition_failed_at(3) {
            return Err(ReserveRefundError::KeyUsed);
        }
        if failure.condition_failed_at(1) {
            return Err(ReserveRefundError::NotEnoughLeft);
        }
        Err(ReserveRefundError::Db(failure.into()))
    }

    /// Undoes [`Db::reserve_refund`] when Paystack would not take the refund: the refund is deleted
    /// (only as it was stored, version 1), its amount taken off both counters, and the key freed.
    pub async fn withdraw_refund(
        &self,
        refund: &Refund,
        idempotency: Option<&IdempotentRequest>,
    ) -> Result<(), DbError> {
        let delete = super::built(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(refund_key(&refund.id)))
                .condition_expression("version = :created")
                .expression_attribute_values(":created", n(1))
                .build(),
        )?;
        let amount = -refund.amount.minor_units();
        let mut writes = vec![
            TransactWriteItem::builder().delete(delete).build(),
            self.counter_update(
                super::payments::payment_key(&refund.payment_reference),
                amount,
                None,
            )?,
            self.counter_update(super::orders::order_key(&refund.order_id), amount, None)?,
        ];
        if let Some(request) = idempotency {
            writes.push(self.idempotency_delete(request)?);
        }
        Ok(self.transact(writes).await?)
    }

    /// Replaces a refund read at `old.version` with `next`. When `next` is the refund's failure, its
    /// amount comes off its payment's and order's counters in the same transaction; with
    /// `settles`, the refund is what their `refund_due` asked for, which is cleared; with
    /// `idempotency`, the key's answer becomes `response`. `false` if the refund changed since.
    pub async fn record_refund(
        &self,
        old: &StoredRefund,
        next: &Refund,
        settles: bool,
        idempotency: Option<(&IdempotentRequest, &str)>,
    ) -> Result<bool, DbError> {
        let put = super::built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(next.to_item(old.version + 1)?))
                .condition_expression("version = :version")
                .expression_attribute_values(":version", n(old.version))
                .build(),
        )?;
        let mut writes = vec![TransactWriteItem::builder().put(put).build()];
        if next.status == RefundStatus::Failed && old.refund.status != RefundStatus::Failed {
            let amount = -next.amount.minor_units();
            writes.push(self.counter_update(
                super::payments::payment_key(&next.payment_reference),
                amount,
                None,
            )?);
            writes.push(self.counter_update(
                super::orders::order_key(&next.order_id),
                amount,
                None,
            )?);
        }
        if settles {
            for key in [
                super::payments::payment_key(&next.payment_reference),
                super::orders::order_key(&next.order_id),
            ] {
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key))
                    .update_expression("SET refund_due = :settled ADD version :one")
                    .condition_expression("attribute_exists(pk)")
                    .expression_attribute_values(":settled", AttributeValue::Bool(false))
                    .expression_attribute_values(":one", n(1));
                writes.push(
                    TransactWriteItem::builder()
                        .update(super::built(update.build())?)
                        .build(),
                );
            }
        }
        if let Some((request, response)) = idempotency {
            writes.push(self.idempotency_replace(request, 201, response, next.updated_at)?);
        }
        self.transact_unless_raced(writes).await
    }

    pub async fn get_refund(&self, id: &RefundId) -> Result<Option<StoredRefund>, DbError> {
        self.get_consistent(refund_key(id))
            .await?
            .map(stored)
            .transpose()
    }

    /// Every refund of one payment, oldest first (a charge has a handful at most).
    pub async fn refunds_of_payment(
        &self,
        reference: &PaymentReference,
    ) -> Result<Vec<StoredRefund>, DbError> {
        let mut refunds = Vec::new();
        let mut start = None;
        loop {
            let listing = Listing::partition(Index::Gsi1, payment_refunds(reference));
            let page = self.list_raw(listing, 100, start).await?;
            for item in page.items {
                refunds.push(stored(item)?);
            }
            match page.next {
                Some(next) => start = Some(next),
                None => break,
            }
        }
        refunds.reverse();
        Ok(refunds)
    }

    /// An order's refunds, newest first.
    pub async fn refunds_of_order(
        &self,
        order: &OrderId,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<Refund>, DbError> {
        let listing = Listing::partition(Index::Gsi2, order_refunds(order));
        self.list(listing, limit, start).await
    }

    /// Every refund for the back office, newest first; one order's through gsi2.
    pub async fn all_refunds(
        &self,
        filter: &RefundFilter,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<Refund>, DbError> {
        let mut listing = match &filter.order_id {
            Some(order) => Listing::partition(Index::Gsi2, order_refunds(order)),
            None => Listing::partition(Index::Gsi3, ALL_REFUNDS),
        };
        if let Some(status) = filter.status {
            listing = listing
                .name("#status", "status")
                .value(":status", s(status.as_str()))
                .filter("#status = :status");
        }
        self.list(listing, limit, start).await
    }
}

#[cfg(test)]
mod tests {
    use crate::db::testing::{self, layout};

    #[test]
    fn a_refund_is_listed_by_payment_order_and_in_the_list_of_all() {
        let refund = testing::refund();
        let item = refund.to_item(1).unwrap();
        let pk = format!("REFUND#{}", refund.id);
        let payment = format!("REFUNDS#PAYMENT#{}", testing::PAYMENT);
        let order = format!("REFUNDS#ORDER#{}", testing::ORDER);
        let id = refund.id.to_string();
        assert_eq!(
            layout(&item),
            [
                ("entity", "refund"),
                ("pk", pk.as_str()),
                ("sk", "REFUND"),
                ("gsi1pk", payment.as_str()),
                ("gsi1sk", id.as_str()),
                ("gsi2pk", order.as_str()),
                ("gsi2sk", id.as_str()),
                ("gsi3pk", "REFUNDS"),
                ("gsi3sk", id.as_str()),
            ]
        );
    }
}
