//! Attempts counted per email in a fixed window: sign-ins (every attempt counts before its password
//! is checked, and a success clears the count), and reset emails sent. Each count is one atomic
//! `ADD` that answers the new total, so however many requests race, each sees a different number
//! and at most the limit of them go ahead. The item expires with its window.

use super::{Db, DbError, Item, attr, built, from_item, key, n, s};
use crate::domain::Email;
use aws_sdk_dynamodb::types::{Delete, ReturnValue, TransactWriteItem};
use serde::Deserialize;
use std::time::Duration;
use time::OffsetDateTime;

/// What a window counts, and so its key and entity.
#[derive(Debug, Clone, Copy)]
pub enum Counted<'a> {
    /// Sign-in attempts (password checks) for an email.
    SignIn(&'a Email),
    /// Password-reset emails sent to an email.
    ResetEmail(&'a Email),
}

impl Counted<'_> {
    fn key(self) -> Item {
        match self {
            Counted::SignIn(email) => key(format!("LOGIN#{email}"), "THROTTLE"),
            Counted::ResetEmail(email) => key(format!("RESET#{email}"), "LIMIT"),
        }
    }

    fn entity(self) -> &'static str {
        match self {
            Counted::SignIn(_) => "login_throttle",
            Counted::ResetEmail(_) => "reset_email_limit",
        }
    }
}

/// A new window's record: one attempt so far, gone at `expires_at`.
fn window_item(counted: Counted<'_>, expires_at: i64) -> Item {
    let mut item = counted.key();
    item.insert("attempts".into(), n(1));
    item.insert("expires_at".into(), n(expires_at));
    item.insert(attr::ENTITY.into(), s(counted.entity()));
    item
}

/// A window as the count that just went in left it.
#[derive(Debug, Clone, Deserialize)]
pub struct Attempts {
    /// Attempts in the window, this one included.
    pub attempts: u32,
    pub expires_at: i64,
}

impl Attempts {
    /// Seconds until the window ends, if this attempt is over `limit` and must not go ahead.
    pub fn over(&self, limit: u32, now: OffsetDateTime) -> Option<u64> {
        (self.attempts > limit).then(|| (self.expires_at - now.unix_timestamp()).max(1) as u64)
    }
}

impl Db {
    /// Counts one attempt, atomically, and answers the window with it counted. The first attempt
    /// opens a window of `window`; a window that is over (which the table may not have deleted
    /// yet) is replaced by a new one holding this attempt.
    pub async fn count_attempt(
        &self,
        counted: Counted<'_>,
        window: Duration,
        now: OffsetDateTime,
    ) -> Result<Attempts, DbError> {
        let window_end = now.unix_timestamp() + window.as_secs() as i64;
        // Losing a try means another request replaced an expired window between our two writes;
        // the window it made is live, so the next try counts in it.
        for _ in 0..3 {
            let counted_in = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(counted.key()))
                .update_expression(
                    "ADD attempts :one SET expires_at = if_not_exists(expires_at, :end), entity = :entity",
                )
                .condition_expression("attribute_not_exists(pk) OR expires_at > :now")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":end", n(window_end))
                .expression_attribute_values(":now", n(now.unix_timestamp()))
                .expression_attribute_values(":entity", s(counted.entity()))
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            match counted_in {
                Ok(output) => return from_item(output.attributes.unwrap_or_default()),
                Err(err) if super::condition_failed(&err) => {}
                Err(err) => return Err(err.into()),
            }
            // The window is over: start a new one, unless another request just did.
            let replaced = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(window_item(counted, window_end)))
                .condition_expression("expires_at <= :now")
                .expression_attribute_values(":now", n(now.unix_timestamp()))
                .send()
                .await;
            if super::applied(replaced)? {
                return Ok(Attempts {
                    attempts: 1,
                    expires_at: window_end,
                });
            }
        }
        Err(DbError::Unavailable(
            "the attempt counter kept changing under us".into(),
        ))
    }
}

/// Clearing `counted`'s window as one write of a transaction (a sign-in's session, a new password).
pub(crate) fn clear_in(table: &str, counted: Counted<'_>) -> Result<TransactWriteItem, DbError> {
    Ok(TransactWriteItem::builder()
        .delete(built(
            Delete::builder()
                .table_name(table)
                .set_key(Some(counted.key()))
                .build(),
        )?)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{self, layout};

    #[test]
    fn a_sign_in_window_is_keyed_by_the_email() {
        let email = testing::email();
        let item = window_item(Counted::SignIn(&email), 1_800_000_000);
        assert_eq!(
            layout(&item),
            [
                ("entity", "login_throttle"),
                ("pk", "LOGIN#ada@example.com"),
                ("sk", "THROTTLE"),
            ]
        );
        assert_eq!(item["expires_at"].as_n().unwrap(), "1800000000");
        assert_eq!(item["attempts"].as_n().unwrap(), "1");
    }

    #[test]
    fn a_reset_email_window_is_keyed_by_the_email_apart_from_sign_ins() {
        let email = testing::email();
        let item = window_item(Counted::ResetEmail(&email), 1_800_000_000);
        assert_eq!(
            layout(&item),
            [
                ("entity", "reset_email_limit"),
                ("pk", "RESET#ada@example.com"),
                ("sk", "LIMIT"),
            ]
        );
    }

    #[test]
    fn an_attempt_is_refused_only_past_the_limit() {
        let now = crate::now();
        let later = now.unix_timestamp() + 600;
        let w = |attempts| Attempts {
            attempts,
            expires_at: later,
        };
        assert_eq!(w(5).over(5, now), None);
        assert_eq!(w(6).over(5, now), Some(600));
        assert_eq!(
            Attempts {
                attempts: 9,
                expires_at: now.unix_timestamp()
            }
            .over(5, now),
            Some(1)
        );
    }
}
