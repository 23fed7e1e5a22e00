//! Password hashing with argon2id at the OWASP parameters argon2 ships as defaults
//! (PHC string format), on a bounded set of reused memory blocks.
//!
//! Each computation needs 19 MiB. Allocated afresh on whichever of actix's many blocking
//! threads ran a login, those buffers stayed with the allocator's per-thread arenas
//! (hundreds of MB after a burst of logins). Instead at most one computation per core
//! runs at a time (more would only share the cores), each on one of at most that many
//! buffers, allocated once and reused: memory stays bounded whatever the load, and a
//! burst of logins queues.

use std::sync::{Condvar, Mutex, OnceLock};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;

/// The reusable argon2 memory: free buffers, and how many exist.
struct Arena {
    state: Mutex<(Vec<Vec<Block>>, usize)>,
    released: Condvar,
    limit: usize,
}

fn arena() -> &'static Arena {
    static ARENA: OnceLock<Arena> = OnceLock::new();
    ARENA.get_or_init(|| Arena {
        state: Mutex::new((Vec::new(), 0)),
        released: Condvar::new(),
        limit: std::thread::available_parallelism().map_or(2, |n| n.get()),
    })
}

/// Runs `work` on `count` blocks of one of the arena's buffers, waiting for one to be free.
fn with_blocks<T>(count: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
    let arena = arena();
    let lock = || {
        arena
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    let mut state = lock();
    let mut buffer = loop {
        if let Some(buffer) = state.0.pop() {
            break buffer;
        }
        if state.1 < arena.limit {
            state.1 += 1;
            break Vec::new();
        }
        state = arena
            .released
            .wait(state)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
    };
    drop(state);
    if buffer.len() < count {
        buffer.resize(count, Block::default());
    }
    let result = work(&mut buffer[..count]);
    lock().0.push(buffer);
    arena.released.notify_one();
    result
}

/// Hashing failed (only on an internal error of the argon2 crate).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct PasswordError(String);

fn failed(error: impl std::fmt::Display) -> PasswordError {
    PasswordError(error.to_string())
}

/// Computes argon2 of `password` into `out`.
fn compute(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), PasswordError> {
    with_blocks(params.block_count(), |blocks| {
        argon.hash_password_into_with_memory(password, salt, out, blocks)
    })
    .map_err(failed)
}

/// An argon2id PHC string for `password`.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    compute(&argon, &params, password.as_bytes(), &salt, &mut out)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(failed)?,
        salt: Some(Salt::new(&salt).map_err(failed)?),
        hash: Some(Output::new(&out).map_err(failed)?),
    };
    Ok(phc.to_string())
}

/// True when `password` matches the parsed PHC `hash` (its own algorithm and cost).
fn matches(password: &str, hash: &PasswordHash) -> Option<bool> {
    let (salt, expected) = (hash.salt.as_ref()?, hash.hash.as_ref()?);
    let params = Params::try_from(hash).ok()?;
    let algorithm = Algorithm::try_from(hash.algorithm.as_str()).ok()?;
    let version = match hash.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    compute(&argon, &params, password.as_bytes(), salt, &mut out).ok()?;
    // Output's equality is constant-time.
    Some(Output::new(&out).ok()? == *expected)
}

/// Verifies `password` against `phc`. With no hash (unknown user, or no password set),
/// a dummy hash is verified so the answer costs the same time either way.
pub fn verify_password(password: &str, phc: Option<&str>) -> bool {
    match phc.and_then(|p| PasswordHash::new(p).ok()) {
        Some(hash) => matches(password, &hash).unwrap_or(false),
        None => {
            if let Some(hash) = dummy_hash().and_then(|p| PasswordHash::new(p).ok()) {
                let _ = matches(password, &hash);
            }
            false
        }
    }
}

fn dummy_hash() -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| hash_password("countersign-dummy-password").ok())
        .as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse", Some(&hash)));
        assert!(!verify_password("wrong horse", Some(&hash)));
        assert!(!verify_password("correct horse", None));
    }

    #[test]
    fn hashes_agree_with_the_argon2_crate_both_ways() {
        // Ours verifies with the crate's verifier...
        let ours = hash_password("tr0ub4dor").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"tr0ub4dor", &parsed)
            .is_ok());
        // ...and a stored hash of other cost (the crate's, m=8 MiB) verifies with ours.
        let params = Params::new(8192, 1, 1, None).unwrap();
        let theirs = argon2::PasswordHasher::hash_password_with_salt(
            &Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            b"tr0ub4dor",
            b"saltsaltsaltsalt",
        )
        .unwrap()
        .to_string();
        assert!(verify_password("tr0ub4dor", Some(&theirs)));
        assert!(!verify_password("tr0ub4dor!", Some(&theirs)));
    }

    #[test]
    fn no_more_buffers_than_cores_exist_under_concurrent_hashing() {
        let threads: Vec<_> = (0..8)
            .map(|i| std::thread::spawn(move || hash_password(&format!("p{i}")).unwrap()))
            .collect();
        for thread in threads {
            assert!(thread.join().unwrap().starts_with("$argon2id$"));
        }
        let state = arena().state.lock().unwrap();
        // (Other tests may hold buffers meanwhile: only the bound is asserted.)
        assert!(state.1 <= arena().limit, "{} buffers", state.1);
    }
}
