//! Login throttling per email: failures counted in a fixed window; at the limit, logins for that
//! email are refused until the window ends. The item expires with its window.

use super::{Db, DbError, Item, attr, from_item, is_live, key, key_of, n, s};
use crate::domain::{Email, UserId};
use aws_sdk_dynamodb::types::ReturnValue;
use serde::Deserialize;
use std::time::Duration;
use time::OffsetDateTime;

const ENTITY: &str = "login_throttle";

fn throttle_key(email: &Email) -> Item {
    key(format!("LOGIN#{email}"), "THROTTLE")
}

/// A new window's record: `failures` so far, gone at `expires_at`. (A failure inside a window
/// updates the same item, its `entity` set by the update expression to the same [`ENTITY`].)
fn throttle_item(email: &Email, failures: u32, expires_at: i64) -> Item {
    let mut item = throttle_key(email);
    item.insert("failures".into(), n(failures));
    item.insert("expires_at".into(), n(expires_at));
    item.insert(attr::ENTITY.into(), s(ENTITY));
    item
}

#[derive(Debug, Clone, Deserialize)]
pub struct LoginThrottle {
    pub failures: u32,
    pub expires_at: i64,
}

impl LoginThrottle {
    /// Seconds until logins are allowed again, if the email is locked out now.
    pub fn locked_for(&self, max_failures: u32, now: OffsetDateTime) -> Option<u64> {
        let now = now.unix_timestamp();
        (is_live(self.expires_at, now) && self.failures >= max_failures)
            .then(|| (self.expires_at - now).max(1) as u64)
    }
}

impl Db {
    /// What a login needs to know before checking a password, in one round trip: whether the email
    /// is locked out, and which user (if any) holds it.
    pub async fn login_lookup(
        &self,
        email: &Email,
        now: OffsetDateTime,
    ) -> Result<(Option<LoginThrottle>, Option<UserId>), DbError> {
        let throttle_key = throttle_key(email);
        let items = self
            .batch_get(vec![throttle_key.clone(), Db::email_claim_key(email)])
            .await?;
        let (mut throttle, mut user) = (None, None);
        for item in items {
            if key_of(&item) == key_of(&throttle_key) {
                let record: LoginThrottle = from_item(item)?;
                throttle = Some(record).filter(|t| is_live(t.expires_at, now.unix_timestamp()));
            } else {
                user = super::users::claimed_user(&item);
            }
        }
        Ok((throttle, user))
    }

    /// The email's live throttle record, if any.
    pub async fn login_throttle(
        &self,
        email: &Email,
        now: OffsetDateTime,
    ) -> Result<Option<LoginThrottle>, DbError> {
        let item = self.get_consistent(throttle_key(email)).await?;
        let throttle: Option<LoginThrottle> = item.map(from_item).transpose()?;
        Ok(throttle.filter(|t| is_live(t.expires_at, now.unix_timestamp())))
    }

    /// Counts one failed login. The first failure opens a window of `window`; an expired record
    /// (which the table may not have deleted yet) starts a new one.
    pub async fn record_login_failure(
        &self,
        email: &Email,
        window: Duration,
        now: OffsetDateTime,
    ) -> Result<LoginThrottle, DbError> {
        let window_end = now.unix_timestamp() + window.as_secs() as i64;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(throttle_key(email)))
            .update_expression(
                "SET failures = if_not_exists(failures, :zero) + :one, \
                 expires_at = if_not_exists(expires_at, :end), entity = :entity",
            )
            .condition_expression("attribute_not_exists(pk) OR expires_at > :now")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":end", n(window_end))
            .expression_attribute_values(":now", n(now.unix_timestamp()))
            .expression_attribute_values(":entity", s(ENTITY))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => from_item(output.attributes.unwrap_or_default()),
            Err(err) if super::condition_failed(&err) => {
                // The old window is over: start a new one with this failure.
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(throttle_item(email, 1, window_end)))
                    .send()
                    .await?;
                Ok(LoginThrottle {
                    failures: 1,
                    expires_at: window_end,
                })
            }
            Err(err) => Err(err.into()),
        }
    }

    pub async fn clear_login_failures(&self, email: &Email) -> Result<(), DbError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(throttle_key(email)))
            .send()
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{self, layout};

    #[test]
    fn a_login_throttle_is_keyed_by_the_email() {
        let item = throttle_item(&testing::email(), 1, 1_800_000_000);
        assert_eq!(
            layout(&item),
            [
                ("entity", "login_throttle"),
                ("pk", "LOGIN#ada@example.com"),
                ("sk", "THROTTLE"),
            ]
        );
        assert_eq!(item["expires_at"].as_n().unwrap(), "1800000000");
    }

    #[test]
    fn an_email_is_locked_only_at_the_limit_and_only_inside_its_window() {
        let now = crate::now();
        let t = |failures, expires_at| LoginThrottle {
            failures,
            expires_at,
        };
        let later = now.unix_timestamp() + 600;
        assert_eq!(t(4, later).locked_for(5, now), None);
        assert_eq!(t(5, later).locked_for(5, now), Some(600));
        assert_eq!(t(9, now.unix_timestamp() - 1).locked_for(5, now), None);
    }
}
