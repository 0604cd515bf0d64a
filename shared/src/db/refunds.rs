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
use time::OffsetDateTime;

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
    /// The writes a refund makes to its payment and its order, one update of each (a transaction
    /// may touch an item once): `refunded` kobo moved onto (or, negative, off) their
    /// `refunded_amount` counters; with `settles`, their `refund_due` cleared; the version moved on
    /// either way, so a put conditioned on the version read before cannot write back a stale item.
    /// With `room`, the payment (which took that much) must be a success with room left for
    /// `refunded`: `refunded_amount <= room - refunded`, computed here since a condition cannot add.
    fn charge_and_order(
        &self,
        refund: &Refund,
        refunded: i64,
        settles: bool,
        room: Option<Money>,
    ) -> Result<[TransactWriteItem; 2], DbError> {
        let update = |key: Item, room: Option<Money>| {
            let mut adds = vec!["version :one"];
            if refunded != 0 {
                adds.insert(0, "refunded_amount :amount");
            }
            let mut expression = format!("ADD {}", adds.join(", "));
            if settles {
                expression = format!("SET refund_due = :settled {expression}");
            }
            let mut update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key))
                .update_expression(expression)
                .expression_attribute_values(":one", n(1));
            if refunded != 0 {
                update = update.expression_attribute_values(":amount", n(refunded));
            }
            if settles {
                update =
                    update.expression_attribute_values(":settled", AttributeValue::Bool(false));
            }
            update = match room {
                Some(took) => update
                    // A charge that took money: a success, or one that did not match its order
                    // (notes are final: a settled payment is never written again but by refunds).
                    .condition_expression(
                        "(#status = :success OR note IN (:changed, :mismatch)) AND (attribute_not_exists(refunded_amount) OR refunded_amount <= :limit)",
                    )
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":success", s("success"))
                    .expression_attribute_values(":changed", s("order_changed"))
                    .expression_attribute_values(":mismatch", s("amount_mismatch"))
                    .expression_attribute_values(
                        ":limit",
                        n(took.less(Money::from_minor_units(refunded)).minor_units()),
                    ),
                None => update.condition_expression("attribute_exists(pk)"),
            };
            super::built(update.build())
                .map(|update| TransactWriteItem::builder().update(update).build())
        };
        Ok([
            update(
                super::payments::payment_key(&refund.payment_reference),
                room,
            )?,
            update(super::orders::order_key(&refund.order_id), None)?,
        ])
    }

    /// Stores a new refund (version 1, before Paystack is asked) and moves its amount onto its
    /// payment's and order's counters, in one transaction; the payment (which took
    /// `payment_amount`) must have taken money (`Payment::took`) with at least the refund's amount
    /// left. With
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
        let [payment, order] = self.charge_and_order(
            refund,
            refund.amount.minor_units(),
            false,
            Some(payment_amount),
        )?;
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
        let mut writes = vec![TransactWriteItem::builder().delete(delete).build()];
        writes.extend(self.charge_and_order(refund, -refund.amount.minor_units(), false, None)?);
        if let Some(request) = idempotency {
            writes.push(self.idempotency_delete(request)?);
        }
        Ok(self.transact(writes).await?)
    }

    /// Replaces a refund read at `old.version` with `next`. When `next` is the refund's failure, its
    /// amount comes off its payment's and order's counters in the same transaction; with
    /// `settles`, the refund is what their `refund_due` asked for, which is cleared (unless the
    /// refund failed: then the money is still owed); each item is touched once; with
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
        // A failure gives its amount back; a refund that failed settles nothing.
        let failed = next.status == RefundStatus::Failed;
        let given_back = if failed && old.refund.status != RefundStatus::Failed {
            -next.amount.minor_units()
        } else {
            0
        };
        let settles = settles && !failed;
        if given_back != 0 || settles {
            writes.extend(self.charge_and_order(next, given_back, settles, None)?);
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

    /// Refunds created between `from` and `to` that are still held: pending without Paystack's
    /// id, because Paystack's answer to them never came (a Query of the refunds of that time).
    pub async fn held_refunds(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<StoredRefund>, DbError> {
        let listing = Listing::partition(Index::Gsi3, ALL_REFUNDS)
            .sort_between(super::time_bound(from), super::time_bound(to))
            .name("#status", "status")
            .value(":pending", s(RefundStatus::Pending.as_str()))
            .value(":null", s("NULL"))
            .filter("#status = :pending")
            .filter("(attribute_not_exists(paystack_id) OR attribute_type(paystack_id, :null))");
        let page = self.list_raw(listing, limit, None).await?;
        page.items.into_iter().map(stored).collect()
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
