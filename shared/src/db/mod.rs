//! The single table. Every key, index and access pattern of Kitchen API lives in this module; handlers
//! call one method per access pattern and never build keys or attribute names themselves.
//!
//! Keys are generic (`pk`, `sk`, and `gsiNpk`/`gsiNsk` for three global secondary indexes, all
//! projecting every attribute); `entity` names the item's type; `expires_at` (epoch seconds) is the
//! table's TTL attribute. DynamoDB deletes expired items late (DynamoDB Local never does), so every
//! read of an item with `expires_at` treats it as gone once that time has passed.
//!
//! Each entity spells its keys once, in its own file: a key function (`order_key`, `dish_key`, …)
//! that both its lookups and its item use, and for an indexed entity an index function
//! (`order_index`, …) whose partition values are the same functions its queries use
//! (`customer_orders`, `orders_in`, …). Each file's tests pin its items' `pk`, `sk` and index
//! attributes, so a layout change shows there and in this table, the index of them all.
//!
//! | access pattern | key condition | item(s) |
//! | --- | --- | --- |
//! | user by id | `pk = USER#<id>`, `sk = PROFILE` | user |
//! | user by email; email uniqueness | `pk = EMAIL#<email>`, `sk = EMAIL` → `user_id` | email claim, written in the user's transaction |
//! | all users, newest first | `gsi1pk = USERS`, `gsi1sk = <user id>` (ULIDs sort by time) | user |
//! | a session (auth check, refresh) | `pk = USER#<id>`, `sk = SESSION#<session id>` | session (TTL) |
//! | sessions of a user (revoke all) | `pk = USER#<id>`, `sk begins_with SESSION#` | session (TTL) |
//! | session check plus the caller's data | one `BatchGetItem` of the session and the user | |
//! | sign-in attempts of an email (counted before the password is checked) | `pk = LOGIN#<email>`, `sk = THROTTLE`, atomic `ADD` | throttle (TTL) |
//! | reset emails sent to an email | `pk = RESET#<email>`, `sk = LIMIT`, atomic `ADD` | limit (TTL) |
//! | a user's email-verification or password-reset token (one of each) | `pk = USER#<id>`, `sk = TOKEN#<kind>` | one-time token (TTL), read with the user in one `BatchGetItem` |
//! | user search (admin) | `gsi1pk = USERS`, filter on lower-cased names, email, phone | user |
//! | dish by id | `pk = DISH#<id>`, `sk = DISH` | dish |
//! | dish name uniqueness | `pk = DISHNAME#<folded name>`, `sk = DISHNAME` → `dish_id` | name claim, in the dish's transaction |
//! | dishes orderable on date D | `gsi1pk = MENU`, `gsi1sk >= D` (sk = `<available_until or 9999-12-31>#<id>`, only while active), filter `available_from <= D` | dish |
//! | all dishes (admin), newest first | `gsi2pk = DISHES`, `gsi2sk = <dish id>` | dish |
//! | cart of a user (all lines, versioned) | `pk = USER#<id>`, `sk = CART` | cart |
//! | idempotency record (TTL) | `pk = USER#<id>`, `sk = IDEMP#<sha256(route, key)>` | first response |
//! | order by id | `pk = ORDER#<id>`, `sk = ORDER` | order |
//! | orders of a user, newest first | `gsi1pk = ORDERS#<user id>`, `gsi1sk = <order id>` | order |
//! | orders by status, newest first | `gsi2pk = ORDERS#<status>`, `gsi2sk = <order id>` | order |
//! | orders by delivery date (dispatch list) | `gsi3pk = ORDERS`, `gsi3sk begins_with <date>#` | order |
//! | the day's prep list (admin) | `gsi3pk = ORDERS`, `gsi3sk begins_with <date>#`, filter `status IN (paid, preparing, out_for_delivery)`, every page; then the customers, 100 to a `BatchGetItem` | order, user |
//! | sales report of a range of days (admin) | `gsi3pk = ORDERS`, `gsi3sk BETWEEN <from># AND <to>#~`, filter `paid_at` set, projection `delivery_date, items, total, refunded_amount`, every page | order |
//! | unpaid orders older than the expiry | `gsi2pk = ORDERS#pending_payment`, `gsi2sk < ULID(cutoff)` | order |
//! | paid orders left waiting (the kitchen's reminders) | `gsi2pk = ORDERS#paid`, `gsi2sk BETWEEN ULID(now - expiry - 72 h - alert × (repeats + 1)) AND ULID(now - alert)`, filter `kitchen_reminders` (outside the order's version) unset or below the repeats | order |
//! | a reminder noted | `UpdateItem` of `kitchen_reminders` on the order (condition: still `paid`, fewer noted than this one; the version untouched) | order |
//! | payment by reference (verify, webhook) | `pk = PAYMENT#<reference>`, `sk = PAYMENT` | payment (versioned) |
//! | payments of a user, newest first | `gsi1pk = PAYMENTS#<user id>`, `gsi1sk = <reference>` (a ULID) | payment |
//! | attempts for one order, newest first | `gsi2pk = PAYMENTS#ORDER#<order id>`, `gsi2sk = <reference>` | payment |
//! | all payments (admin), newest first | `gsi3pk = PAYMENTS`, `gsi3sk = <reference>`; by customer via gsi1, by order via gsi2; filter `status` | payment |
//! | open disputes, soonest answer due first (admin) | `gsi3pk = DISPUTES`, `gsi3sk = <due_at>#<reference>` → `reference`, then the payments in one `BatchGetItem` | open dispute (`pk = DISPUTE#<reference>`, `sk = DISPUTE`), put with its payment's dispute and deleted on resolution in one transaction |
//! | payment success | one transaction: payment put (condition: version read) + order put as paid (condition: version and status read) | payment, order |
//! | refund by id | `pk = REFUND#<id>`, `sk = REFUND` | refund (versioned) |
//! | refunds of a payment (the webhook's refund events name only the payment) | `gsi1pk = REFUNDS#PAYMENT#<reference>`, `gsi1sk = <refund id>` | refund |
//! | refunds of an order, newest first | `gsi2pk = REFUNDS#ORDER#<order id>`, `gsi2sk = <refund id>` | refund |
//! | all refunds (admin), newest first | `gsi3pk = REFUNDS`, `gsi3sk = <refund id>`; filter `status` | refund |
//! | the kitchen's settings | `pk = KITCHEN`, `sk = SETTINGS` (absent until staff change them) | settings (versioned) |
//! | a date's capacity counters (the menu, the answer to an order that does not fit) | `pk = DAY#<date>`: `sk = DISH#<dish id>` (portions held) and `sk = ORDERS` (orders held), each `held` | capacity counter, moved in the transaction of every order write |
//! | payments pending too long (the sweep) | `gsi3pk = PAYMENTS`, `gsi3sk BETWEEN ULID(now - 72 h) AND ULID(now - 1 h)`, filter `pending`, a checkout link, `asked_at` (epoch s, outside the payment) unset or over an hour old | payment |
//! | refunds held (Paystack's answer never came; the sweep) | `gsi3pk = REFUNDS`, `gsi3sk BETWEEN ULID(now - 72 h) AND ULID(now - 10 min)`, filter `pending` without `paystack_id` | refund |
//! | orders owing money back (the sweep's retry), oldest first | `gsi3pk = REFUNDS_DUE`, `gsi3sk = <order id>` → `order_id`, `marked` | owed (`pk = OWED#<order id>`, `sk = OWED`), put in the transaction that sets a payment's or order's `refund_due`, deleted by the sweep (condition: `marked` as read) once nothing is left to give back |
//! | a refund stored | one transaction: refund put (new) + `ADD refunded_amount` on its payment (condition: it took money — a success, or flagged `order_changed`/`amount_mismatch` — with room left) and on its order | refund, payment, order |
//! | every order and payment (the load tool's invariants, never the API) | consistent Scan, each item read by [`decode`] | order, payment |

