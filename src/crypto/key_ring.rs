//! The signing keys in memory: each private key is unsealed and parsed once, each public
//! key once, and the RFC 7517 JWK Set is serialized once per change, so signing a token,
//! verifying one and serving `/jwks.json` need no database read at all.
//!
//! Instances share one database, and another instance (or `countersign keys rotate`)
//! may rotate the keys. A process therefore re-reads the (tiny) `signing_keys` table at
//! most [`KEY_REFRESH_SECONDS`] after its last read, at once when a token names a `kid`
//! it does not know, and at once when it rotates the keys itself. The staleness bound:
//! for up to [`KEY_REFRESH_SECONDS`] after a rotation elsewhere, this instance still
//! signs with the previous key (still published as `retiring`, so its tokens verify
//! everywhere) and its JWK Set lacks the new key (RPs refetch on an unknown `kid`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::jwt::{KeyRingError, SigningKey};
use super::keys::{is_published, jwks, KeyAlg, KeyState};
use super::verify::{kid_of, VerifyingKey};
use super::Sealer;
use crate::store::{self, DbConn, KeyRow, Store, StoreError};

/// At most this many seconds (of the provider's clock) pass between two reads of the
/// signing keys: how long a rotation made by another instance may go unnoticed.
pub const KEY_REFRESH_SECONDS: i64 = 10;

/// A token naming an unknown `kid` makes the keys be read again, but no more often than
/// this, so a flood of forged `kid`s cannot turn into a flood of queries.
const MISS_RELOAD_INTERVAL: Duration = Duration::from_millis(100);

/// One read of the signing keys, parsed.
pub struct KeySet {
    rows: Vec<KeyRow>,
    active: Vec<(KeyAlg, Result<SigningKey, KeyRingError>)>,
    verifying: HashMap<String, VerifyingKey>,
    jwks: Arc<str>,
    loaded_at: i64,
    fresh_until: i64,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.rows.iter().map(|r| r.kid.as_str()).collect();
        write!(f, "KeySet({kids:?} read at {})", self.loaded_at)
    }
}

impl KeySet {
    /// Parses `rows` (newest first, as [`store::list_keys`] returns them), reusing the
    /// keys `previous` already parsed.
    pub(super) fn build(
        rows: Vec<KeyRow>,
        previous: Option<&KeySet>,
        sealer: &Sealer,
        now: i64,
    ) -> Self {
        let reuse = |kid: &str| {
            previous?
                .active
                .iter()
                .find_map(|(_, key)| key.as_ref().ok().filter(|k| k.kid == kid).cloned())
        };
        let mut active = Vec::new();
        for &alg in KeyAlg::ALL {
            let Some(row) = rows
                .iter()
                .find(|row| row.state == KeyState::Active && row.alg == alg)
            else {
                continue;
            };
            let key = match reuse(&row.kid) {
                Some(key) => Ok(key),
                None => open(sealer, row),
            };
            active.push((alg, key));
        }
        let verifying = rows
            .iter()
            .filter(|row| row.state.verifies())
            .filter_map(|row| Some((row.kid.clone(), VerifyingKey::of(row)?)))
            .collect();
        // The set changes by itself when a retiring key's time is up: read again then.
        let retiring_ends = rows
            .iter()
            .filter(|row| is_published(row, now))
            .filter_map(|row| row.retire_at)
            .filter(|&at| at > now);
        let fresh_until = retiring_ends.fold(now.saturating_add(KEY_REFRESH_SECONDS), i64::min);
        KeySet {
            jwks: jwks(&rows, now).to_string().into(),
            rows,
            active,
            verifying,
            loaded_at: now,
            fresh_until,
        }
    }

    /// Every key as read (newest first).
    pub fn rows(&self) -> &[KeyRow] {
        &self.rows
    }

    /// The active key of `alg`, ready to sign.
    pub fn active(&self, alg: KeyAlg) -> Result<SigningKey, KeyRingError> {
        match self.active.iter().find(|(a, _)| *a == alg) {
            Some((_, Ok(key))) => Ok(key.clone()),
            Some((_, Err(error))) => Err(error.clone()),
            None => Err(KeyRingError::NoActiveKey(alg.as_str())),
        }
    }

    /// The key that verifies tokens naming `kid` (not retired).
    pub(crate) fn verifying_key(&self, kid: &str) -> Option<&VerifyingKey> {
        self.verifying.get(kid)
    }

    /// The published keys as an RFC 7517 JWK Set, serialized.
    pub fn jwks(&self) -> Arc<str> {
        self.jwks.clone()
    }

    /// True while `now` is within the refresh bound of the read.
    fn is_fresh(&self, now: i64) -> bool {
        (self.loaded_at..self.fresh_until).contains(&now)
    }

    /// True unless `token`'s header names a `kid` this set does not have.
    fn knows_kid_of(&self, token: &str) -> bool {
        match kid_of(token) {
            Some(kid) => self.verifying.contains_key(&kid),
            None => true,
        }
    }
}

fn open(sealer: &Sealer, row: &KeyRow) -> Result<SigningKey, KeyRingError> {
    let bad = |problem: String| KeyRingError::BadKey {
        kid: row.kid.clone(),
        problem,
    };
    let pem = sealer.open(&row.private_pem).map_err(bad)?;
    SigningKey::parse(&row.kid, row.alg, &pem).map_err(|e| bad(e.to_string()))
}

