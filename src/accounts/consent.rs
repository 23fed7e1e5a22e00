//! Remembered consent per user and client (OIDC Core §3.1.2.4): asked again when new
//! scopes are requested or the client sends `prompt=consent`.

use serde_json::json;

use crate::audit::{self, Actor, AuditAction};
use crate::ids::{ClientId, UserId};
use crate::store::{self, DbConn, StoreError};

/// True when every scope in `requested` was consented to before.
pub fn covers(
    c: &mut DbConn,
    user_id: &UserId,
    client_id: &ClientId,
    requested: &[String],
) -> Result<bool, StoreError> {
    let Some(granted) = store::consented_scopes(c, user_id, client_id)? else {
        return Ok(false);
    };
    let granted: Vec<&str> = granted.split_whitespace().collect();
    Ok(requested.iter().all(|s| granted.contains(&s.as_str())))
}

/// Remembers consent to `scopes` (added to what was consented before).
pub fn remember(
    c: &mut DbConn,
    user_id: &UserId,
    client_id: &ClientId,
    scopes: &[String],
    now: i64,
) -> Result<(), StoreError> {
    let mut all: Vec<String> = store::consented_scopes(c, user_id, client_id)?
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    for scope in scopes {
        if !all.contains(scope) {
            all.push(scope.clone());
        }
    }
    store::save_consent(c, user_id, client_id, &all.join(" "), now)?;
    audit::record(
        c,
        &Actor::User(user_id.clone()),
        AuditAction::ConsentGiven,
        &format!("client:{client_id}"),
        json!({"scope": scopes.join(" ")}),
        now,
    )?;
    Ok(())
}

/// Records that the user declined.
pub fn record_denial(
    c: &mut DbConn,
    user_id: &UserId,
    client_id: &ClientId,
    scopes: &[String],
    now: i64,
) -> Result<(), StoreError> {
    audit::record(
        c,
        &Actor::User(user_id.clone()),
        AuditAction::ConsentDenied,
        &format!("client:{client_id}"),
        json!({"scope": scopes.join(" ")}),
        now,
    )?;
    Ok(())
}