mod capacity;
mod carts;
mod dishes;
mod idempotency;
mod kitchen;
mod kitchen_lists;
mod listing;
pub mod meter;
mod one_time;
mod orders;
mod owed;
mod payments;
mod refunds;
mod reminders;
mod sessions;
#[cfg(test)]
pub(crate) mod testing;
mod throttle;
mod users;

pub use capacity::{Counter, DayCounts, Limits, holding};
pub use carts::{CheckoutReads, MAX_CART_LINES};
pub use dishes::{DishWriteError, MenuFilter, StoredDish};
pub use idempotency::{IDEMPOTENCY_WINDOW, IdempotencyRecord, IdempotentRequest};
pub use kitchen::StoredKitchen;
pub use kitchen_lists::Sale;
pub use listing::Page;
pub use one_time::StoredToken;
pub use orders::{OrderFilter, PlaceOrderError, Replaced, StoredOrder, order_key, orders_in};
pub use owed::Owed;
pub use payments::{PaymentFilter, StartPaymentError, StoredPayment};
pub use refunds::{RefundFilter, ReserveRefundError, StoredRefund};
pub use reminders::WaitingOrder;
pub use sessions::SessionRead;
pub use throttle::{Attempts, Counted};
pub use users::{CreateUserError, NewUser, ProfileChanges};

