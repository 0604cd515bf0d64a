//! Access tokens (short-lived EdDSA JWTs) and refresh tokens (random, stored hashed, rotated).
//!
//! An access token carries the user id, role and session id; the session it names is checked on every
//! request, so revoking the session revokes the token at once. It is signed with an Ed25519 private key
//! that only the auth function holds ([`TokenKeys`]); every function that checks tokens holds only the
//! public keys ([`TokenVerifier`]), which `GET /.well-known/jwks.json` publishes. Each token's header
//! names its key (`kid`, the key's RFC 7638 thumbprint, so a key needs no name kept beside it); the
//! public set may hold two keys while the signing key is rotated (docs/token-keys.md).
//!
//! A refresh token is `<user id>.<session id>.<secret>`: the ids let us find the session in one read,
//! and only the SHA-256 of the secret is stored, so a copy of the table cannot mint tokens.

use crate::domain::{Role, SessionId, UserId};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind, jwk::Jwk,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::{fmt, time::Duration};
use time::OffsetDateTime;

/// The `iss` of every token this API signs.
pub const ISSUER: &str = "kitchen-api";

/// The most public keys a set may hold: the current one and, during a rotation, the next (or the
/// previous) one.
pub const MAX_PUBLIC_KEYS: usize = 2;

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

/// Why a key could not be loaded; the cold start names the variable or parameter it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("is not an Ed25519 private key in PKCS#8 PEM (`openssl genpkey -algorithm ed25519`)")]
    NotAPrivateKey,
    #[error("holds a block that is not an Ed25519 public key in PEM (`openssl pkey -pubout`): {0}")]
    NotAPublicKey(String),
    #[error("holds no public key")]
    NoPublicKey,
    #[error("holds {0} public keys; at most {MAX_PUBLIC_KEYS} may be live at once")]
    TooManyPublicKeys(usize),
    #[error("holds the public key {0} twice")]
    DuplicatePublicKey(String),
}

/// One Ed25519 public key: its raw 32 bytes (base64url, the JWK's `x`) and its `kid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    kid: String,
    x: String,
}

impl PublicKey {
    /// The key from its JWK `x` (base64url of the 32 raw bytes).
    fn from_x(x: &[u8]) -> Option<Self> {
        if x.len() != 32 {
            return None;
        }
        let x = URL_SAFE_NO_PAD.encode(x);
        // RFC 7638: the SHA-256 of the required members, in lexicographic order, without spaces.
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        Some(Self { kid, x })
    }

    /// One `-----BEGIN PUBLIC KEY-----` block (SubjectPublicKeyInfo), as `openssl pkey -pubout` writes it.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let not_one = || KeyError::NotAPublicKey(first_line(pem));
        let key = DecodingKey::from_ed_pem(pem.as_bytes()).map_err(|_| not_one())?;
        Self::from_x(key.try_get_as_bytes().map_err(|_| not_one())?).ok_or_else(not_one)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key as the JWKS publishes it.
    pub fn to_jwk(&self) -> JwkEntry {
        JwkEntry {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: self.x.clone(),
            kid: self.kid.clone(),
            alg: "EdDSA".into(),
            r#use: "sig".into(),
        }
    }
}

fn first_line(text: &str) -> String {
    text.trim().lines().next().unwrap_or_default().to_string()
}

/// One key of a JWKS document (RFC 8037: an Ed25519 key is `kty` OKP, `crv` Ed25519).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JwkEntry {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub r#use: String,
}

/// The document `GET /.well-known/jwks.json` answers: `{"keys": [...]}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Jwks {
    pub keys: Vec<JwkEntry>,
}