/// The keys of this process: the last [`KeySet`] read, shared by every request.
#[derive(Debug, Clone)]
pub struct KeyRing {
    sealer: Sealer,
    current: Arc<RwLock<Option<Arc<KeySet>>>>,
    last_miss_reload: Arc<Mutex<Option<Instant>>>,
}

impl KeyRing {
    /// A key ring opening keys with `sealer`.
    pub fn new(sealer: Sealer) -> Self {
        KeyRing {
            sealer,
            current: Arc::default(),
            last_miss_reload: Arc::default(),
        }
    }

    /// The sealer (to generate keys).
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// Forgets the keys read, so the next use reads them again (after a rotation here).
    pub fn invalidate(&self) {
        if let Ok(mut current) = self.current.write() {
            *current = None;
        }
    }

    /// The keys read within the bound before `now`, if any (no database access).
    pub fn fresh(&self, now: i64) -> Option<Arc<KeySet>> {
        let current = self.current.read().ok()?;
        current.as_ref().filter(|set| set.is_fresh(now)).cloned()
    }

    fn reload(&self, c: &mut DbConn, now: i64) -> Result<Arc<KeySet>, StoreError> {
        let rows = store::list_keys(c)?;
        let previous = self.current.read().ok().and_then(|set| set.clone());
        let set = Arc::new(KeySet::build(rows, previous.as_deref(), &self.sealer, now));
        if let Ok(mut current) = self.current.write() {
            *current = Some(set.clone());
        }
        Ok(set)
    }

    /// The keys, read on `c` only when the last read is older than the bound.
    pub fn current(&self, c: &mut DbConn, now: i64) -> Result<Arc<KeySet>, StoreError> {
        match self.fresh(now) {
            Some(set) => Ok(set),
            None => self.reload(c, now),
        }
    }

    /// Like [`KeyRing::current`], checking a connection out of `store` only to read.
    pub fn current_in(&self, store: &Store, now: i64) -> Result<Arc<KeySet>, StoreError> {
        match self.fresh(now) {
            Some(set) => Ok(set),
            None => store.read(|c| self.reload(c, now)),
        }
    }

    /// The keys to verify `token` with: read again first if it names an unknown `kid`
    /// (a key another instance has just created), at most every [`MISS_RELOAD_INTERVAL`].
    pub fn for_token(
        &self,
        c: &mut DbConn,
        token: &str,
        now: i64,
    ) -> Result<Arc<KeySet>, StoreError> {
        let set = self.current(c, now)?;
        if set.knows_kid_of(token) || !self.may_reload_on_miss() {
            return Ok(set);
        }
        self.reload(c, now)
    }

    fn may_reload_on_miss(&self) -> bool {
        let Ok(mut last) = self.last_miss_reload.lock() else {
            return false;
        };
        let now = Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < MISS_RELOAD_INTERVAL) {
            return false;
        }
        *last = Some(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::generate_key;

    fn sealer() -> Sealer {
        Sealer::new(&secrecy::SecretString::from("k".repeat(40)))
    }

    #[test]
    fn a_set_signs_with_its_active_keys_and_verifies_what_they_signed() {
        let sealer = sealer();
        let rows: Vec<KeyRow> = KeyAlg::ALL
            .iter()
            .map(|&alg| generate_key(&sealer, alg, 0).unwrap())
            .collect();
        let set = KeySet::build(rows, None, &sealer, 100);
        for &alg in KeyAlg::ALL {
            let key = set.active(alg).unwrap();
            let claims = serde_json::json!({"iss": "https://op", "sub": "s", "exp": 200});
            let token = key.sign("at+jwt", &claims).unwrap();
            let back: serde_json::Value =
                crate::crypto::verify(&set, &token, "https://op", Some("at+jwt"), 150).unwrap();
            assert_eq!(back["sub"], "s", "{alg:?}");
            assert!(set.knows_kid_of(&token));
        }
        let published: serde_json::Value = serde_json::from_str(&set.jwks()).unwrap();
        assert_eq!(published["keys"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn a_set_is_fresh_for_the_bound_and_until_a_retiring_key_ends() {
        let sealer = sealer();
        let mut old = generate_key(&sealer, KeyAlg::ES256, 0).unwrap();
        old.state = KeyState::Retiring;
        old.retire_at = Some(105);
        let new = generate_key(&sealer, KeyAlg::ES256, 1).unwrap();
        let set = KeySet::build(vec![new, old.clone()], None, &sealer, 100);
        assert!(set.is_fresh(104));
        assert!(
            !set.is_fresh(105),
            "the retiring key leaves the JWK Set at 105"
        );
        let set = KeySet::build(vec![old], None, &sealer, 200);
        assert!(set.is_fresh(200 + KEY_REFRESH_SECONDS - 1));
        assert!(!set.is_fresh(200 + KEY_REFRESH_SECONDS));
        assert!(!set.is_fresh(199), "a clock set back reads again");
    }

    #[test]
    fn parsed_keys_are_reused_across_reads() {
        let sealer = sealer();
        let row = generate_key(&sealer, KeyAlg::EdDSA, 0).unwrap();
        let first = KeySet::build(vec![row.clone()], None, &sealer, 0);
        // A sealer that cannot open the key: only reuse can produce it.
        let wrong = Sealer::new(&secrecy::SecretString::from("w".repeat(40)));
        let second = KeySet::build(vec![row], Some(&first), &wrong, 20);
        assert!(second.active(KeyAlg::EdDSA).is_ok());
    }
}
