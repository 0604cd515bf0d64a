//! Argon2id password hashing with OWASP's parameters (m = 12 MiB, t = 3, p = 1), run off the async
//! threads because each hash takes tens of milliseconds on purpose.

use crate::domain::Password;
use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
};

/// OWASP Password Storage Cheat Sheet: Argon2id, 12 MiB of memory, 3 iterations, 1 lane — the
/// low-memory equivalent of 19 MiB / 2, chosen so the auth function stays small.
const MEMORY_KIB: u32 = 12 * 1024;
const ITERATIONS: u32 = 3;
const LANES: u32 = 1;

/// A hash with the current parameters of a password no one knows. Checking a login for an unknown
/// email against it costs what a real check costs, so the answer's timing does not reveal which
/// emails have accounts.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=12288,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$5uq2CeDpYg0WmWF3gOp4bK9OtxtsqLUsZvFVnWkWz7Y";

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a new password into a PHC string.
pub async fn hash(password: &Password) -> Result<String, argon2::password_hash::Error> {
    let password = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut salt_bytes = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt_bytes);
        let salt = SaltString::encode_b64(&salt_bytes)?;
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
    })
    .await
    .expect("hashing does not panic")
}

/// Checks a password against a stored hash; `None` checks against [`DUMMY_HASH`] and fails.
pub async fn verify(candidate: &str, stored: Option<&str>) -> bool {
    let candidate = candidate.to_owned();
    let (stored, real) = match stored {
        Some(hash) => (hash.to_owned(), true),
        None => (DUMMY_HASH.to_owned(), false),
    };
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        let matches = argon2()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok();
        matches && real
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let password = Password::parse("correct horse battery").unwrap();
        let hash = hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=12288,t=3,p=1$"));
        assert!(verify("correct horse battery", Some(&hash)).await);
        assert!(!verify("wrong horse battery", Some(&hash)).await);
    }

    #[tokio::test]
    async fn the_dummy_hash_uses_the_current_parameters_and_never_matches() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        let params = Params::try_from(&parsed).unwrap();
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (MEMORY_KIB, ITERATIONS, LANES)
        );
        assert!(!verify("anything", None).await);
    }

    #[tokio::test]
    async fn a_corrupt_stored_hash_fails_closed() {
        assert!(!verify("anything", Some("not a phc string")).await);
    }
}
