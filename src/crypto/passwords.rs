//! Password hashing with argon2id at the OWASP parameters argon2 ships as defaults.

use std::sync::{Condvar, Mutex, OnceLock};

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};

/// At most this many argon2 computations run at once (each takes 19 MiB and ~40 ms of
/// a core): a burst of logins queues instead of exhausting memory.
struct Permits {
    free: Mutex<usize>,
    released: Condvar,
}

fn permits() -> &'static Permits {
    static PERMITS: OnceLock<Permits> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Permits {
            free: Mutex::new(cores * 2),
            released: Condvar::new(),
        }
    })
}

/// Runs `work` holding one permit.
fn with_permit<T>(work: impl FnOnce() -> T) -> T {
    let permits = permits();
    let mut free = permits
        .free
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    while *free == 0 {
        free = permits
            .released
            .wait(free)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
    }
    *free -= 1;
    drop(free);
    let result = work();
    let mut free = permits
        .free
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *free += 1;
    permits.released.notify_one();
    result
}

/// Hashing failed (only on an internal error of the argon2 crate).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct PasswordError(String);

/// An argon2id PHC string for `password`.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    with_permit(|| hash_unthrottled(password))
}

fn hash_unthrottled(password: &str) -> Result<String, PasswordError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError(e.to_string()))
}

/// Verifies `password` against `phc`. With no hash (unknown user, or no password set),
/// a dummy hash is verified so the answer costs the same time either way.
pub fn verify_password(password: &str, phc: Option<&str>) -> bool {
    with_permit(|| verify_unthrottled(password, phc))
}

fn verify_unthrottled(password: &str, phc: Option<&str>) -> bool {
    match phc.and_then(|p| PasswordHash::new(p).ok()) {
        Some(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        None => {
            if let Some(hash) = dummy_hash().and_then(|p| PasswordHash::new(p).ok()) {
                let _ = Argon2::default().verify_password(password.as_bytes(), &hash);
            }
            false
        }
    }
}

fn dummy_hash() -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| hash_unthrottled("countersign-dummy-password").ok())
        .as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", Some(&hash)));
        assert!(!verify_password("wrong horse", Some(&hash)));
        assert!(!verify_password("correct horse", None));
    }
}
