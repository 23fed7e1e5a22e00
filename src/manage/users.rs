//! Users: add, list, disable, set a password.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::{conflict, ManageError};
use crate::audit::{self, Actor, AuditAction};
use crate::crypto;
use crate::ids::UserId;
use crate::store::{self, Store, UserRow};

/// A user to create.
#[derive(Debug)]
pub struct NewUser {
    /// Unique login name.
    pub username: String,
    /// Email address.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// Initial password (none: the user cannot log in until one is set).
    pub password: Option<SecretString>,
}

/// Minimum password length (NIST SP 800-63B §5.1.1; no composition rules).
pub const MIN_PASSWORD_LEN: usize = 8;

fn check_password(password: &SecretString) -> Result<(), ManageError> {
    let length = password.expose_secret().chars().count();
    if length < MIN_PASSWORD_LEN {
        return Err(ManageError::Invalid(format!(
            "password must be at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if length > 1024 {
        return Err(ManageError::Invalid(
            "password must be at most 1024 characters".into(),
        ));
    }
    Ok(())
}

fn check_username(username: &str) -> Result<(), ManageError> {
    let ok = !username.is_empty()
        && username.len() <= 64
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(ManageError::Invalid(format!(
            "username {username:?} must be 1-64 characters of letters, digits, '.', '_', '-' or '@'"
        )))
    }
}

fn check_email(email: &str) -> Result<(), ManageError> {
    let parts: Vec<&str> = email.split('@').collect();
    let ok = parts.len() == 2
        && parts.iter().all(|p| !p.is_empty())
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.len() <= 254;
    if ok {
        Ok(())
    } else {
        Err(ManageError::Invalid(format!(
            "{email:?} is not an email address"
        )))
    }
}

/// Creates a user (password hashed with argon2id).
pub fn add_user(
    store: &Store,
    new: NewUser,
    actor: &Actor,
    now: i64,
) -> Result<UserRow, ManageError> {
    check_username(&new.username)?;
    check_email(&new.email)?;
    let password_hash = match &new.password {
        Some(password) => {
            check_password(password)?;
            Some(
                crypto::hash_password(password.expose_secret())
                    .map_err(|e| ManageError::Internal(e.to_string()))?,
            )
        }
        None => None,
    };
    let row = UserRow {
        id: UserId::new(uuid::Uuid::new_v4().to_string()),
        username: new.username,
        email: new.email,
        name: new.name.filter(|n| !n.trim().is_empty()),
        password_hash,
        disabled: false,
        slack_user_id: None,
        teams_user_id: None,
        created_at: now,
    };
    store.write(|c| {
        store::insert_user(c, &row)
            .map_err(conflict(format!("user {:?} already exists", row.username)))?;
        let after =
            json!({"id": row.id, "username": row.username, "email": row.email, "name": row.name});
        audit::record(
            c,
            actor,
            AuditAction::UserCreated,
            &format!("user:{}", row.username),
            json!({"before": null, "after": after}),
            now,
        )?;
        Ok(row.clone())
    })
}

/// Every user.
pub fn list_users(store: &Store) -> Result<Vec<UserRow>, ManageError> {
    Ok(store.read(store::list_users)?)
}

/// Looks a user up by name, or says it does not exist.
pub(super) fn require_user(c: &mut store::DbConn, username: &str) -> Result<UserRow, ManageError> {
    store::user_by_username(c, username)?
        .ok_or_else(|| ManageError::NotFound(format!("no user named {username:?}")))
}

/// Disables a user: their sessions end and their grants are revoked at once.
pub fn disable_user(
    store: &Store,
    username: &str,
    actor: &Actor,
    now: i64,
) -> Result<(), ManageError> {
    store.write(|c| {
        let user = require_user(c, username)?;
        store::set_user_disabled(c, &user.id, true)?;
        let sessions = store::delete_user_sessions(c, &user.id)?;
        let grants = store::revoke_user_grants(c, &user.id, now)?;
        let details = json!({"before": {"disabled": user.disabled}, "after": {"disabled": true},
            "sessions_ended": sessions, "grants_revoked": grants});
        audit::record(
            c,
            actor,
            AuditAction::UserDisabled,
            &format!("user:{username}"),
            details,
            now,
        )?;
        Ok(())
    })
}

/// Removes all of a user's second factors (authenticator app, recovery codes, passkeys): the
/// recovery for an approver who lost them all (issue 18). Audited; ends nothing else.
pub fn reset_factors(
    store: &Store,
    username: &str,
    actor: &Actor,
    now: i64,
) -> Result<bool, ManageError> {
    store.write(|c| {
        let user = require_user(c, username)?;
        let passkeys = store::delete_passkeys_of(c, &user.id)?;
        let removed = store::delete_factors(c, &user.id)? || passkeys > 0;
        audit::record(
            c,
            actor,
            AuditAction::FactorsReset,
            &format!("user:{username}"),
            json!({"removed": removed, "passkeys": passkeys}),
            now,
        )?;
        Ok(removed)
    })
}

/// Sets a user's password.
pub fn set_password(
    store: &Store,
    username: &str,
    password: &SecretString,
    actor: &Actor,
    now: i64,
) -> Result<(), ManageError> {
    check_password(password)?;
    let hash = crypto::hash_password(password.expose_secret())
        .map_err(|e| ManageError::Internal(e.to_string()))?;
    store.write(|c| {
        let user = require_user(c, username)?;
        store::set_password_hash(c, &user.id, &hash)?;
        // Before/after say whether a password existed; never the password or its hash.
        let details = json!({"before": {"has_password": user.password_hash.is_some()},
            "after": {"has_password": true}});
        audit::record(
            c,
            actor,
            AuditAction::UserPasswordSet,
            &format!("user:{username}"),
            details,
            now,
        )?;
        Ok(())
    })
}

/// `(sub, display name)` for each of `ids` (unknown ids keep the id as name).
pub fn display_names(store: &Store, ids: &[String]) -> Result<Vec<(String, String)>, ManageError> {
    store.read(|c| {
        let mut names = Vec::new();
        for id in ids {
            let name = store::user_by_id(c, &UserId::new(id.as_str()))?
                .map(|u| u.name.unwrap_or(u.username))
                .unwrap_or_else(|| id.clone());
            names.push((id.clone(), name));
        }
        Ok(names)
    })
}