use crate::error::{ApiError, BoxError};
use aws_sdk_dynamodb::{
    Client,
    error::{ProvideErrorMetadata, SdkError},
    types::{AttributeValue, KeysAndAttributes},
};
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

/// Attribute names shared by every item.
pub(crate) mod attr {
    pub const PK: &str = "pk";
    pub const SK: &str = "sk";
    pub const GSI1PK: &str = "gsi1pk";
    pub const GSI1SK: &str = "gsi1sk";
    pub const GSI2PK: &str = "gsi2pk";
    pub const GSI2SK: &str = "gsi2sk";
    pub const GSI3PK: &str = "gsi3pk";
    pub const GSI3SK: &str = "gsi3sk";
    pub const ENTITY: &str = "entity";
}

/// Failures of the table, sorted by what the caller should do about them.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The table did not answer in time, or throttled us: a retry later may work.
    #[error("table unavailable")]
    Unavailable(#[source] BoxError),
    /// A stored item could not be read back into its type.
    #[error("stored item is malformed")]
    Corrupt(#[source] BoxError),
    #[error("table request failed")]
    Other(#[source] BoxError),
}

impl DbError {
    /// A write this code would never ask for (a bug, not the table).
    pub(crate) fn internal(message: String) -> Self {
        DbError::Other(message.into())
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::Unavailable(_) => ApiError::Unavailable(Box::new(err)),
            _ => ApiError::Internal(Box::new(err)),
        }
    }
}

impl From<serde_dynamo::Error> for DbError {
    fn from(err: serde_dynamo::Error) -> Self {
        DbError::Corrupt(Box::new(err))
    }
}

/// Error codes that mean "try again later" rather than "this request is wrong".
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
    // The table itself is missing: a deployment fault, but to the caller the table is unavailable.
    "ResourceNotFoundException",
];

/// The error code of a service error, if the table answered with one.
pub(crate) fn error_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

impl<E, R> From<SdkError<E, R>> for DbError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    fn from(err: SdkError<E, R>) -> Self {
        let retryable = match &err {
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(_) => {
                error_code(&err).is_some_and(|code| RETRYABLE_CODES.contains(&code))
            }
            _ => false,
        };
        if retryable {
            DbError::Unavailable(Box::new(err))
        } else {
            DbError::Other(Box::new(err))
        }
    }
}

/// The table and the client that speaks to it; cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    client: Client,
    table: String,
}

impl Db {
    /// The table behind `client`, with every request counted by [`meter`].
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let client = Client::from_conf(
            client
                .config()
                .to_builder()
                .interceptor(meter::Meter)
                .build(),
        );
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table_name(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// One cheap strongly consistent read, for the health check.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key("HEALTH", "HEALTH")))
            .send()
            .await?;
        Ok(())
    }

    /// Runs writes as one transaction: all of them or none.
    pub(crate) async fn transact(
        &self,
        writes: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
    ) -> Result<(), TransactFailure> {
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await;
        let Err(err) = result else { return Ok(()) };
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            err.as_service_error()
        {
            let codes = cancelled
                .cancellation_reasons()
                .iter()
                .map(|reason| {
                    reason
                        .code()
                        .filter(|code| *code != "None")
                        .map(String::from)
                })
                .collect();
            return Err(TransactFailure::Cancelled(codes));
        }
        Err(TransactFailure::Db(err.into()))
    }

    /// [`Db::transact`] for writes to hot items (the capacity counters every order of a date
    /// moves): a transaction cancelled only because another one held an item at that moment
    /// (`TransactionConflict`, which the SDK does not retry) is tried again, a few times, after a
    /// jittered pause. Nothing of a cancelled transaction was written, so trying again is safe.
    pub(crate) async fn transact_contended(
        &self,
        writes: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
    ) -> Result<(), TransactFailure> {
        const ATTEMPTS: u32 = 8;
        for attempt in 1.. {
            match self.transact(writes.clone()).await {
                Err(failure) if failure.only_conflicts() && attempt < ATTEMPTS => {
                    let pause = (5u64 << attempt.min(6)) + rand::random_range(0..20);
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                }
                done => return done,
            }
        }
        unreachable!("the loop returns")
    }

