//! One-time tokens sent by email: the email-verification link and the password-reset link.
//!
//! A token is `<user id>.<secret>`: the id finds the stored token in one read beside its user, and
//! only the SHA-256 of the 32-byte random secret is stored, so a copy of the table cannot use one.
//! Each kind has one live token per user (a new one replaces the older), used once, within its
//! lifetime.

use crate::domain::UserId;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::{fmt, time::Duration};

/// What a one-time token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Prove the account's email is theirs.
    VerifyEmail,
    /// Set a new password (and, by reading the email, prove the email too).
    ResetPassword,
}

impl Purpose {
    /// How long a token of this kind works after it is sent.
    pub fn lifetime(self) -> Duration {
        match self {
            Purpose::VerifyEmail => Duration::from_secs(48 * 3600),
            Purpose::ResetPassword => Duration::from_secs(30 * 60),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }
}

/// A one-time token as the email carries it. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken {
    pub user_id: UserId,
    secret: String,
}

impl fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkToken")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

impl LinkToken {
    const SECRET_BYTES: usize = 32;

    pub fn generate(user_id: UserId) -> Self {
        let mut bytes = [0u8; Self::SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self {
            user_id,
            secret: URL_SAFE_NO_PAD.encode(bytes),
        }
    }

    /// Parses a token from a link or a request; anything not shaped like one of ours is `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        let (user, secret) = raw.trim().split_once('.')?;
        let decoded = URL_SAFE_NO_PAD.decode(secret).ok()?;
        if decoded.len() != Self::SECRET_BYTES {
            return None;
        }
        Some(Self {
            user_id: UserId::parse(user).ok()?,
            secret: secret.to_string(),
        })
    }

    /// What the table stores: the hex SHA-256 of the secret.
    pub fn hash(&self) -> String {
        Sha256::digest(self.secret.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The token as the link carries it: only URL-safe characters, so it needs no escaping in a
    /// query string or an HTML attribute.
    pub fn expose(&self) -> String {
        format!("{}.{}", self.user_id, self.secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_through_its_link_form() {
        let token = LinkToken::generate(UserId::new());
        let parsed = LinkToken::parse(&token.expose()).unwrap();
        assert_eq!(parsed, token);
        assert_eq!(parsed.hash(), token.hash());
        assert!(
            token
                .expose()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        );
    }

    #[test]
    fn anything_else_is_not_a_token() {
        let token = LinkToken::generate(UserId::new()).expose();
        for bad in [
            "",
            "abc",
            &token[..token.len() - 2],
            &format!("{token}x"),
            &token.replacen('.', ":", 1),
            "01J00000000000000000000000.AAAA",
        ] {
            assert_eq!(LinkToken::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn its_debug_form_hides_the_secret() {
        let token = LinkToken::generate(UserId::new());
        let secret = token.expose().split_once('.').unwrap().1.to_string();
        assert!(!format!("{token:?}").contains(&secret));
    }

    #[test]
    fn a_reset_link_lives_half_an_hour_and_a_verification_two_days() {
        assert_eq!(Purpose::ResetPassword.lifetime().as_secs(), 1800);
        assert_eq!(Purpose::VerifyEmail.lifetime().as_secs(), 172_800);
    }
}
