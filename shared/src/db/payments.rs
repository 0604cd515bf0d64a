//! Payments: one item per Paystack attempt, keyed by our reference, with three index entries (the
//! customer's payments, an order's attempts, every payment) and a version that guards each write.
//!
//! A payment is written `pending` before Paystack is called, so a crash in between leaves a record
//! and never an untracked transaction. Recording Paystack's word about it (success, a decline, a
//! mismatch) is a put conditioned on the version read; success also puts the order as paid in the
//! same transaction, conditioned on the order's version, so however many webhooks and verifies race,
//! exactly one of them commits and the others find the payment already recorded.

use super::{
    Db, DbError, Item, SessionRead, attr, from_item,
    idempotency::IdempotentRequest,
    key,
    listing::{Index, Listing, Page},
    n,
    orders::StoredOrder,
    s,
};
use crate::caller::Credentials;
use crate::domain::{Order, Payment, PaymentReference, PaymentStatus, User};
use crate::domain::{OrderId, UserId};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use time::OffsetDateTime;

pub(super) const ENTITY: &str = "payment";
/// Every payment is in this partition of gsi3, newest first.
const ALL_PAYMENTS: &str = "PAYMENTS";

/// A customer's payments in gsi1.
fn customer_payments(user: &UserId) -> String {
    format!("PAYMENTS#{user}")
}

/// The payment attempts for one order, in gsi2.
fn order_attempts(order: &OrderId) -> String {
    format!("PAYMENTS#ORDER#{order}")
}

pub(super) fn payment_key(reference: &PaymentReference) -> Item {
    key(format!("PAYMENT#{reference}"), "PAYMENT")
}

/// The payment's index entries. Each sort key is the reference (a ULID), so every list is newest
/// first.
fn payment_index(payment: &Payment) -> [(&'static str, String); 6] {
    [
        // The customer's payments.
        (attr::GSI1PK, customer_payments(&payment.user_id)),
        (attr::GSI1SK, payment.reference.to_string()),
        // An order's attempts.
        (attr::GSI2PK, order_attempts(&payment.order_id)),
        (attr::GSI2SK, payment.reference.to_string()),
        // Every payment, for the back office.
        (attr::GSI3PK, ALL_PAYMENTS.to_string()),
        (attr::GSI3SK, payment.reference.to_string()),
    ]
}

impl Payment {
    /// The item as the table holds it at `version`, public for the same reason as `Order::to_item`.
    pub fn to_item(&self, version: u64) -> Result<Item, DbError> {
        let key = payment_key(&self.reference);
        let mut item = super::to_item(self, ENTITY, key, payment_index(self))?;
        item.insert("version".into(), n(version));
        Ok(item)
    }
}

/// A payment as read, with the version that guards its next write.
#[derive(Debug, Clone)]
pub struct StoredPayment {
    pub payment: Payment,
    pub version: u64,
}

pub(super) fn stored(item: Item) -> Result<StoredPayment, DbError> {
    let version = super::version_of(&item);
    Ok(StoredPayment {
        payment: from_item(item)?,
        version,
    })
}

/// The entry of a payment in the list of open disputes.
fn dispute_key(reference: &PaymentReference) -> Item {
    key(format!("DISPUTE#{reference}"), "DISPUTE")
}

/// The item that lists a payment among the open disputes (gsi3, soonest answer due first), present
/// only while its dispute is open.
fn open_dispute_item(payment: &Payment) -> Item {
    let due = payment
        .dispute
        .as_ref()
        .and_then(|dispute| dispute.due_at)
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "9999-12-31T00:00:00Z".to_string());
    let mut item = dispute_key(&payment.reference);
    item.insert(attr::ENTITY.into(), s("open_dispute"));
    item.insert("reference".into(), s(payment.reference.as_str()));
    item.insert(attr::GSI3PK.into(), s(OPEN_DISPUTES));
    item.insert(
        attr::GSI3SK.into(),
        s(format!("{due}#{}", payment.reference)),
    );
    item
}

/// When the sweep last asked Paystack about a payment still pending (epoch seconds); not part of
/// the payment.
const ASKED_AT: &str = "asked_at";

/// Payments with an open dispute are listed in this partition of gsi3.
const OPEN_DISPUTES: &str = "DISPUTES";

