//! Google sign-in on the local stack: a development signing key that `make dev` trusts in place of
//! Google's, its JWKS, and ID tokens minted with it for any email.
//!
//! The key is `tools/dev-keys/google-dev.pem` (RS256, key id [`KID`]), committed on purpose: it signs
//! for no one but a local stack. `make dev` deploys template.yaml with `GoogleClientIds` set to
//! [`CLIENT_ID`] and `GoogleJwksUrl` pointing at [`JWKS_PATH`] on the IAM gate (`kitchen-local gate`,
//! the one HTTP process every local stack runs), so the auth function checks these tokens exactly
//! as it checks Google's. template.yaml's defaults never name this key, so no deployment trusts it.
//!
//! `kitchen-local google-token EMAIL [GIVEN_NAME [FAMILY_NAME]]` (`make google-token`) prints a
//! token; tests call [`id_token`].

use anyhow::{Context, Result};
use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// The development key's id, in the JWKS and in every token's header.
pub const KID: &str = "kitchen-dev-google";
/// The issuer Google's tokens carry, and so these.
pub const ISSUER: &str = "https://accounts.google.com";
/// The OAuth client id the local stack accepts as the tokens' audience.
pub const CLIENT_ID: &str = "kitchen-local";
/// Where the IAM gate serves the development JWKS (Google serves its own at `/oauth2/v3/certs`).
pub const JWKS_PATH: &str = "/_dev/google/oauth2/v3/certs";
/// How long a minted token lives, as Google's do.
pub const TOKEN_LIFETIME: time::Duration = time::Duration::hours(1);

/// The development private key (PKCS#8 PEM). Development only: see tools/dev-keys/README.md.
const PRIVATE_KEY_PEM: &str = include_str!("../../dev-keys/google-dev.pem");

/// The JWKS that holds the development key's public half, shaped as Google's.
pub fn jwks() -> Result<Value> {
    let key = EncodingKey::from_rsa_pem(PRIVATE_KEY_PEM.as_bytes())
        .context("tools/dev-keys/google-dev.pem is an RSA private key")?;
    let mut public = jwk::Jwk::from_encoding_key(&key, Algorithm::RS256)
        .context("the public half of the development key")?;
    public.common.key_id = Some(KID.to_string());
    public.common.public_key_use = Some(jwk::PublicKeyUse::Signature);
    Ok(json!({ "keys": [public] }))
}

/// What the IAM gate serves besides its proxying: the development JWKS at [`JWKS_PATH`].
pub fn gate_documents() -> Result<crate::iam_proxy::Documents> {
    let mut documents = crate::iam_proxy::Documents::new();
    documents.insert(JWKS_PATH.to_string(), serde_json::to_vec(&jwks()?)?.into());
    Ok(documents)
}

/// Google's `sub` for `email` on the local stack: 21 digits, as Google's are, and the same every
/// time for the same email (in any case), so signing in again finds the same account.
pub fn subject(email: &str) -> String {
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    let number = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    format!("1{number:020}")
}

/// An ID token for `email` as Google would issue it to [`CLIENT_ID`] at `now`: issuer, audience,
/// a stable `sub`, the email verified, the names when given, valid for [`TOKEN_LIFETIME`].
pub fn id_token(
    email: &str,
    given_name: Option<&str>,
    family_name: Option<&str>,
    now: OffsetDateTime,
) -> Result<String> {
    let issued = now.unix_timestamp();
    let mut claims = json!({
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "azp": CLIENT_ID,
        "sub": subject(email),
        "email": email.trim(),
        "email_verified": true,
        "iat": issued,
        "exp": issued + TOKEN_LIFETIME.whole_seconds(),
    });
    if let Some(name) = given_name {
        claims["given_name"] = json!(name);
    }
    if let Some(name) = family_name {
        claims["family_name"] = json!(name);
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.to_string());
    let key = EncodingKey::from_rsa_pem(PRIVATE_KEY_PEM.as_bytes())
        .context("tools/dev-keys/google-dev.pem is an RSA private key")?;
    jsonwebtoken::encode(&header, &claims, &key).context("signing the ID token")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jwks_publishes_only_the_public_half_under_the_key_id() {
        let jwks = jwks().unwrap();
        let key = &jwks["keys"][0];
        assert_eq!(key["kid"], KID);
        assert_eq!(key["kty"], "RSA");
        assert_eq!(key["alg"], "RS256");
        assert_eq!(key["use"], "sig");
        assert!(key["n"].as_str().unwrap().len() > 300, "a 2048-bit modulus");
        assert!(key.get("d").is_none(), "no private exponent");
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn a_token_verifies_with_the_jwks_and_says_what_google_would() {
        let now = OffsetDateTime::now_utc();
        let token = id_token("Ada@Example.com", Some("Ada"), None, now).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(KID));
        let set: jwk::JwkSet = serde_json::from_value(jwks().unwrap()).unwrap();
        let key = jsonwebtoken::DecodingKey::from_jwk(set.find(KID).unwrap()).unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.set_audience(&[CLIENT_ID]);
        validation.set_issuer(&[ISSUER]);
        let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation)
            .unwrap()
            .claims;
        assert_eq!(claims["email"], "Ada@Example.com");
        assert_eq!(claims["email_verified"], true);
        assert_eq!(claims["given_name"], "Ada");
        assert!(claims.get("family_name").is_none());
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            3600
        );
    }

    #[test]
    fn the_subject_is_stable_per_email_and_differs_between_emails() {
        assert_eq!(subject("ada@example.com"), subject(" Ada@Example.COM"));
        assert_ne!(subject("ada@example.com"), subject("obi@example.com"));
        assert_eq!(subject("ada@example.com").len(), 21);
        assert!(
            subject("ada@example.com")
                .chars()
                .all(|c| c.is_ascii_digit())
        );
    }
}
