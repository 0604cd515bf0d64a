//! Idempotency records: the first response to a request made with an `Idempotency-Key`, kept for
//! 24 hours so a retry gets the same answer and creates nothing new.
//!
//! The record is written in the same transaction as the thing the request creates, on the condition
//! that no live record holds the key. Of two concurrent requests with one key, one commits; the other
//! finds the record and replays it.

use super::{Db, DbError, Item, attr, from_item, is_live, key, n, s, users};
use crate::domain::{IdempotencyKey, UserId};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;
use time::OffsetDateTime;

/// How long a key is remembered.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 3600);

pub(super) fn record_key(user: &UserId, scope: &str, key: &IdempotencyKey) -> Item {
    let digest = Sha256::digest(format!("{scope}\n{}", key.as_str()).as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    key_of_user(user, &hex)
}

fn key_of_user(user: &UserId, hash: &str) -> Item {
    key(users::user_pk(user), format!("IDEMP#{hash}"))
}

const ENTITY: &str = "idempotency";

/// The record of `request`'s first response (`status`, `body`), live for [`IDEMPOTENCY_WINDOW`]
/// from `now`. Its key sorts under the user's partition: a key is only ever one user's.
fn record_item(request: &IdempotentRequest, status: u16, body: &str, now: OffsetDateTime) -> Item {
    let mut item = record_key(&request.user, request.scope, &request.key);
    item.insert(attr::ENTITY.into(), s(ENTITY));
    item.insert("fingerprint".into(), s(&request.fingerprint));
    item.insert("status".into(), n(status));
    item.insert("body".into(), s(body));
    item.insert(
        "expires_at".into(),
        n(now.unix_timestamp() + IDEMPOTENCY_WINDOW.as_secs() as i64),
    );
    item
}

/// A stored first response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// A hash of the request the key was first used with.
    pub fingerprint: String,
    pub status: u16,
    pub body: String,
    pub expires_at: i64,
}

/// What a request with a key is: who sent it to which route, and a hash of what it asked.
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    pub user: UserId,
    /// The route, so one key on two routes means two things.
    pub scope: &'static str,
    pub key: IdempotencyKey,
    pub fingerprint: String,
}

impl IdempotentRequest {
    /// `request` is the parsed request, serialized: the same JSON asks the same thing.
    pub fn new(
        user: UserId,
        scope: &'static str,
        key: IdempotencyKey,
        request: &impl Serialize,
    ) -> Self {
        let json = serde_json::to_vec(request).unwrap_or_default();
        let fingerprint = Sha256::digest(&json)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self {
            user,
            scope,
            key,
            fingerprint,
        }
    }
}

impl Db {
    /// The live record for this key, if any.
    pub async fn idempotency_record(
        &self,
        request: &IdempotentRequest,
        now: OffsetDateTime,
    ) -> Result<Option<IdempotencyRecord>, DbError> {
        let item = self
            .get_consistent(record_key(&request.user, request.scope, &request.key))
            .await?;
        let record: Option<IdempotencyRecord> = item.map(from_item).transpose()?;
        Ok(record.filter(|r| is_live(r.expires_at, now.unix_timestamp())))
    }

    /// The write that stores a response, for the transaction that creates what it describes.
    pub(crate) fn idempotency_put(
        &self,
        request: &IdempotentRequest,
        status: u16,
        body: &str,
        now: OffsetDateTime,
    ) -> Result<TransactWriteItem, DbError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(record_item(request, status, body, now)))
            // An expired record (which the table may not have deleted yet) frees its key.
            .condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
            .expression_attribute_values(":now", n(now.unix_timestamp()))
            .build()
            .map_err(|e| DbError::Other(Box::new(e)))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The write that replaces a response this request stored itself earlier in its work (a
    /// refund's answer once Paystack has given its id), for the transaction that completes it.
    pub(crate) fn idempotency_replace(
        &self,
        request: &IdempotentRequest,
        status: u16,
        body: &str,
        now: OffsetDateTime,
    ) -> Result<TransactWriteItem, DbError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(record_item(request, status, body, now)))
            .build()
            .map_err(|e| DbError::Other(Box::new(e)))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The write that frees a key whose work was undone (Paystack refused the refund it stored),
    /// so the same request may be tried again.
    pub(crate) fn idempotency_delete(
        &self,
        request: &IdempotentRequest,
    ) -> Result<TransactWriteItem, DbError> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .set_key(Some(record_key(&request.user, request.scope, &request.key)))
            .build()
            .map_err(|e| DbError::Other(Box::new(e)))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{self, layout};

    #[test]
    fn a_record_sorts_under_its_user_by_a_hash_of_route_and_key() {
        let key = IdempotencyKey::parse("key-1").unwrap();
        let request = IdempotentRequest::new(testing::user_id(), "POST /orders", key, &());
        let item = record_item(&request, 201, "{}", testing::at());
        let user = format!("USER#{}", testing::USER);
        assert_eq!(
            layout(&item),
            [
                ("entity", "idempotency"),
                ("pk", user.as_str()),
                // SHA-256 of "POST /orders\nkey-1".
                (
                    "sk",
                    "IDEMP#93c181d68f3aba044fd93a572d816471b52c4be2a79b15d8bbce5477e6e53666"
                ),
            ]
        );
        let expires = testing::at().unix_timestamp() + 24 * 3600;
        assert_eq!(item["expires_at"].as_n().unwrap(), &expires.to_string());
    }
}