/// The back office's filters.
#[derive(Debug, Clone, Default)]
pub struct PaymentFilter {
    pub status: Option<PaymentStatus>,
    pub user_id: Option<UserId>,
    pub order_id: Option<OrderId>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartPaymentError {
    /// The idempotency key was used by a request that committed first.
    #[error("the idempotency key is already used")]
    KeyUsed,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl Db {
    /// Writes a new attempt (version 1), before Paystack is asked to start it.
    pub async fn create_payment(&self, payment: &Payment) -> Result<(), DbError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(payment.to_item(1)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await?;
        Ok(())
    }

    /// Stores what Paystack answered to a new attempt (its checkout link) and, with `idempotency`,
    /// the response to the request that started it, in one transaction: the key's record then always
    /// describes a payment that is stored with its link.
    pub async fn payment_started(
        &self,
        started: &Payment,
        idempotency: Option<(&IdempotentRequest, &str)>,
    ) -> Result<(), StartPaymentError> {
        let put = super::built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(started.to_item(2)?))
                .condition_expression("version = :created")
                .expression_attribute_values(":created", n(1))
                .build(),
        )?;
        let mut writes = vec![TransactWriteItem::builder().put(put).build()];
        let key_at = match idempotency {
            Some((request, response)) => {
                writes.push(self.idempotency_put(request, 201, response, started.created_at)?);
                Some(writes.len() - 1)
            }
            None => None,
        };
        let Err(failure) = self.transact(writes).await else {
            return Ok(());
        };
        if key_at.is_some_and(|at| failure.condition_failed_at(at)) {
            return Err(StartPaymentError::KeyUsed);
        }
        Err(StartPaymentError::Db(failure.into()))
    }

    pub async fn get_payment(
        &self,
        reference: &PaymentReference,
    ) -> Result<Option<StoredPayment>, DbError> {
        self.get_consistent(payment_key(reference))
            .await?
            .map(stored)
            .transpose()
    }

    /// A payment together with the order and customer it is expected to belong to (as a webhook's
    /// signed metadata names them), in one round trip. The caller checks that they do belong together.
    pub async fn payment_order_and_customer(
        &self,
        reference: &PaymentReference,
        order: &OrderId,
        customer: &UserId,
    ) -> Result<(Option<StoredPayment>, Option<StoredOrder>, Option<User>), DbError> {
        let payment_key = payment_key(reference);
        let order_key = super::orders::order_key(order);
        let keys = vec![
            payment_key.clone(),
            order_key.clone(),
            super::users::user_key(customer),
        ];
        let (mut payment, mut found, mut user) = (None, None, None);
        for item in self.batch_get(keys).await? {
            if super::key_of(&item) == super::key_of(&payment_key) {
                payment = Some(stored(item)?);
            } else if super::key_of(&item) == super::key_of(&order_key) {
                found = Some(StoredOrder::from_item(item)?);
            } else {
                user = Some(from_item(item)?);
            }
        }
        Ok((payment, found, user))
    }

    /// The session check and one payment, in one round trip.
    pub async fn session_and_payment(
        &self,
        credentials: &Credentials,
        reference: &PaymentReference,
    ) -> Result<SessionRead<Option<StoredPayment>>, DbError> {
        let (check, items) = self
            .session_user_and(credentials, vec![payment_key(reference)])
            .await?;
        let payment = items.into_iter().next().map(stored).transpose()?;
        Ok(SessionRead::new(check, payment))
    }

