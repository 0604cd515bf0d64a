//! Pagination cursors: the table position to continue from, signed so a client can neither forge
//! one nor carry one from one listing to another.
//!
//! A cursor is `base64url(JSON of the start key) . base64url(HMAC-SHA256)`; the MAC covers the
//! listing's *scope* too (the route and its filters), so a cursor from another listing, or from the
//! same listing with other filters, fails to verify.

use crate::{db::Item, error::ApiError};
use aws_sdk_dynamodb::types::AttributeValue;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;

type HmacSha256 = Hmac<Sha256>;

/// The cursor key: a random key of its own (not the token key's), held only by the functions that
/// list things. The MAC key is derived from it with a label, so the same bytes used elsewhere by
/// mistake would still not sign cursors.
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(***)")
    }
}

/// The least random a cursor key may hold: 32 bytes, HMAC-SHA256's own key size.
pub const CURSOR_KEY_MIN_BYTES: usize = 32;

impl CursorKey {
    /// The key from its configured text: base64 of at least [`CURSOR_KEY_MIN_BYTES`] random bytes
    /// (`openssl rand -base64 32`). The error says what is wrong, not the value.
    pub fn parse(text: &str) -> Result<Self, String> {
        use base64::engine::general_purpose::STANDARD;
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| "is not base64 (make one with `openssl rand -base64 32`)".to_string())?;
        if bytes.len() < CURSOR_KEY_MIN_BYTES {
            return Err(format!(
                "must hold at least {CURSOR_KEY_MIN_BYTES} random bytes, not {}",
                bytes.len()
            ));
        }
        Ok(Self::derive(&bytes))
    }

    pub fn derive(secret: &[u8]) -> Self {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(b"kitchen-api pagination cursor v1");
        Self(mac.finalize().into_bytes().into())
    }

    fn mac(&self, scope: &str, payload: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(payload);
        mac
    }

    /// Encodes a start key (string attributes only, as all our keys are).
    pub fn encode(&self, scope: &str, key: &Item) -> String {
        let plain: BTreeMap<&str, &str> = key
            .iter()
            .filter_map(|(name, value)| value.as_s().ok().map(|v| (name.as_str(), v.as_str())))
            .collect();
        let payload = serde_json::to_vec(&plain).expect("strings serialize");
        let tag = self.mac(scope, &payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// Decodes a cursor issued for `scope`; anything else is a 400.
    pub fn decode(&self, scope: &str, cursor: &str) -> Result<Item, ApiError> {
        let invalid = || ApiError::invalid_field("cursor", "is not a cursor from this listing");
        let (payload, tag) = cursor.split_once('.').ok_or_else(invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        self.mac(scope, &payload)
            .verify_slice(&tag)
            .map_err(|_| invalid())?;
        let plain: BTreeMap<String, String> =
            serde_json::from_slice(&payload).map_err(|_| invalid())?;
        Ok(plain
            .into_iter()
            .map(|(name, value)| (name, AttributeValue::S(value)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Item {
        Item::from([
            ("pk".to_string(), AttributeValue::S("DISH#1".into())),
            ("sk".to_string(), AttributeValue::S("DISH".into())),
        ])
    }

    #[test]
    fn a_cursor_round_trips_within_its_scope() {
        let keys = CursorKey::derive(b"secret");
        let cursor = keys.encode("dishes?date=2026-11-24", &key());
        assert_eq!(
            keys.decode("dishes?date=2026-11-24", &cursor).unwrap(),
            key()
        );
    }

    #[test]
    fn a_cursor_from_another_scope_or_key_or_tampered_is_refused() {
        let keys = CursorKey::derive(b"secret");
        let cursor = keys.encode("dishes?date=2026-11-24", &key());
        assert!(keys.decode("dishes?date=2026-11-25", &cursor).is_err());
        assert!(
            CursorKey::derive(b"other")
                .decode("dishes?date=2026-11-24", &cursor)
                .is_err()
        );
        let (payload, tag) = cursor.split_once('.').unwrap();
        let forged_payload = URL_SAFE_NO_PAD.encode(br#"{"pk":"USER#1","sk":"PROFILE"}"#);
        assert!(
            keys.decode("dishes?date=2026-11-24", &format!("{forged_payload}.{tag}"))
                .is_err()
        );
        assert!(keys.decode("dishes?date=2026-11-24", payload).is_err());
        assert!(keys.decode("dishes?date=2026-11-24", "!!!.???").is_err());
    }

    #[test]
    fn a_cursor_key_is_base64_of_at_least_32_bytes() {
        let dev = include_str!("../../tools/dev-keys/cursor-dev.key");
        let cursor = CursorKey::parse(dev).unwrap().encode("s", &key());
        assert!(CursorKey::parse(dev).unwrap().decode("s", &cursor).is_ok());
        let short = base64::engine::general_purpose::STANDARD.encode([7u8; 31]);
        assert!(
            CursorKey::parse(&short)
                .unwrap_err()
                .contains("at least 32")
        );
        assert!(
            CursorKey::parse("not base64!")
                .unwrap_err()
                .contains("base64")
        );
    }
}

/// A page as the API returns it: `{"items": [...], "next_cursor": "..." | null}`.
#[derive(Debug, serde::Serialize)]
pub struct PageBody<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl CursorKey {
    /// Turns a table page into the API's page, signing the next start key for `scope`.
    pub fn page<T, U>(
        &self,
        scope: &str,
        page: crate::db::Page<T>,
        view: impl FnMut(T) -> U,
    ) -> PageBody<U> {
        PageBody {
            items: page.items.into_iter().map(view).collect(),
            next_cursor: page.next.as_ref().map(|key| self.encode(scope, key)),
        }
    }

    /// One page of a listing: read by `read` from where the client's `cursor` (issued for `scope`)
    /// says, and given its own next cursor for `scope`.
    pub async fn list<T, Read>(
        &self,
        scope: &str,
        cursor: Option<&str>,
        read: impl FnOnce(Option<Item>) -> Read,
    ) -> Result<PageBody<T>, ApiError>
    where
        Read: std::future::Future<Output = Result<crate::db::Page<T>, ApiError>>,
    {
        let start = self.start(scope, cursor)?;
        let page = read(start).await?;
        Ok(self.page(scope, page, |item| item))
    }

    /// The start key a client's `cursor` names, if it sent one.
    pub fn start(&self, scope: &str, cursor: Option<&str>) -> Result<Option<Item>, ApiError> {
        cursor.map(|c| self.decode(scope, c)).transpose()
    }
}
