//! Action types for RFC 9396 `authorization_details` (issue 20): an admin registers a
//! type with the JSON Schema its objects must satisfy and the sensitive scope whose
//! approval policy approves it. Every change raises the type's version and is audited
//! with before and after; an approval records the versions it was asked under.

use serde_json::json;

use super::{conflict, is_token, ManageError};
use crate::approval::hooks::HookFailure;
use crate::audit::{self, Actor, AuditAction};
use crate::oidc::rar::check_action_schema;
use crate::store::{self, ActionTypeRow, DbConn, Store};

/// An action type to add, or the fields to change (`None` keeps one).
#[derive(Debug, Clone, Default)]
pub struct ActionTypeChanges {
    /// What it is, for approvers and the discovery document.
    pub description: Option<String>,
    /// The JSON Schema (text) of its objects.
    pub schema: Option<String>,
    /// The sensitive scope whose approval policy applies.
    pub policy_scope: Option<String>,
    /// The decision hook: `Some(None)` removes it.
    pub hook_url: Option<Option<String>>,
    /// How long the hook may take, in milliseconds.
    pub hook_timeout_ms: Option<i32>,
    /// What a failed or late hook means.
    pub hook_failure: Option<HookFailure>,
}

/// Checks a whole row: a description, a valid schema, a sensitive policy scope.
fn check(c: &mut DbConn, row: &ActionTypeRow) -> Result<(), ManageError> {
    if !is_token(&row.name) {
        return Err(ManageError::Invalid(
            "an action type name is printable ASCII without spaces, quotes or backslashes".into(),
        ));
    }
    if row.description.trim().is_empty() {
        return Err(ManageError::Invalid(
            "an action type needs a --description".into(),
        ));
    }
    check_action_schema(&row.schema).map_err(ManageError::Invalid)?;
    match store::scope_by_name(c, &row.policy_scope)? {
        None => Err(ManageError::NotFound(format!(
            "no scope named {:?} (see `scope list`)",
            row.policy_scope
        ))),
        Some(scope) if !scope.sensitive => Err(ManageError::Invalid(format!(
            "--policy-scope {:?} is not sensitive: its policy approves nothing",
            scope.name
        ))),
        Some(_) => check_hook(row),
    }
}

/// A hook is an absolute http(s) URL without credentials or fragment, called with a
/// timeout of 1 ms to 30 s.
fn check_hook(row: &ActionTypeRow) -> Result<(), ManageError> {
    if !(1..=30_000).contains(&row.hook_timeout_ms) {
        return Err(ManageError::Invalid(
            "--hook-timeout must be between 1ms and 30s".into(),
        ));
    }
    let Some(url) = &row.hook_url else {
        return Ok(());
    };
    match url::Url::parse(url) {
        Ok(parsed)
            if super::https_or_loopback(&parsed)
                && parsed.host().is_some()
                && parsed.fragment().is_none()
                && parsed.password().is_none()
                && parsed.username().is_empty() =>
        {
            Ok(())
        }
        _ => Err(ManageError::Invalid(
            "--hook must be an https URL (http only to localhost) without credentials or fragment"
                .into(),
        )),
    }
}

/// An action type as the audit log and `action-type list --json` show it (a hook URL
/// without its query, where a token may be).
pub fn describe_action_type(row: &ActionTypeRow) -> serde_json::Value {
    let schema: serde_json::Value = serde_json::from_str(&row.schema).unwrap_or_default();
    // The hook URL may carry a token in its query: only its origin and path are logged.
    let hook = row.hook_url.as_deref().map(|u| {
        url::Url::parse(u).map_or_else(
            |_| "(not a URL)".to_owned(),
            |mut url| {
                url.set_query(None);
                url.to_string()
            },
        )
    });
    json!({"name": row.name, "description": row.description, "schema": schema,
        "policy_scope": row.policy_scope, "version": row.version, "hook": hook,
        "hook_timeout_ms": row.hook_timeout_ms, "hook_failure": row.hook_failure})
}

fn existing(c: &mut DbConn, name: &str) -> Result<ActionTypeRow, ManageError> {
    store::action_type(c, name)?
        .ok_or_else(|| ManageError::NotFound(format!("no action type named {name:?}")))
}

/// Registers an action type.
pub fn add_action_type(
    store: &Store,
    name: &str,
    changes: ActionTypeChanges,
    actor: &Actor,
    now: i64,
) -> Result<ActionTypeRow, ManageError> {
    let missing = |flag: &str| ManageError::Invalid(format!("an action type needs {flag}"));
    let row = ActionTypeRow {
        name: name.to_owned(),
        description: changes.description.unwrap_or_default().trim().to_owned(),
        schema: changes.schema.ok_or_else(|| missing("--schema"))?,
        policy_scope: changes
            .policy_scope
            .ok_or_else(|| missing("--policy-scope"))?,
        version: 1,
        created_at: now,
        updated_at: now,
        hook_url: changes.hook_url.flatten(),
        hook_timeout_ms: changes.hook_timeout_ms.unwrap_or(2000),
        hook_failure: changes.hook_failure.unwrap_or(HookFailure::Human),
    };
    store.write(|c| {
        check(c, &row)?;
        store::insert_action_type(c, &row)
            .map_err(conflict(format!("an action type named {name:?} exists")))?;
        audit::record(
            c,
            actor,
            AuditAction::ActionTypeCreated,
            &format!("action_type:{name}"),
            json!({"before": null, "after": describe_action_type(&row)}),
            now,
        )?;
        Ok(row.clone())
    })
}

/// Changes an action type (a new version).
pub fn update_action_type(
    store: &Store,
    name: &str,
    changes: ActionTypeChanges,
    actor: &Actor,
    now: i64,
) -> Result<ActionTypeRow, ManageError> {
    store.write(|c| {
        let before = existing(c, name)?;
        let after = ActionTypeRow {
            description: changes
                .description
                .clone()
                .map_or(before.description.clone(), |d| d.trim().to_owned()),
            schema: changes.schema.clone().unwrap_or(before.schema.clone()),
            policy_scope: changes
                .policy_scope
                .clone()
                .unwrap_or(before.policy_scope.clone()),
            hook_url: changes.hook_url.clone().unwrap_or(before.hook_url.clone()),
            hook_timeout_ms: changes.hook_timeout_ms.unwrap_or(before.hook_timeout_ms),
            hook_failure: changes.hook_failure.unwrap_or(before.hook_failure),
            version: before.version + 1,
            updated_at: now,
            ..before.clone()
        };
        check(c, &after)?;
        store::update_action_type(c, &after)?;
        audit::record(
            c,
            actor,
            AuditAction::ActionTypeUpdated,
            &format!("action_type:{name}"),
            json!({"before": describe_action_type(&before), "after": describe_action_type(&after)}),
            now,
        )?;
        Ok(after)
    })
}

/// Removes an action type: new requests may no longer use it (approvals already
/// made keep the details they were approved with).
pub fn remove_action_type(
    store: &Store,
    name: &str,
    actor: &Actor,
    now: i64,
) -> Result<(), ManageError> {
    store.write(|c| {
        let before = existing(c, name)?;
        store::delete_action_type(c, name)?;
        audit::record(
            c,
            actor,
            AuditAction::ActionTypeRemoved,
            &format!("action_type:{name}"),
            json!({"before": describe_action_type(&before), "after": null}),
            now,
        )?;
        Ok(())
    })
}

/// Every action type.
pub fn list_action_types(store: &Store) -> Result<Vec<ActionTypeRow>, ManageError> {
    Ok(store.read(store::list_action_types)?)
}