    /// Replaces a payment read at `old.version` with `new` and, with `order`, replaces that order
    /// (read at its version, and still in the status it was read in) in the same transaction.
    /// `false` if either changed since: the caller reads both again and decides anew. A payment or
    /// order that comes to owe money back (`refund_due`) is put on the list of orders owing money
    /// in the same transaction.
    pub async fn record_payment(
        &self,
        old: &StoredPayment,
        new: &Payment,
        order: Option<(&StoredOrder, &Order)>,
    ) -> Result<bool, DbError> {
        let payment_put = super::built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(new.to_item(old.version + 1)?))
                .condition_expression("version = :version")
                .expression_attribute_values(":version", n(old.version))
                .build(),
        )?;
        let mut writes = vec![TransactWriteItem::builder().put(payment_put).build()];
        if let Some((stored, next)) = order {
            // The same condition as `Db::replace_order`: a sweep, an edit or a cancel that got there
            // first makes this fail rather than be overwritten.
            let order_put = super::built(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(next.to_item(stored.version + 1)?))
                    .condition_expression("version = :version AND #status = :status")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":version", n(stored.version))
                    .expression_attribute_values(":status", s(stored.order.status.as_str()))
                    .build(),
            )?;
            writes.push(TransactWriteItem::builder().put(order_put).build());
            // An expiry written down here releases what the order held.
            let counters = self
                .counter_writes(Some(&stored.order), next, &Default::default())?
                .map_err(|short| DbError::internal(format!("a payment held more of {short:?}")))?;
            writes.extend(counters.writes);
        }
        // Money now owed back puts the order on the sweep's list in the same transaction.
        let owes = (new.refund_due && !old.payment.refund_due)
            || order.is_some_and(|(stored, next)| next.refund_due && !stored.order.refund_due);
        if owes {
            writes.push(self.owed_put(&new.order_id, crate::now())?);
        }
        self.transact_unless_raced(writes).await
    }

    /// Replaces a payment read at `old.version` with `new`, whose dispute changed, and lists it
    /// among the open disputes (or takes it off that list) in the same transaction. `false` if the
    /// payment changed since.
    pub async fn record_dispute(
        &self,
        old: &StoredPayment,
        new: &Payment,
    ) -> Result<bool, DbError> {
        use crate::domain::DisputeStatus;
        let payment_put = super::built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(new.to_item(old.version + 1)?))
                .condition_expression("version = :version")
                .expression_attribute_values(":version", n(old.version))
                .build(),
        )?;
        let listing = match new.dispute.as_ref().map(|d| d.status) {
            Some(DisputeStatus::Open) => TransactWriteItem::builder()
                .put(super::built(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(open_dispute_item(new)))
                        .build(),
                )?)
                .build(),
            _ => TransactWriteItem::builder()
                .delete(super::built(
                    aws_sdk_dynamodb::types::Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(dispute_key(&new.reference)))
                        .build(),
                )?)
                .build(),
        };
        let writes = vec![
            TransactWriteItem::builder().put(payment_put).build(),
            listing,
        ];
        self.transact_unless_raced(writes).await
    }

    /// Payments with an open dispute, the soonest answer due first: one Query of the list, then the
    /// payments themselves in one BatchGetItem.
    pub async fn open_disputes(
        &self,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<Payment>, DbError> {
        let mut listing = Listing::partition(Index::Gsi3, OPEN_DISPUTES);
        listing.newest_first = false;
        let page = self.list_raw(listing, limit, start).await?;
        let references: Vec<String> = page
            .items
            .iter()
            .filter_map(|item| item.get("reference")?.as_s().ok().cloned())
            .collect();
        let keys = references
            .iter()
            .filter_map(|reference| PaymentReference::parse(reference).ok())
            .map(|reference| payment_key(&reference))
            .collect::<Vec<_>>();
        let mut found: std::collections::HashMap<String, Payment> =
            std::collections::HashMap::new();
        if !keys.is_empty() {
            for item in self.batch_get(keys).await? {
                let payment = stored(item)?.payment;
                found.insert(payment.reference.to_string(), payment);
            }
        }
        let items = references
            .iter()
            .filter_map(|reference| found.remove(reference))
            .collect();
        Ok(Page {
            items,
            next: page.next,
        })
    }

    /// Payments started between `from` and `to` that are still `pending` at Paystack's checkout,
    /// unless the sweep asked Paystack about them after `asked_before` (a Query of the payments of
    /// that time, whose cost grows with the window, not the table).
    pub async fn pending_payments(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        asked_before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<StoredPayment>, DbError> {
        let listing = Listing::partition(Index::Gsi3, ALL_PAYMENTS)
            .sort_between(super::time_bound(from), super::time_bound(to))
            .name("#status", "status")
            .name("#asked", ASKED_AT)
            .value(":pending", s(PaymentStatus::Pending.as_str()))
            .value(":asked", n(asked_before.unix_timestamp()))
            .filter("#status = :pending AND attribute_exists(authorization_url)")
            .filter("(attribute_not_exists(#asked) OR #asked < :asked)");
        let page = self.list_raw(listing, limit, None).await?;
        page.items.into_iter().map(stored).collect()
    }

    /// Notes that the sweep asked Paystack about `payment` at `at` and nothing had changed, so it
    /// is not asked again within the hour. Not a new version: the next write of the payment
    /// replaces the note, which is all it needs to do.
    pub async fn payment_asked(
        &self,
        payment: &StoredPayment,
        at: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(payment_key(&payment.payment.reference)))
            .update_expression("SET #asked = :at")
            .condition_expression("version = :version")
            .expression_attribute_names("#asked", ASKED_AT)
            .expression_attribute_values(":at", n(at.unix_timestamp()))
            .expression_attribute_values(":version", n(payment.version))
            .send()
            .await;
        super::applied(result)
    }

    /// A customer's payments, newest first.
    pub async fn payments_of(
        &self,
        user: &UserId,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<Payment>, DbError> {
        let listing = Listing::partition(Index::Gsi1, customer_payments(user));
        self.list(listing, limit, start).await
    }

    /// An order's attempts, newest first.
    pub async fn payments_of_order(
        &self,
        order: &OrderId,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<Payment>, DbError> {
        let listing = Listing::partition(Index::Gsi2, order_attempts(order));
        self.list(listing, limit, start).await
    }

    /// Every payment for the back office, newest first. The most selective filter picks the index:
    /// one order's attempts (gsi2), one customer's payments (gsi1), or all payments (gsi3); the
    /// other filters apply on top.
    pub async fn all_payments(
        &self,
        filter: &PaymentFilter,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<Payment>, DbError> {
        let mut listing = if let Some(order) = &filter.order_id {
            Listing::partition(Index::Gsi2, order_attempts(order))
        } else if let Some(user) = &filter.user_id {
            Listing::partition(Index::Gsi1, customer_payments(user))
        } else {
            Listing::partition(Index::Gsi3, ALL_PAYMENTS)
        };
        if filter.order_id.is_some()
            && let Some(user) = &filter.user_id
        {
            listing = listing
                .name("#user", "user_id")
                .value(":user", s(user.to_string()))
                .filter("#user = :user");
        }
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
    fn a_payment_is_listed_by_customer_order_and_in_the_list_of_all() {
        let item = testing::payment().to_item(2).unwrap();
        let payment = format!("PAYMENT#{}", testing::PAYMENT);
        let customer = format!("PAYMENTS#{}", testing::USER);
        let order = format!("PAYMENTS#ORDER#{}", testing::ORDER);
        assert_eq!(
            layout(&item),
            [
                ("entity", "payment"),
                ("pk", payment.as_str()),
                ("sk", "PAYMENT"),
                ("gsi1pk", customer.as_str()),
                ("gsi1sk", testing::PAYMENT),
                ("gsi2pk", order.as_str()),
                ("gsi2sk", testing::PAYMENT),
                ("gsi3pk", "PAYMENTS"),
                ("gsi3sk", testing::PAYMENT),
            ]
        );
        assert_eq!(item["version"].as_n().unwrap(), "2");
    }

    #[test]
    fn an_open_dispute_is_listed_by_its_due_time() {
        use crate::domain::{Dispute, DisputeStatus};
        let mut payment = testing::payment();
        payment.dispute = Some(Dispute {
            status: DisputeStatus::Open,
            reason: None,
            due_at: Some(testing::at()),
            resolution: None,
            updated_at: testing::at(),
        });
        let item = super::open_dispute_item(&payment);
        let pk = format!("DISPUTE#{}", testing::PAYMENT);
        let due = format!(
            "{}#{}",
            testing::at()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap(),
            testing::PAYMENT
        );
        assert_eq!(
            layout(&item),
            [
                ("entity", "open_dispute"),
                ("pk", pk.as_str()),
                ("sk", "DISPUTE"),
                ("gsi3pk", "DISPUTES"),
                ("gsi3sk", due.as_str()),
            ]
        );
        assert_eq!(item["reference"].as_s().unwrap(), testing::PAYMENT);
    }
}
