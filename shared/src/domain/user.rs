//! A user (customer or staff) as stored and as shown, and a signed-in session.

use super::{Address, Email, Gender, PersonName, PhoneNumber, Role, SessionId, UserId};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use time::OffsetDateTime;

/// A user as stored. `password_hash` and `google_sub` never leave the server: responses use
/// [`UserProfile`]. Names and the address read back as they were written (see
/// [`super::StoredText`]), so do the profile's.
#[derive(Clone, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::stored_opt"
    )]
    pub first_name: Option<PersonName>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::stored_opt"
    )]
    pub last_name: Option<PersonName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PhoneNumber>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::stored_opt"
    )]
    pub address: Option<Address>,
    #[serde(default)]
    pub gender: Gender,
    pub role: Role,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google_sub: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// The API's User object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserProfile {
    pub id: UserId,
    pub email: Option<Email>,
    #[serde(default, deserialize_with = "super::stored_opt")]
    pub first_name: Option<PersonName>,
    #[serde(default, deserialize_with = "super::stored_opt")]
    pub last_name: Option<PersonName>,
    pub phone: Option<PhoneNumber>,
    #[serde(default, deserialize_with = "super::stored_opt")]
    pub address: Option<Address>,
    pub gender: Gender,
    pub role: Role,
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl User {
    pub fn profile(&self) -> UserProfile {
        UserProfile {
            id: self.id.clone(),
            email: self.email.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            phone: self.phone.clone(),
            address: self.address.clone(),
            gender: self.gender,
            role: self.role,
            active: self.active,
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub user_id: UserId,
    pub session_id: SessionId,
    /// SHA-256 (hex) of the current refresh token's secret.
    pub refresh_hash: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the session dies unless refreshed first (epoch seconds; the table's TTL attribute).
    pub expires_at: i64,
    /// The latest `expires_at` any refresh may reach (epoch seconds).
    pub absolute_expires_at: i64,
}

impl Session {
    /// A new session whose refresh window starts now.
    pub fn start(
        user_id: UserId,
        session_id: SessionId,
        refresh_hash: String,
        now: OffsetDateTime,
        refresh_ttl: Duration,
        max_age: Duration,
    ) -> Self {
        let absolute = now.unix_timestamp() + max_age.as_secs() as i64;
        Self {
            user_id,
            session_id,
            refresh_hash,
            created_at: now,
            expires_at: (now.unix_timestamp() + refresh_ttl.as_secs() as i64).min(absolute),
            absolute_expires_at: absolute,
        }
    }

    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        now.unix_timestamp() < self.expires_at
    }
}
