//! Signing key lifecycle: created on first start, rotated on demand. The previous key
//! stays published (`retiring`) until every token it signed has expired.

use std::time::Duration;

use serde_json::json;

use super::AdminError;
use crate::audit::{self, Actor};
use crate::crypto::{self, KeyRing};
use crate::store::{self, KeyRow, Store};

/// Every key, newest first (retiring keys past their time are retired first).
pub fn list_keys(store: &Store, now: i64) -> Result<Vec<KeyRow>, AdminError> {
    store.write(|c| {
        store::retire_expired_keys(c, now)?;
        Ok(store::list_keys(c)?)
    })
}

/// Creates an active key when there is none; returns its kid when it did.
pub fn ensure_active_key(
    store: &Store,
    keys: &KeyRing,
    now: i64,
) -> Result<Option<String>, AdminError> {
    let exists = |rows: &[KeyRow]| rows.iter().any(|r| r.state == "active");
    if exists(&store.read(store::list_keys)?) {
        return Ok(None);
    }
    // Generate outside the transaction (it takes a while), insert only if still needed.
    let row = crypto::generate_key(keys.sealer(), now)
        .map_err(|e| AdminError::Internal(e.to_string()))?;
    store.write(|c| {
        if exists(&store::list_keys(c)?) {
            return Ok(None);
        }
        store::insert_key(c, &row)?;
        audit::record(
            c,
            &Actor::System,
            "key.created",
            &format!("key:{}", row.kid),
            json!({"alg": row.alg}),
            now,
        )?;
        Ok(Some(row.kid.clone()))
    })
}

/// Makes a new key active; the previous active key retires after `retire_after`.
pub fn rotate_keys(
    store: &Store,
    keys: &KeyRing,
    retire_after: Duration,
    actor: &Actor,
    now: i64,
) -> Result<KeyRow, AdminError> {
    let row = crypto::generate_key(keys.sealer(), now)
        .map_err(|e| AdminError::Internal(e.to_string()))?;
    let retire_at = now.saturating_add(i64::try_from(retire_after.as_secs()).unwrap_or(i64::MAX));
    store.write(|c| {
        let previous: Vec<String> = store::list_keys(c)?
            .into_iter()
            .filter(|k| k.state == "active")
            .map(|k| k.kid)
            .collect();
        store::set_key_states(c, "active", "retiring", Some(retire_at))?;
        store::insert_key(c, &row)?;
        let details = json!({"new": row.kid, "retiring": previous, "retire_at": retire_at});
        audit::record(
            c,
            actor,
            "key.rotated",
            &format!("key:{}", row.kid),
            details,
            now,
        )?;
        Ok(row.clone())
    })
}
