//! Signing key lifecycle: one active key per algorithm (RS256, ES256, EdDSA), created
//! on first start, rotated on demand. A rotated key stays published (`retiring`) until
//! every token it signed has expired.

use std::time::Duration;

use serde_json::json;

use super::ManageError;
use crate::audit::{self, Actor, AuditAction};
use crate::crypto::{self, KeyAlg, KeyRing, KeyState};
use crate::store::{self, KeyRow, Store};

/// Every key, newest first (retiring keys past their time are retired first).
pub fn list_keys(store: &Store, now: i64) -> Result<Vec<KeyRow>, ManageError> {
    store.write(|c| {
        store::retire_expired_keys(c, now)?;
        Ok(store::list_keys(c)?)
    })
}

fn missing(rows: &[KeyRow]) -> Vec<KeyAlg> {
    KeyAlg::ALL
        .iter()
        .copied()
        .filter(|alg| {
            !rows
                .iter()
                .any(|r| r.state == KeyState::Active && r.alg == *alg)
        })
        .collect()
}

fn generate(keys: &KeyRing, algs: &[KeyAlg], now: i64) -> Result<Vec<KeyRow>, ManageError> {
    algs.iter()
        .map(|alg| {
            crypto::generate_key(keys.sealer(), *alg, now)
                .map_err(|e| ManageError::Internal(e.to_string()))
        })
        .collect()
}

/// Creates an active key for each algorithm that has none; returns the new kids.
pub fn ensure_active_key(
    store: &Store,
    keys: &KeyRing,
    now: i64,
) -> Result<Vec<String>, ManageError> {
    let needed = missing(&store.read(store::list_keys)?);
    if needed.is_empty() {
        return Ok(Vec::new());
    }
    // Generate outside the transaction (RSA takes a while), insert only what is still missing.
    let generated = generate(keys, &needed, now)?;
    let created = store.write(|c| -> Result<Vec<String>, ManageError> {
        // Instances starting together on a fresh database all find the keys missing.
        // Holding the audit head's lock before looking again lets one create them and
        // the others see them (PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes).
        store::lock_audit_head(c)?;
        let still = missing(&store::list_keys(c)?);
        let mut created = Vec::new();
        for row in generated.iter().filter(|r| still.contains(&r.alg)) {
            store::insert_key(c, row)?;
            audit::record(
                c,
                &Actor::System,
                AuditAction::KeyCreated,
                &format!("key:{}", row.kid),
                json!({"alg": row.alg.as_str()}),
                now,
            )?;
            created.push(row.kid.clone());
        }
        Ok(created)
    })?;
    keys.invalidate();
    Ok(created)
}

/// Makes a new key of every algorithm active; the previous ones retire after
/// `retire_after` (the longest lifetime of a token they signed).
pub fn rotate_keys(
    store: &Store,
    keys: &KeyRing,
    retire_after: Duration,
    actor: &Actor,
    now: i64,
) -> Result<Vec<KeyRow>, ManageError> {
    let generated = generate(keys, KeyAlg::ALL, now)?;
    let retire_at = now.saturating_add(i64::try_from(retire_after.as_secs()).unwrap_or(i64::MAX));
    let rotated = store.write(|c| -> Result<Vec<KeyRow>, ManageError> {
        let previous: Vec<String> = store::list_keys(c)?
            .into_iter()
            .filter(|k| k.state == KeyState::Active)
            .map(|k| k.kid)
            .collect();
        store::retire_active_keys(c, retire_at)?;
        for row in &generated {
            store::insert_key(c, row)?;
        }
        let new: Vec<&str> = generated.iter().map(|r| r.kid.as_str()).collect();
        let details = json!({"new": new, "retiring": previous, "retire_at": retire_at});
        audit::record(c, actor, AuditAction::KeyRotated, "keys", details, now)?;
        Ok(generated.clone())
    })?;
    // This instance signs with the new keys at once; others within KEY_REFRESH_SECONDS.
    keys.invalidate();
    Ok(rotated)
}
