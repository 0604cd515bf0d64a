//! Google sign-in: verifying a Google ID token against Google's published keys (JWKS).
//!
//! The keys are fetched on first use and cached for an hour; a token signed with a key id we have not
//! seen makes us fetch again (Google rotates keys), at most once a minute.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde::{Deserialize, Deserializer};
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

const ISSUERS: [&str; 2] = ["accounts.google.com", "https://accounts.google.com"];
const CACHE_FOR: Duration = Duration::from_secs(3600);
const REFETCH_AFTER: Duration = Duration::from_secs(60);

/// The claims of a verified Google ID token that sign-in uses.
#[derive(Debug, Clone, Deserialize)]
pub struct GoogleIdentity {
    pub sub: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "bool_or_string")]
    pub email_verified: bool,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum GoogleError {
    /// The token is not one we accept; the caller gets a 401.
    #[error("Google ID token rejected: {0}")]
    Rejected(&'static str),
    /// Google's keys could not be fetched; the caller gets a 502.
    #[error("Google's signing keys are unavailable")]
    KeysUnavailable(#[source] crate::error::BoxError),
}

struct CachedKeys {
    keys: JwkSet,
    fetched: Instant,
}

pub struct GoogleVerifier {
    http: crate::state::OutboundHttp,
    jwks_url: String,
    client_ids: Vec<String>,
    cache: RwLock<Option<CachedKeys>>,
}

impl GoogleVerifier {
    pub fn new(
        http: crate::state::OutboundHttp,
        jwks_url: String,
        client_ids: Vec<String>,
    ) -> Self {
        Self {
            http,
            jwks_url,
            client_ids,
            cache: RwLock::new(None),
        }
    }

    pub async fn verify(&self, id_token: &str) -> Result<GoogleIdentity, GoogleError> {
        if self.client_ids.is_empty() {
            return Err(GoogleError::Rejected("Google sign-in is not configured"));
        }
        let header = jsonwebtoken::decode_header(id_token)
            .map_err(|_| GoogleError::Rejected("malformed token"))?;
        if header.alg != Algorithm::RS256 {
            return Err(GoogleError::Rejected("unexpected signing algorithm"));
        }
        let kid = header
            .kid
            .ok_or(GoogleError::Rejected("token names no key"))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&self.client_ids);
        validation.set_issuer(&ISSUERS);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        let identity = jsonwebtoken::decode::<GoogleIdentity>(id_token, &key, &validation)
            .map_err(|err| {
                use jsonwebtoken::errors::ErrorKind;
                GoogleError::Rejected(match err.kind() {
                    ErrorKind::ExpiredSignature => "token expired",
                    ErrorKind::InvalidAudience => "token is for another application",
                    ErrorKind::InvalidIssuer => "token is not from Google",
                    ErrorKind::InvalidSignature => "bad signature",
                    _ => "invalid token",
                })
            })?
            .claims;
        if !identity.email_verified || identity.email.is_none() {
            return Err(GoogleError::Rejected("Google has not verified this email"));
        }
        Ok(identity)
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, GoogleError> {
        {
            let cache = self.cache.read().await;
            if let Some(cached) = cache.as_ref() {
                let fresh = cached.fetched.elapsed() < CACHE_FOR;
                match cached.keys.find(kid) {
                    Some(jwk) if fresh => return decoding_key(jwk),
                    None if cached.fetched.elapsed() < REFETCH_AFTER => {
                        return Err(GoogleError::Rejected("unknown signing key"));
                    }
                    _ => {}
                }
            }
        }
        let keys = self.fetch().await?;
        let found = keys.find(kid).map(decoding_key);
        *self.cache.write().await = Some(CachedKeys {
            keys,
            fetched: Instant::now(),
        });
        found.unwrap_or(Err(GoogleError::Rejected("unknown signing key")))
    }

    async fn fetch(&self) -> Result<JwkSet, GoogleError> {
        let response = self
            .http
            .get(&self.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|err| GoogleError::KeysUnavailable(Box::new(err)))?;
        response
            .json::<JwkSet>()
            .await
            .map_err(|err| GoogleError::KeysUnavailable(Box::new(err)))
    }
}

fn decoding_key(jwk: &jsonwebtoken::jwk::Jwk) -> Result<DecodingKey, GoogleError> {
    DecodingKey::from_jwk(jwk).map_err(|_| GoogleError::Rejected("unusable signing key"))
}

/// Google sends `email_verified` as a boolean, and has been known to send the string "true".
fn bool_or_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    Ok(match Flag::deserialize(deserializer)? {
        Flag::Bool(value) => value,
        Flag::Text(text) => text.eq_ignore_ascii_case("true"),
    })
}
