//! Remembered consent per user and client (OIDC Core §3.1.2.4): asked again when new
//! scopes are requested or the client sends `prompt=consent`.

use serde_json::json;

use crate::audit::{self, Actor, AuditAction};
use crate::ids::{ClientId, UserId};
use crate::scope_set::ScopeSet;
use crate::store::{self, DbConn, StoreError};

/// True when every scope in `requested` was consented to before.
pub fn covers(
    c: &mut DbConn,
    user_id: &UserId,
    client_id: &ClientId,
    requested: &ScopeSet,
) -> Result<bool, StoreError> {
    let Some(granted) = store::consented_scopes(c, user_id, client_id)? else {
        return Ok(false);
    };
    Ok(requested.is_subset_of(&granted))
}

/// Remembers consent to `scopes` (added to what was consented before).
pub fn remember(
    c: &mut DbConn,
    user_id: &UserId,
    client_id: &ClientId,
    scopes: &ScopeSet,
    now: i64,
) -> Result<(), StoreError> {
    let all = store::consented_scopes(c, user_id, client_id)?
        .unwrap_or_default()
        .union(scopes);
    store::save_consent(c, user_id, client_id, &all, now)?;
    audit::record(
        c,
        &Actor::User(user_id.clone()),
        AuditAction::ConsentGiven,
        &format!("client:{client_id}"),
        json!({"scope": scopes}),
        now,
    )?;
    Ok(())
}

/// Records that the user declined.
pub fn record_denial(
    c: &mut DbConn,
    user_id: &UserId,
    client_id: &ClientId,
    scopes: &ScopeSet,
    now: i64,
) -> Result<(), StoreError> {
    audit::record(
        c,
        &Actor::User(user_id.clone()),
        AuditAction::ConsentDenied,
        &format!("client:{client_id}"),
        json!({"scope": scopes}),
        now,
    )?;
    Ok(())
}
