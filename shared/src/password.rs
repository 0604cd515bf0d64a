//! Argon2id password hashing with OWASP's parameters (m = 12 MiB, t = 3, p = 1), run off the async
//! threads because each hash takes tens of milliseconds on purpose.
//!
//! Every hash runs on one long-lived thread of its own. Each hash allocates its 12 MiB afresh, and the
//! allocator keeps a freed block in the arena of the thread that used it; hashed on the blocking pool,
//! every pool thread that ever hashed would hold its own 12 MiB, and a function's memory would grow
//! with the pool. On one thread the block is reused: the memory a function needs for passwords is 12
//! MiB, once. A Lambda instance serves one request at a time, so nothing waits behind another hash.

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

type Job = Box<dyn FnOnce() + Send>;

/// Runs `work` on the hashing thread and waits for its answer without blocking the async threads.
async fn on_hashing_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    static HASHER: std::sync::LazyLock<std::sync::mpsc::Sender<Job>> =
        std::sync::LazyLock::new(|| {
            let (jobs, queue) = std::sync::mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("password-hashing".into())
                .spawn(move || {
                    for job in queue {
                        // A job that panics loses its own answer (its caller's await fails), not
                        // the thread.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })
                .expect("the hashing thread starts");
            jobs
        });
    let (answer, answered) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = answer.send(work());
    });
    HASHER
        .send(job)
        .expect("the hashing thread runs for the life of the process");
    answered.await.expect("a hash does not panic")
}

/// Hashes a new password into a PHC string.
pub async fn hash(password: &Password) -> Result<String, argon2::password_hash::Error> {
    let password = password.expose().to_owned();
    on_hashing_thread(move || {
        let mut salt_bytes = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt_bytes);
        let salt = SaltString::encode_b64(&salt_bytes)?;
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
    })
    .await
}

/// Checks a password against a stored hash; `None` checks against [`DUMMY_HASH`] and fails.
pub async fn verify(candidate: &str, stored: Option<&str>) -> bool {
    let candidate = candidate.to_owned();
    let (stored, real) = match stored {
        Some(hash) => (hash.to_owned(), true),
        None => (DUMMY_HASH.to_owned(), false),
    };
    on_hashing_thread(move || {
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        let matches = argon2()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok();
        matches && real
    })
    .await
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
