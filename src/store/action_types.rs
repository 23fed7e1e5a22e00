//! Action types (RFC 9396 `authorization_details` types an admin registered): each
//! with the JSON Schema of its objects and the sensitive scope whose policy approves it;
//! and the versions of the approval rules (Cedar) evaluated over every request.

use diesel::prelude::*;

use super::schema::action_types;
use super::{DbConn, StoreError};
use crate::approval::hooks::HookFailure;

/// A row of `action_types`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize)]
#[diesel(table_name = action_types, treat_none_as_null = true)]
#[allow(missing_docs)]
pub struct ActionTypeRow {
    pub name: String,
    pub description: String,
    /// The JSON Schema, as registered.
    pub schema: String,
    /// The sensitive scope whose approval policy applies.
    pub policy_scope: String,
    /// Raised on every change (recorded with each approval).
    pub version: i32,
    pub created_at: i64,
    pub updated_at: i64,
    /// The decision endpoint asked about each entry of this type, if any.
    pub hook_url: Option<String>,
    /// How long the hook may take.
    pub hook_timeout_ms: i32,
    /// What a failed or late hook means.
    pub hook_failure: HookFailure,
}

/// Inserts an action type; `Conflict` when the name is taken.
pub fn insert_action_type(c: &mut DbConn, row: &ActionTypeRow) -> Result<(), StoreError> {
    diesel::insert_into(action_types::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// Rewrites an action type.
pub fn update_action_type(c: &mut DbConn, row: &ActionTypeRow) -> Result<(), StoreError> {
    let changed = diesel::update(action_types::table.find(&row.name))
        .set(row)
        .execute(c)?;
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// The action type of this name.
pub fn action_type(c: &mut DbConn, name: &str) -> Result<Option<ActionTypeRow>, StoreError> {
    Ok(action_types::table
        .find(name)
        .select(ActionTypeRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Every action type, by name.
pub fn list_action_types(c: &mut DbConn) -> Result<Vec<ActionTypeRow>, StoreError> {
    Ok(action_types::table
        .order(action_types::name)
        .select(ActionTypeRow::as_select())
        .load(c)?)
}

/// The names of the action types a scope's policy governs.
pub fn action_types_of_scope(c: &mut DbConn, scope: &str) -> Result<Vec<String>, StoreError> {
    Ok(action_types::table
        .filter(action_types::policy_scope.eq(scope))
        .order(action_types::name)
        .select(action_types::name)
        .load(c)?)
}

/// Removes an action type; `NotFound` when there is none.
pub fn delete_action_type(c: &mut DbConn, name: &str) -> Result<(), StoreError> {
    let removed = diesel::delete(action_types::table.find(name)).execute(c)?;
    if removed == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// The approval rules in force: `(version, policies)`, if any were ever set.
pub fn current_rules(c: &mut DbConn) -> Result<Option<(i32, String)>, StoreError> {
    use super::schema::approval_rules as t;
    Ok(t::table
        .order(t::version.desc())
        .select((t::version, t::policies))
        .get_result(c)
        .optional()?)
}

/// Stores a new version of the approval rules; `Conflict` when another writer took
/// the version first.
pub fn insert_rules(
    c: &mut DbConn,
    version: i32,
    policies: &str,
    now: i64,
) -> Result<(), StoreError> {
    use super::schema::approval_rules as t;
    diesel::insert_into(t::table)
        .values((
            t::version.eq(version),
            t::policies.eq(policies),
            t::created_at.eq(now),
        ))
        .execute(c)?;
    Ok(())
}