/// The public keys that access tokens are checked with; built once per cold start.
///
/// Verification pins the algorithm to EdDSA (so `alg: none` and an HS256 token made with a public key
/// as its secret fail) and takes the key by the token's `kid`, which must name a key of this set.
pub struct TokenVerifier {
    keys: Vec<(PublicKey, DecodingKey)>,
    validation: Validation,
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVerifier")
            .field(
                "kids",
                &self
                    .keys
                    .iter()
                    .map(|(key, _)| key.kid())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// The set from one or two public keys.
    pub fn new(keys: Vec<PublicKey>) -> Result<Self, KeyError> {
        match keys.len() {
            0 => return Err(KeyError::NoPublicKey),
            n if n > MAX_PUBLIC_KEYS => return Err(KeyError::TooManyPublicKeys(n)),
            _ => {}
        }
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].iter().any(|earlier| earlier.kid == key.kid) {
                return Err(KeyError::DuplicatePublicKey(key.kid.clone()));
            }
        }
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.leeway = 5;
        let keys = keys
            .into_iter()
            .map(|key| {
                let decoding = DecodingKey::from_ed_components(&key.x)
                    .expect("x was encoded here from 32 bytes");
                (key, decoding)
            })
            .collect();
        Ok(Self { keys, validation })
    }

    /// The set from the public-key parameter's text: one or two PEM public keys, one after the other.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        const END: &str = "-----END PUBLIC KEY-----";
        let mut keys = Vec::new();
        let mut rest = text;
        while let Some(end) = rest.find(END) {
            let (block, after) = rest.split_at(end + END.len());
            keys.push(PublicKey::from_pem(block.trim())?);
            rest = after;
        }
        if !rest.trim().is_empty() {
            return Err(KeyError::NotAPublicKey(first_line(rest)));
        }
        Self::new(keys)
    }

    /// The set a JWKS document describes (what a client of `/.well-known/jwks.json` does with it).
    pub fn from_jwks(jwks: &Jwks) -> Result<Self, KeyError> {
        let keys = jwks
            .keys
            .iter()
            .map(|jwk| {
                let refused = || KeyError::NotAPublicKey(jwk.kid.clone());
                if (jwk.kty.as_str(), jwk.crv.as_str()) != ("OKP", "Ed25519") {
                    return Err(refused());
                }
                let x = URL_SAFE_NO_PAD.decode(&jwk.x).map_err(|_| refused())?;
                let key = PublicKey::from_x(&x).ok_or_else(refused)?;
                // A kid that is not the key's thumbprint names some other key.
                if key.kid == jwk.kid {
                    Ok(key)
                } else {
                    Err(refused())
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(keys)
    }

    /// Whether `kid` names a key of the set.
    pub fn contains(&self, kid: &str) -> bool {
        self.keys.iter().any(|(key, _)| key.kid == kid)
    }

    /// The set as `GET /.well-known/jwks.json` publishes it.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self.keys.iter().map(|(key, _)| key.to_jwk()).collect(),
        }
    }

    /// Checks the key (by `kid`), signature, algorithm (EdDSA only), issuer and expiry.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        let kid = header.kid.as_deref().ok_or(TokenError::Invalid)?;
        let (_, key) = self
            .keys
            .iter()
            .find(|(key, _)| key.kid == kid)
            .ok_or(TokenError::Invalid)?;
        jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

/// The private key that signs access tokens, and their lifetime; only the auth function holds it.
pub struct TokenKeys {
    encoding: EncodingKey,
    public: PublicKey,
    access_ttl: Duration,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeys")
            .field("kid", &self.public.kid)
            .field("access_ttl", &self.access_ttl)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// The signing key from its PKCS#8 PEM (`openssl genpkey -algorithm ed25519`).
    pub fn from_pem(private_pem: &str, access_ttl: Duration) -> Result<Self, KeyError> {
        let encoding = EncodingKey::from_ed_pem(private_pem.as_bytes())
            .map_err(|_| KeyError::NotAPrivateKey)?;
        // Deriving the public half parses the whole key, so a malformed one fails here, at the cold
        // start, rather than at the first login.
        let jwk = Jwk::from_encoding_key(&encoding, Algorithm::EdDSA)
            .map_err(|_| KeyError::NotAPrivateKey)?;
        let public = match &jwk.algorithm {
            jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(okp) => URL_SAFE_NO_PAD
                .decode(&okp.x)
                .ok()
                .and_then(|x| PublicKey::from_x(&x)),
            _ => None,
        }
        .ok_or(KeyError::NotAPrivateKey)?;
        Ok(Self {
            encoding,
            public,
            access_ttl,
        })
    }

    /// The `kid` every token it signs carries.
    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    /// Its public half.
    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
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
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.public.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
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

    const SIGNING: &str = include_str!("../../tools/dev-keys/token-signing-dev.pem");
    const PUBLIC: &str = include_str!("../../tools/dev-keys/token-public-dev.pem");
    const NEXT_SIGNING: &str = include_str!("../../tools/dev-keys/token-signing-dev-next.pem");
    const NEXT_PUBLIC: &str = include_str!("../../tools/dev-keys/token-public-dev-next.pem");

    fn signer(pem: &str) -> TokenKeys {
        TokenKeys::from_pem(pem, Duration::from_secs(1800)).unwrap()
    }

    fn token(keys: &TokenKeys) -> String {
        keys.issue_access(&UserId::new(), &SessionId::new(), Role::Admin, crate::now())
            .unwrap()
    }

    fn verifier() -> TokenVerifier {
        TokenVerifier::from_pem(PUBLIC).unwrap()
    }

    #[test]
    fn an_access_token_round_trips_and_names_its_key() {
        let (user, session) = (UserId::new(), SessionId::new());
        let keys = signer(SIGNING);
        let token = keys
            .issue_access(&user, &session, Role::Admin, crate::now())
            .unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(header.kid.as_deref(), Some(keys.kid()));
        let claims = verifier().verify_access(&token).unwrap();
        assert_eq!(claims.sub, user.as_str());
        assert_eq!(claims.sid, session.as_str());
        assert_eq!(claims.role, Role::Admin);
    }

    #[test]
    fn the_kid_is_the_keys_thumbprint_whichever_half_it_is_read_from() {
        let from_private = signer(SIGNING).public_key();
        let from_public = PublicKey::from_pem(PUBLIC).unwrap();
        assert_eq!(from_private, from_public);
        assert_eq!(from_public.kid().len(), 43);
        // RFC 7638 as jsonwebtoken computes it, over the same JWK.
        let jwk: Jwk =
            serde_json::from_value(serde_json::to_value(from_public.to_jwk()).unwrap()).unwrap();
        assert_eq!(
            jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
                .unwrap(),
            from_public.kid()
        );
        assert_ne!(signer(NEXT_SIGNING).kid(), from_public.kid());
    }

    #[test]
    fn a_token_with_an_unknown_or_missing_kid_is_invalid() {
        let keys = signer(SIGNING);
        let claims = jsonwebtoken::decode::<AccessClaims>(
            token(&keys),
            &DecodingKey::from_ed_pem(PUBLIC.as_bytes()).unwrap(),
            &verifier().validation,
        )
        .unwrap()
        .claims;
        for kid in [None, Some("someone-elses-key".to_string())] {
            let mut header = Header::new(Algorithm::EdDSA);
            header.kid = kid;
            let forged = jsonwebtoken::encode(&header, &claims, &keys.encoding).unwrap();
            assert_eq!(verifier().verify_access(&forged), Err(TokenError::Invalid));
        }
    }

    #[test]
    fn a_token_signed_by_a_key_not_in_the_set_is_invalid() {
        let other = signer(NEXT_SIGNING);
        assert_eq!(
            verifier().verify_access(&token(&other)),
            Err(TokenError::Invalid)
        );
        // Nor does naming a key of the set help a token that key did not sign.
        let claims = jsonwebtoken::decode::<AccessClaims>(
            token(&other),
            &DecodingKey::from_ed_pem(NEXT_PUBLIC.as_bytes()).unwrap(),
            &verifier().validation,
        )
        .unwrap()
        .claims;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(signer(SIGNING).kid().to_string());
        let forged = jsonwebtoken::encode(&header, &claims, &other.encoding).unwrap();
        assert_eq!(verifier().verify_access(&forged), Err(TokenError::Invalid));
    }

    #[test]
    fn an_hs256_token_with_a_known_kid_is_invalid() {
        // Key confusion: an HMAC "signed" with what a verifier holds, the public key, as its secret.
        let keys = signer(SIGNING);
        let claims = AccessClaims {
            sub: UserId::new().to_string(),
            sid: SessionId::new().to_string(),
            role: Role::Admin,
            iat: crate::now().unix_timestamp(),
            exp: crate::now().unix_timestamp() + 600,
            iss: ISSUER.into(),
        };
        let x = URL_SAFE_NO_PAD.decode(&keys.public.x).unwrap();
        for secret in [x.as_slice(), PUBLIC.as_bytes(), keys.public.x.as_bytes()] {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some(keys.kid().to_string());
            let forged =
                jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap();
            assert_eq!(verifier().verify_access(&forged), Err(TokenError::Invalid));
        }
    }

    #[test]
    fn while_both_keys_are_live_tokens_of_either_verify() {
        let both = TokenVerifier::from_pem(&format!("{PUBLIC}\n{NEXT_PUBLIC}")).unwrap();
        let (old, new) = (signer(SIGNING), signer(NEXT_SIGNING));
        assert!(both.contains(old.kid()) && both.contains(new.kid()));
        assert!(both.verify_access(&token(&old)).is_ok());
        assert!(both.verify_access(&token(&new)).is_ok());
        // Once the old key is removed, its tokens are refused.
        let after = TokenVerifier::from_pem(NEXT_PUBLIC).unwrap();
        assert_eq!(after.verify_access(&token(&old)), Err(TokenError::Invalid));
        assert!(after.verify_access(&token(&new)).is_ok());
    }

    #[test]
    fn a_jwks_document_round_trips() {
        let both = TokenVerifier::from_pem(&format!("{PUBLIC}{NEXT_PUBLIC}")).unwrap();
        let document = serde_json::to_value(both.jwks()).unwrap();
        let first = &document["keys"][0];
        assert_eq!(first["kty"], "OKP");
        assert_eq!(first["crv"], "Ed25519");
        assert_eq!(first["alg"], "EdDSA");
        assert_eq!(first["use"], "sig");
        assert_eq!(first["kid"], signer(SIGNING).kid());
        let parsed: Jwks = serde_json::from_value(document).unwrap();
        assert_eq!(parsed, both.jwks());
        let client = TokenVerifier::from_jwks(&parsed).unwrap();
        assert!(client.verify_access(&token(&signer(NEXT_SIGNING))).is_ok());
        // A kid that is not its key's thumbprint is refused.
        let mut wrong = parsed.clone();
        wrong.keys[0].kid = wrong.keys[1].kid.clone();
        assert!(TokenVerifier::from_jwks(&wrong).is_err());
    }

    #[test]
    fn malformed_key_sets_are_refused_with_a_reason() {
        assert_eq!(
            TokenVerifier::from_pem("").unwrap_err(),
            KeyError::NoPublicKey
        );
        assert!(matches!(
            TokenVerifier::from_pem(&format!("{PUBLIC}garbage")).unwrap_err(),
            KeyError::NotAPublicKey(_)
        ));
        assert!(matches!(
            TokenVerifier::from_pem(&format!("{PUBLIC}{PUBLIC}")).unwrap_err(),
            KeyError::DuplicatePublicKey(_)
        ));
        let three = TokenVerifier::new(vec![
            PublicKey::from_pem(PUBLIC).unwrap(),
            PublicKey::from_pem(NEXT_PUBLIC).unwrap(),
            signer(SIGNING).public_key(),
        ]);
        assert!(matches!(three, Err(KeyError::TooManyPublicKeys(3))));
        // A private key is not a public key, and the reverse.
        assert!(TokenVerifier::from_pem(SIGNING).is_err());
        assert_eq!(
            TokenKeys::from_pem(PUBLIC, Duration::from_secs(60)).unwrap_err(),
            KeyError::NotAPrivateKey
        );
        assert!(TokenKeys::from_pem("not a key", Duration::from_secs(60)).is_err());
    }

    #[test]
    fn an_expired_token_is_refused_as_expired() {
        let then = crate::now() - time::Duration::hours(2);
        let token = signer(SIGNING)
            .issue_access(&UserId::new(), &SessionId::new(), Role::Customer, then)
            .unwrap();
        assert_eq!(verifier().verify_access(&token), Err(TokenError::Expired));
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        let token = token(&signer(SIGNING));
        let payload = token.split('.').nth(1).unwrap();
        let kid = signer(SIGNING).kid().to_string();
        for header in [
            r#"{"alg":"none","typ":"JWT"}"#.to_string(),
            format!(r#"{{"alg":"none","typ":"JWT","kid":"{kid}"}}"#),
        ] {
            let header = URL_SAFE_NO_PAD.encode(header.as_bytes());
            assert_eq!(
                verifier().verify_access(&format!("{header}.{payload}.")),
                Err(TokenError::Invalid)
            );
        }
        assert_eq!(
            verifier().verify_access("garbage"),
            Err(TokenError::Invalid)
        );
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
