//! Sessions: one per sign-in, holding the hash of the current refresh token. Deleting a session
//! revokes its access and refresh tokens at once, because every request checks it.

use super::{Db, DbError, Item, from_item, key, key_of, n, s, users};
use crate::domain::{Session, User};
use crate::{
    caller::{AuthUser, Credentials},
    domain::{SessionId, UserId},
    error::ApiError,
};

use std::time::Duration;
use time::OffsetDateTime;

const ENTITY: &str = "session";
const SK_PREFIX: &str = "SESSION#";

/// A session sorts under its user's partition, so all of a user's sessions are one key prefix.
fn session_sk(session: &SessionId) -> String {
    format!("{SK_PREFIX}{session}")
}

fn session_key(user: &UserId, session: &SessionId) -> Item {
    key(users::user_pk(user), session_sk(session))
}

impl Session {
    pub(crate) fn key(&self) -> Item {
        session_key(&self.user_id, &self.session_id)
    }

    pub(crate) fn to_item(&self) -> Result<Item, DbError> {
        // No index: a session is only ever read by its key, or with its user's other sessions.
        let key = session_key(&self.user_id, &self.session_id);
        super::to_item(self, ENTITY, key, [])
    }
}

/// What one round trip tells about an authenticated request: its session and its user.
#[derive(Debug, Default)]
pub(crate) struct SessionCheck {
    session: Option<Session>,
    user: Option<User>,
}

/// `T`, read in the same round trip as the session check of the request that asked for it. The data
/// comes out only through [`SessionRead::authorise`], together with the authenticated caller, so no
/// code can use it without the check.
#[must_use = "the data is only had through authorise"]
pub struct SessionRead<T> {
    check: SessionCheck,
    data: T,
}

impl<T> SessionRead<T> {
    pub(crate) fn new(check: SessionCheck, data: T) -> Self {
        Self { check, data }
    }

    /// The caller and the data, or a 401 if the session is gone or the user deactivated.
    pub fn authorise(self, credentials: Credentials) -> Result<(AuthUser, T), ApiError> {
        let caller = AuthUser::checked(self.check.session, self.check.user, credentials)?;
        Ok((caller, self.data))
    }
}

impl Db {
    pub async fn put_session(&self, session: &Session) -> Result<(), DbError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(session.to_item()?))
            .send()
            .await?;
        Ok(())
    }

    /// Stores a password sign-in's new session and clears the attempts counted against its email,
    /// in one write.
    pub async fn put_session_clearing(
        &self,
        session: &Session,
        email: &crate::domain::Email,
    ) -> Result<(), DbError> {
        let writes = vec![
            aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .put(super::built(
                    aws_sdk_dynamodb::types::Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(session.to_item()?))
                        .build(),
                )?)
                .build(),
            super::throttle::clear_in(&self.table, super::Counted::SignIn(email))?,
        ];
        self.transact(writes).await.map_err(DbError::from)
    }

    /// Reads a session and its user in one strongly consistent round trip.
    pub async fn session_and_user(
        &self,
        credentials: &Credentials,
    ) -> Result<SessionRead<()>, DbError> {
        let (check, _) = self.session_user_and(credentials, Vec::new()).await?;
        Ok(SessionRead::new(check, ()))
    }

    /// A session and its user, by the ids a refresh token names (it carries no access token to
    /// authorise with: the refresh workflow checks the token's hash against the session itself).
    pub async fn session_for_refresh(
        &self,
        user: &UserId,
        session: &SessionId,
    ) -> Result<(Option<Session>, Option<User>), DbError> {
        let (check, _) = self.read_session(user, session, Vec::new()).await?;
        Ok((check.session, check.user))
    }

    /// Reads a session, its user and the items at `extra` in one strongly consistent round trip, so
    /// that a request's authentication costs no round trip of its own.
    pub(crate) async fn session_user_and(
        &self,
        credentials: &Credentials,
        extra: Vec<Item>,
    ) -> Result<(SessionCheck, Vec<Item>), DbError> {
        self.read_session(&credentials.user_id, &credentials.session_id, extra)
            .await
    }

    async fn read_session(
        &self,
        user: &UserId,
        session: &SessionId,
        extra: Vec<Item>,
    ) -> Result<(SessionCheck, Vec<Item>), DbError> {
        let session_key = session_key(user, session);
        let user_key = users::user_key(user);
        let mut keys = vec![session_key.clone(), user_key.clone()];
        keys.extend(extra);
        let mut check = SessionCheck::default();
        let mut others = Vec::new();
        for item in self.batch_get(keys).await? {
            if key_of(&item) == key_of(&user_key) {
                check.user = Some(from_item(item)?);
            } else if key_of(&item) == key_of(&session_key) {
                check.session = Some(from_item(item)?);
            } else {
                others.push(item);
            }
        }
        Ok((check, others))
    }

    /// Replaces the refresh hash, only if it is still the one `session` was read with and the
    /// session is still live — so of two concurrent refreshes with one token, exactly one wins —
    /// and remembers the replaced hash, so that the replaced token coming back is known for a
    /// copy. `None` if it lost.
    pub async fn rotate_session(
        &self,
        session: &Session,
        new_hash: &str,
        refresh_ttl: Duration,
        now: OffsetDateTime,
    ) -> Result<Option<Session>, DbError> {
        let expires =
            (now.unix_timestamp() + refresh_ttl.as_secs() as i64).min(session.absolute_expires_at);
        let remembered: Vec<_> = std::iter::once(&session.refresh_hash)
            .chain(&session.previous_hashes)
            .take(Session::REMEMBERED_ROTATIONS)
            .map(|hash| s(hash.as_str()))
            .collect();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(session.key()))
            .update_expression(
                "SET refresh_hash = :new, previous_hashes = :previous, expires_at = :expires",
            )
            .condition_expression("refresh_hash = :old AND expires_at > :now")
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":old", s(&session.refresh_hash))
            .expression_attribute_values(
                ":previous",
                aws_sdk_dynamodb::types::AttributeValue::L(remembered),
            )
            .expression_attribute_values(":expires", n(expires))
            .expression_attribute_values(":now", n(now.unix_timestamp()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => output.attributes.map(from_item).transpose(),
            Err(err) if super::condition_failed(&err) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    pub async fn delete_session(&self, user: &UserId, session: &SessionId) -> Result<(), DbError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(session_key(user, session)))
            .send()
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::db::testing::{self, layout};

    #[test]
    fn a_session_sorts_under_its_user_and_is_in_no_index() {
        let item = testing::session().to_item().unwrap();
        let user = format!("USER#{}", testing::USER);
        let session = format!("SESSION#{}", testing::SESSION);
        assert_eq!(
            layout(&item),
            [
                ("entity", "session"),
                ("pk", user.as_str()),
                ("sk", session.as_str()),
            ]
        );
        // The table's TTL attribute.
        assert!(item["expires_at"].as_n().is_ok());
    }
}
