//! The one-time tokens of email links (see [`crate::one_time`]), stored hashed under their user:
//! one item per user and purpose, so a new token replaces the older and a link is read together
//! with its user in one round trip. Using a token deletes it in the same transaction as the change
//! it makes, conditioned on its hash and its expiry, so it works once.

use super::{Db, DbError, Item, built, from_item, is_live, key, key_of, n, s, throttle, users};
use crate::domain::{Email, User, UserId};
use crate::one_time::{LinkToken, Purpose};
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use time::OffsetDateTime;

const ENTITY: &str = "one_time_token";

fn token_key(user: &UserId, purpose: Purpose) -> Item {
    key(users::user_pk(user), format!("TOKEN#{}", purpose.as_str()))
}

/// A token as stored: its hash, where it was sent and when, and when it stops working.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredToken {
    pub user_id: UserId,
    pub token_hash: String,
    /// The address the link went to.
    pub email: Email,
    /// When the email went out (epoch seconds): a resend waits a while after it.
    pub sent_at: i64,
    /// When the link stops working (epoch seconds; the table's TTL attribute).
    pub expires_at: i64,
}

impl StoredToken {
    /// The stored form of `token`, sent to `email` now, for `purpose`.
    pub fn new(token: &LinkToken, email: &Email, purpose: Purpose, now: OffsetDateTime) -> Self {
        Self {
            user_id: token.user_id.clone(),
            token_hash: token.hash(),
            email: email.clone(),
            sent_at: now.unix_timestamp(),
            expires_at: now.unix_timestamp() + purpose.lifetime().as_secs() as i64,
        }
    }

    /// Whether `token` is this one and still works at `now`.
    pub fn accepts(&self, token: &LinkToken, now: OffsetDateTime) -> bool {
        self.token_hash == token.hash() && is_live(self.expires_at, now.unix_timestamp())
    }

    pub(crate) fn to_item(&self, purpose: Purpose) -> Result<Item, DbError> {
        super::to_item(self, ENTITY, token_key(&self.user_id, purpose), [])
    }
}

/// Deleting `token`'s item as one write of a transaction, only while it is the stored token and
/// unexpired: so a second use, or a use after a newer link replaced it, changes nothing.
fn use_up(
    table: &str,
    token: &LinkToken,
    purpose: Purpose,
    now: OffsetDateTime,
) -> Result<TransactWriteItem, DbError> {
    Ok(TransactWriteItem::builder()
        .delete(built(
            Delete::builder()
                .table_name(table)
                .set_key(Some(token_key(&token.user_id, purpose)))
                .condition_expression("token_hash = :hash AND expires_at > :now")
                .expression_attribute_values(":hash", s(token.hash()))
                .expression_attribute_values(":now", n(now.unix_timestamp()))
                .build(),
        )?)
        .build())
}