    /// [`Db::transact`] for writes whose conditions say "only if nothing changed since we read":
    /// `false` if the transaction lost a race (a condition failed, or another transaction held an
    /// item), which is an answer, not an error.
    pub(crate) async fn transact_unless_raced(
        &self,
        writes: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
    ) -> Result<bool, DbError> {
        match self.transact(writes).await {
            Ok(()) => Ok(true),
            Err(failure) if failure.lost_race() => Ok(false),
            Err(failure) => Err(failure.into()),
        }
    }

    /// One item by key, strongly consistent.
    pub(crate) async fn get_consistent(&self, key: Item) -> Result<Option<Item>, DbError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item)
    }

    /// Reads up to 100 items in one round trip, strongly consistent. Keys the table leaves
    /// unprocessed (under throttling) are asked for again a few times before giving up as unavailable.
    pub(crate) async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, DbError> {
        let mut pending = keys;
        let mut found = Vec::new();
        for attempt in 0..4 {
            if pending.is_empty() {
                return Ok(found);
            }
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(|err| DbError::Other(Box::new(err)))?;
            let output = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await?;
            if let Some(mut responses) = output.responses {
                found.extend(responses.remove(&self.table).unwrap_or_default());
            }
            if let Some(mut unprocessed) = output.unprocessed_keys
                && let Some(rest) = unprocessed.remove(&self.table)
            {
                pending = rest.keys;
            }
        }
        if pending.is_empty() {
            Ok(found)
        } else {
            Err(DbError::Unavailable(
                "batch read left keys unprocessed".into(),
            ))
        }
    }
}

/// The smallest ULID of instant `at`: a sort key bound for items keyed by ULIDs (which sort by
/// the time they were made).
pub(crate) fn time_bound(at: time::OffsetDateTime) -> String {
    let millis = (at.unix_timestamp_nanos() / 1_000_000).max(0) as u64;
    ulid::Ulid::from_parts(millis, 0).to_string()
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([(attr::PK.to_string(), s(pk)), (attr::SK.to_string(), s(sk))])
}

/// The keys of the items `ids` name, each once (a batch read may name an item only once).
pub(crate) fn unique_keys<T: Ord>(ids: &[T], key: impl Fn(&T) -> Item) -> Vec<Item> {
    let mut unique: Vec<&T> = ids.iter().collect();
    unique.sort();
    unique.dedup();
    unique.into_iter().map(key).collect()
}

/// The `pk` and `sk` of an item, to match batch results to the keys that asked for them.
pub(crate) fn key_of(item: &Item) -> Option<(&str, &str)> {
    let pk = item.get(attr::PK)?.as_s().ok()?;
    let sk = item.get(attr::SK)?.as_s().ok()?;
    Some((pk, sk))
}

/// Serializes a record and adds its entity name, its primary key (the same function the lookups
/// use) and its index attributes.
pub(crate) fn to_item<T: serde::Serialize>(
    record: &T,
    entity: &str,
    primary_key: Item,
    index: impl IntoIterator<Item = (&'static str, String)>,
) -> Result<Item, DbError> {
    let mut item: Item = serde_dynamo::aws_sdk_dynamodb_1::to_item(record)?;
    item.insert(attr::ENTITY.to_string(), s(entity));
    item.extend(primary_key);
    for (name, value) in index {
        item.insert(name.to_string(), s(value));
    }
    Ok(item)
}

pub(crate) fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, DbError> {
    Ok(serde_dynamo::aws_sdk_dynamodb_1::from_item(item)?)
}

/// An item of the table read as the library's own type, chosen by its `entity` attribute.
#[derive(Debug, Clone)]
pub enum Decoded {
    Order(StoredOrder),
    Payment(StoredPayment),
    Refund(StoredRefund),
    Dish(StoredDish),
    /// A capacity counter and what it holds.
    Capacity(Counter, i64),
    /// Any other entity: users, sessions, carts and the rest.
    Other,
}

/// Reads one item as the API itself would, for tools that read the table wholesale (the load
/// tool's invariants): they then see orders and payments through the same types and the same
/// decoding as the handlers, and an item the API could not read is an error here too.
pub fn decode(item: Item) -> Result<Decoded, DbError> {
    let entity = item.get(attr::ENTITY).and_then(|v| v.as_s().ok()).cloned();
    match entity.as_deref() {
        Some(orders::ENTITY) => StoredOrder::from_item(item).map(Decoded::Order),
        Some(payments::ENTITY) => payments::stored(item).map(Decoded::Payment),
        Some(refunds::ENTITY) => refunds::stored(item).map(Decoded::Refund),
        Some(dishes::ENTITY) => dishes::stored(item).map(Decoded::Dish),
        Some(capacity::ENTITY) => capacity::decoded(&item)
            .map(|(counter, held)| Decoded::Capacity(counter, held))
            .ok_or_else(|| DbError::Corrupt("a capacity counter without its key or count".into())),
        _ => Ok(Decoded::Other),
    }
}

/// Whether a single-item write was refused by its condition expression.
pub(crate) fn condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    error_code(err) == Some("ConditionalCheckFailedException")
}

