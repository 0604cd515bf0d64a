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
    /// Whether the holder of `email` has shown they read it (a verification or reset link, or
    /// Google's word). Accounts stored before the flag existed read as unverified unless Google
    /// linked them or they have no email: see [`User::has_verified_email`].
    #[serde(default)]
    pub email_verified: bool,
    /// Bumped by every change that must end the account's sessions (a password set, a
    /// deactivation, a role change); a session made under an older version is dead.
    #[serde(default)]
    pub credential_version: u64,
    /// The customer asked for no SMS about their orders (`PATCH /me`; staff for a phone-only
    /// customer). Carried in each order event, so the notifier need not read the table. Users
    /// stored before the flag existed read as not opted out.
    #[serde(default)]
    pub sms_opt_out: bool,
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
    pub email_verified: bool,
    #[serde(default)]
    pub sms_opt_out: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl User {
    /// Whether the account's email is proven: by a link we sent it, or by Google (a linked account).
    /// A phone-only customer has no email to prove and counts as verified.
    pub fn has_verified_email(&self) -> bool {
        self.email_verified || self.email.is_none() || self.google_sub.is_some()
    }

    /// A customer staff recorded with a phone and no email: one who cannot sign in to set their own
    /// preferences, so staff set them (`sms_opt_out`) on their word.
    pub fn is_phone_only(&self) -> bool {
        self.email.is_none()
    }

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
            email_verified: self.has_verified_email(),
            sms_opt_out: self.sms_opt_out,
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
    /// The hashes of the refresh tokens this session issued and rotation replaced, newest first
    /// (at most [`Session::REMEMBERED_ROTATIONS`]): one of them coming back is a stolen copy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_hashes: Vec<String>,
    /// The user's [`User::credential_version`] when the session began; the session lives only
    /// while the two agree.
    #[serde(default)]
    pub credential_version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the session dies unless refreshed first (epoch seconds; the table's TTL attribute).
    pub expires_at: i64,
    /// The latest `expires_at` any refresh may reach (epoch seconds).
    pub absolute_expires_at: i64,
}

impl Session {
    /// How many replaced refresh tokens a session remembers. A refresh every 30 minutes keeps the
    /// last 16 hours' tokens: a copy older than that is refused as a plain bad token.
    pub const REMEMBERED_ROTATIONS: usize = 32;

    /// A new session of `user` whose refresh window starts now.
    pub fn start(
        user: &super::User,
        session_id: SessionId,
        refresh_hash: String,
        now: OffsetDateTime,
        refresh_ttl: Duration,
        max_age: Duration,
    ) -> Self {
        let absolute = now.unix_timestamp() + max_age.as_secs() as i64;
        Self {
            user_id: user.id.clone(),
            session_id,
            refresh_hash,
            previous_hashes: Vec::new(),
            credential_version: user.credential_version,
            created_at: now,
            expires_at: (now.unix_timestamp() + refresh_ttl.as_secs() as i64).min(absolute),
            absolute_expires_at: absolute,
        }
    }

    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        now.unix_timestamp() < self.expires_at
    }

    /// Whether `user` (this session's) still stands behind it: active, and no credential change
    /// since the session began.
    pub fn is_honoured_by(&self, user: &super::User) -> bool {
        user.id == self.user_id && user.active && user.credential_version == self.credential_version
    }

    /// Whether `hash` is of a refresh token this session issued and has since replaced.
    pub fn replaced(&self, hash: &str) -> bool {
        self.previous_hashes.iter().any(|h| h == hash)
    }
}
