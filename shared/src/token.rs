//! Access tokens (short-lived HS256 JWTs) and refresh tokens (random, stored hashed, rotated).
//!
//! An access token carries the user id, role and session id; the session it names is checked on every
//! request, so revoking the session revokes the token at once. A refresh token is
//! `<user id>.<session id>.<secret>`: the ids let us find the session in one read, and only the SHA-256
//! of the secret is stored, so a copy of the table cannot mint tokens.

use crate::domain::{Role, SessionId, UserId};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::{fmt, time::Duration};
use time::OffsetDateTime;

/// The `iss` of every token this API signs.
pub const ISSUER: &str = "kitchen-api";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub sub: String,
    pub sid: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

/// Why an access token was refused. The caller gets a 401 either way; the kind is for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("token invalid")]
    Invalid,
}

/// The keys and rules for access tokens; built once per cold start.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeys")
            .field("access_ttl", &self.access_ttl)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    pub fn new(secret: &[u8], access_ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
        }
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    pub fn issue_access(
        &self,
        user: &UserId,
        session: &SessionId,
        role: Role,
        now: OffsetDateTime,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = AccessClaims {
            sub: user.to_string(),
            sid: session.to_string(),
            role,
            iat: now.unix_timestamp(),
            exp: now.unix_timestamp() + self.access_ttl.as_secs() as i64,
            iss: ISSUER.to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Checks signature, algorithm (HS256 only, so `alg: none` and key confusion fail), issuer and expiry.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenError> {
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

/// A refresh token as the client holds it. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub user_id: UserId,
    pub session_id: SessionId,
    secret: String,
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshToken")
            .field("user_id", &self.user_id)
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

impl RefreshToken {
    const SECRET_BYTES: usize = 32;

    pub fn generate(user_id: UserId, session_id: SessionId) -> Self {
        let mut bytes = [0u8; Self::SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self {
            user_id,
            session_id,
            secret: URL_SAFE_NO_PAD.encode(bytes),
        }
    }

    /// Parses a token a client sent; anything not shaped like one of ours is `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.split('.');
        let (user, session, secret) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let decoded = URL_SAFE_NO_PAD.decode(secret).ok()?;
        if decoded.len() != Self::SECRET_BYTES {
            return None;
        }
        Some(Self {
            user_id: UserId::parse(user).ok()?,
            session_id: SessionId::parse(session).ok()?,
            secret: secret.to_string(),
        })
    }

    /// What the table stores: the hex SHA-256 of the secret.
    pub fn hash(&self) -> String {
        hex(&Sha256::digest(self.secret.as_bytes()))
    }

    /// The token to hand to the client.
    pub fn expose(&self) -> String {
        format!("{}.{}.{}", self.user_id, self.session_id, self.secret)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys() -> TokenKeys {
        TokenKeys::new(
            b"a-test-secret-that-is-long-enough!!",
            Duration::from_secs(1800),
        )
    }

    #[test]
    fn an_access_token_round_trips() {
        let (user, session) = (UserId::new(), SessionId::new());
        let token = keys()
            .issue_access(&user, &session, Role::Admin, crate::now())
            .unwrap();
        let claims = keys().verify_access(&token).unwrap();
        assert_eq!(claims.sub, user.as_str());
        assert_eq!(claims.sid, session.as_str());
        assert_eq!(claims.role, Role::Admin);
    }

    #[test]
    fn a_token_signed_with_another_key_is_invalid() {
        let other = TokenKeys::new(
            b"another-secret-that-is-long-enough!",
            Duration::from_secs(1800),
        );
        let token = other
            .issue_access(
                &UserId::new(),
                &SessionId::new(),
                Role::Customer,
                crate::now(),
            )
            .unwrap();
        assert_eq!(keys().verify_access(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn an_expired_token_is_refused_as_expired() {
        let then = crate::now() - time::Duration::hours(2);
        let token = keys()
            .issue_access(&UserId::new(), &SessionId::new(), Role::Customer, then)
            .unwrap();
        assert_eq!(keys().verify_access(&token), Err(TokenError::Expired));
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        let token = keys()
            .issue_access(&UserId::new(), &SessionId::new(), Role::Admin, crate::now())
            .unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(
            keys().verify_access(&format!("{header}.{payload}.")),
            Err(TokenError::Invalid)
        );
        assert_eq!(keys().verify_access("garbage"), Err(TokenError::Invalid));
    }

    #[test]
    fn a_refresh_token_parses_back_and_hashes_stably() {
        let token = RefreshToken::generate(UserId::new(), SessionId::new());
        let parsed = RefreshToken::parse(&token.expose()).unwrap();
        assert_eq!(parsed, token);
        assert_eq!(parsed.hash(), token.hash());
        assert_eq!(token.hash().len(), 64);
        assert!(!format!("{token:?}").contains(&token.secret));
    }

    #[test]
    fn malformed_refresh_tokens_are_none() {
        let good = RefreshToken::generate(UserId::new(), SessionId::new()).expose();
        assert!(RefreshToken::parse(&format!("{good}.extra")).is_none());
        assert!(RefreshToken::parse(&good[..good.len() - 2]).is_none());
        assert!(RefreshToken::parse("a.b.c").is_none());
        assert!(RefreshToken::parse("").is_none());
    }
}