/// A conditional single-item write's result: `true` if it applied, `false` if its condition
/// refused it (someone else changed the item first).
pub(crate) fn applied<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, DbError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(err) if condition_failed(&err) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

/// Why a `TransactWriteItems` did not commit.
#[derive(Debug)]
pub(crate) enum TransactFailure {
    /// The table cancelled it; one reason code per write, in order (`None` where that write was fine).
    Cancelled(Vec<Option<String>>),
    Db(DbError),
}

impl TransactFailure {
    /// Whether write `index` failed its condition.
    pub(crate) fn condition_failed_at(&self, index: usize) -> bool {
        matches!(self, TransactFailure::Cancelled(codes)
            if codes.get(index).and_then(Option::as_deref) == Some("ConditionalCheckFailed"))
    }

    /// Whether it was cancelled only because another transaction held one of its items.
    pub(crate) fn only_conflicts(&self) -> bool {
        matches!(self, TransactFailure::Cancelled(codes)
            if codes.iter().any(|code| code.as_deref() == Some("TransactionConflict"))
                && !codes.iter().any(|code| code.as_deref() == Some("ConditionalCheckFailed")))
    }

    /// Whether the transaction lost a race: a condition failed, or another transaction held an item.
    pub(crate) fn lost_race(&self) -> bool {
        matches!(self, TransactFailure::Cancelled(codes) if codes.iter().any(|code| {
            matches!(code.as_deref(), Some("ConditionalCheckFailed" | "TransactionConflict"))
        }))
    }
}

impl From<TransactFailure> for DbError {
    fn from(failure: TransactFailure) -> Self {
        match failure {
            TransactFailure::Db(err) => err,
            TransactFailure::Cancelled(codes) => {
                let text = format!("transaction cancelled: {codes:?}");
                let busy = codes.iter().any(|c| {
                    matches!(
                        c.as_deref(),
                        Some("ThrottlingError" | "TransactionConflict")
                    )
                });
                if busy {
                    DbError::Unavailable(text.into())
                } else {
                    DbError::Other(text.into())
                }
            }
        }
    }
}

/// The `version` attribute that guards optimistic writes (0 for an item written before it had one).
pub(crate) fn version_of(item: &Item) -> u64 {
    item.get("version")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A request builder's error (a missing required field) as a table error.
pub(crate) fn built<T, E: std::error::Error + Send + Sync + 'static>(
    result: Result<T, E>,
) -> Result<T, DbError> {
    result.map_err(|e| DbError::Other(Box::new(e)))
}

/// Whether an item with a TTL is still live at `now` (epoch seconds).
pub(crate) fn is_live(expires_at: i64, now: i64) -> bool {
    now < expires_at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_reads_orders_and_payments_by_their_entity_and_nothing_else() {
        let order = testing::order();
        let Decoded::Order(read) = decode(order.to_item(4).unwrap()).unwrap() else {
            panic!("an order item decodes as an order");
        };
        assert_eq!((read.order, read.version), (order, 4));
        let payment = testing::payment();
        let Decoded::Payment(read) = decode(payment.to_item(2).unwrap()).unwrap() else {
            panic!("a payment item decodes as a payment");
        };
        assert_eq!((read.payment, read.version), (payment, 2));
        let session = testing::session().to_item().unwrap();
        assert!(matches!(decode(session), Ok(Decoded::Other)));
    }

    #[test]
    fn decode_refuses_an_order_the_api_could_not_read() {
        let mut item = testing::order().to_item(1).unwrap();
        item.remove("total");
        assert!(matches!(decode(item), Err(DbError::Corrupt(_))));
    }
}