impl Db {
    /// Stores a new token for `purpose`, replacing the older one. With `cooldown`, refuses (and
    /// answers the seconds left) while the older one was sent less than `cooldown` ago — one
    /// conditional write, so two resends racing send one email.
    pub async fn store_token(
        &self,
        stored: &StoredToken,
        purpose: Purpose,
        cooldown: Option<Duration>,
    ) -> Result<Result<(), u64>, DbError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(stored.to_item(purpose)?));
        if let Some(cooldown) = cooldown {
            put = put
                .condition_expression("attribute_not_exists(pk) OR sent_at <= :cutoff")
                .expression_attribute_values(
                    ":cutoff",
                    n(stored.sent_at - cooldown.as_secs() as i64),
                )
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                );
        }
        match put.send().await {
            Ok(_) => Ok(Ok(())),
            Err(err) if super::condition_failed(&err) => {
                let last_sent = err
                    .as_service_error()
                    .and_then(|e| match e {
                        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => c.item(),
                        _ => None,
                    })
                    .and_then(|item| item.get("sent_at"))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(stored.sent_at);
                let cooldown = cooldown.map_or(0, |c| c.as_secs() as i64);
                Ok(Err((last_sent + cooldown - stored.sent_at).max(1) as u64))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Takes back a token whose email could not be sent, if it is still the stored one, so that the
    /// cooldown does not hold back the retry.
    pub async fn withdraw_token(
        &self,
        stored: &StoredToken,
        purpose: Purpose,
    ) -> Result<(), DbError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(token_key(&stored.user_id, purpose)))
            .condition_expression("token_hash = :hash")
            .expression_attribute_values(":hash", s(&stored.token_hash))
            .send()
            .await;
        super::applied(result).map(|_| ())
    }

    /// The user a link names and their stored token of `purpose`, in one round trip.
    pub async fn user_and_token(
        &self,
        user: &UserId,
        purpose: Purpose,
    ) -> Result<(Option<User>, Option<StoredToken>), DbError> {
        let token_key = token_key(user, purpose);
        let (mut found_user, mut found_token) = (None, None);
        for item in self
            .batch_get(vec![users::user_key(user), token_key.clone()])
            .await?
        {
            if key_of(&item) == key_of(&token_key) {
                found_token = Some(from_item(item)?);
            } else {
                found_user = Some(from_item(item)?);
            }
        }
        Ok((found_user, found_token))
    }

    /// Uses a verification token: the email is verified and the token gone, together. `false` if
    /// the token was used, replaced or expired in the meantime.
    pub async fn confirm_email(
        &self,
        token: &LinkToken,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let mut verified = users::Update::default();
        verified.set("email_verified", AttributeValue::Bool(true));
        let writes = vec![
            use_up(&self.table, token, Purpose::VerifyEmail, now)?,
            verified.of_user_in(&self.table, &token.user_id, now)?,
        ];
        self.transact_unless_raced(writes).await
    }

    /// Uses a reset token: the new password is set, the email verified (the link reached it), every
    /// session ended (the credential version moves on), the email's sign-in lockout lifted and the
    /// token gone, all together. `false` if the token was used, replaced or expired meanwhile.
    pub async fn reset_password(
        &self,
        token: &LinkToken,
        email: &Email,
        password_hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let mut reset = users::Update::default();
        reset.set("password_hash", s(password_hash));
        reset.set("email_verified", AttributeValue::Bool(true));
        reset.revoke_sessions();
        let writes = vec![
            use_up(&self.table, token, Purpose::ResetPassword, now)?,
            reset.of_user_in(&self.table, &token.user_id, now)?,
            throttle::clear_in(&self.table, throttle::Counted::SignIn(email))?,
        ];
        self.transact_unless_raced(writes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{self, layout};

    #[test]
    fn a_token_sorts_under_its_user_one_per_purpose() {
        let token = LinkToken::generate(testing::user_id());
        let stored = StoredToken::new(
            &token,
            &testing::email(),
            Purpose::ResetPassword,
            testing::at(),
        );
        let item = stored.to_item(Purpose::ResetPassword).unwrap();
        let user = format!("USER#{}", testing::USER);
        assert_eq!(
            layout(&item),
            [
                ("entity", "one_time_token"),
                ("pk", user.as_str()),
                ("sk", "TOKEN#reset_password"),
            ]
        );
        // The table's TTL attribute, half an hour on.
        assert_eq!(
            item["expires_at"].as_n().unwrap().as_str(),
            (testing::at().unix_timestamp() + 1800).to_string().as_str()
        );
        assert_eq!(item["token_hash"].as_s().unwrap(), &token.hash());
        let verify = StoredToken::new(
            &token,
            &testing::email(),
            Purpose::VerifyEmail,
            testing::at(),
        );
        assert_eq!(
            verify.to_item(Purpose::VerifyEmail).unwrap()["sk"]
                .as_s()
                .unwrap(),
            "TOKEN#verify_email"
        );
    }

    #[test]
    fn a_stored_token_accepts_only_its_own_token_and_only_in_time() {
        let token = LinkToken::generate(testing::user_id());
        let stored = StoredToken::new(
            &token,
            &testing::email(),
            Purpose::ResetPassword,
            testing::at(),
        );
        let before_end = testing::at() + time::Duration::minutes(29);
        assert!(stored.accepts(&token, before_end));
        assert!(!stored.accepts(&LinkToken::generate(testing::user_id()), before_end));
        assert!(!stored.accepts(&token, testing::at() + time::Duration::minutes(30)));
    }
}
