//! Argon2id password hashing with OWASP's parameters (m = 12 MiB, t = 3, p = 1), run off the async
//! threads because each hash takes tens of milliseconds on purpose.
//!
//! Every hash runs on one long-lived thread of its own, in one 12 MiB block of memory that thread
//! keeps and reuses. Letting each hash allocate its own (the crate's `PasswordHasher` does) left the
//! allocator holding freed 12 MiB blocks in more than one arena, and the auth function's peak memory
//! at 35 MB instead of 23 (`make bench`). A Lambda instance serves one request at a time, so nothing
//! waits behind another hash.

use crate::domain::Password;
use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::{self, Output, ParamsString, PasswordHash, SaltString},
};
use std::cell::RefCell;

/// OWASP Password Storage Cheat Sheet: Argon2id, 12 MiB of memory, 3 iterations, 1 lane — the
/// low-memory equivalent of 19 MiB / 2, chosen so the auth function stays small.
const MEMORY_KIB: u32 = 12 * 1024;
const ITERATIONS: u32 = 3;
const LANES: u32 = 1;

/// A hash with the current parameters of a password no one knows. Checking a login for an unknown
/// email against it costs what a real check costs, so the answer's timing does not reveal which
/// emails have accounts.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=12288,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$5uq2CeDpYg0WmWF3gOp4bK9OtxtsqLUsZvFVnWkWz7Y";

fn params() -> Params {
    Params::new(MEMORY_KIB, ITERATIONS, LANES, None).expect("valid Argon2 parameters")
}

thread_local! {
    /// The hashing thread's memory, grown to the largest hash it has computed and then kept.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Argon2 with `algorithm`, `version` and `params` over `password` and `salt`, into an output of
/// `len` bytes, computed in this thread's kept memory.
fn compute(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    len: usize,
) -> password_hash::Result<Output> {
    let blocks_needed = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        if blocks.len() < blocks_needed {
            blocks.resize(blocks_needed, Block::default());
        }
        Output::init_with(len, |out| {
            argon2
                .hash_password_into_with_memory(password, salt, out, &mut blocks[..blocks_needed])
                .map_err(|_| password_hash::Error::Crypto)
        })
    })
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
        let params = params();
        let output = compute(
            Algorithm::Argon2id,
            Version::V0x13,
            params.clone(),
            password.as_bytes(),
            &salt_bytes,
            Params::DEFAULT_OUTPUT_LEN,
        )?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params)?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        };
        Ok(hash.to_string())
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
        let matches = (|| -> password_hash::Result<bool> {
            let parsed = PasswordHash::new(&stored)?;
            let algorithm = Algorithm::try_from(parsed.algorithm)?;
            let version = parsed
                .version
                .map(Version::try_from)
                .transpose()?
                .unwrap_or_default();
            let params = Params::try_from(&parsed)?;
            let expected = parsed.hash.ok_or(password_hash::Error::Password)?;
            let salt = parsed.salt.ok_or(password_hash::Error::Password)?;
            let mut salt_buffer = [0u8; 64];
            let salt = salt.decode_b64(&mut salt_buffer)?;
            let computed = compute(
                algorithm,
                version,
                params,
                candidate.as_bytes(),
                salt,
                expected.len(),
            )?;
            // Output's equality is constant-time.
            Ok(computed == expected)
        })();
        matches.unwrap_or(false) && real
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

    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crates_own_hasher_and_verifier() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let crate_argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params());
        // Ours, checked by the crate.
        let ours = hash(&Password::parse("correct horse battery").unwrap())
            .await
            .unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            crate_argon2
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        assert!(crate_argon2.verify_password(b"wrong", &parsed).is_err());
        // The crate's (as stored by earlier versions of this module), checked by ours.
        let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
        let theirs = crate_argon2
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert!(verify("correct horse battery", Some(&theirs)).await);
        assert!(!verify("correct horse batterz", Some(&theirs)).await);
        // Other parameters (a hash stored before a parameter change) still verify.
        let older = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(19 * 1024, 2, 1, None).unwrap(),
        )
        .hash_password(b"correct horse battery", &salt)
        .unwrap()
        .to_string();
        assert!(verify("correct horse battery", Some(&older)).await);
        assert!(!verify("correct horse", Some(&older)).await);
    }
}
