//! Scopes and their approval policies.

use diesel::prelude::*;

use super::schema::scopes;
use super::{DbConn, StoreError};

/// A row of `scopes`: description, claims and the approval policy (durations in seconds).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize)]
#[diesel(table_name = scopes)]
#[allow(missing_docs)]
pub struct ScopeRow {
    pub name: String,
    pub description: String,
    pub claims: String,
    pub builtin: bool,
    pub sensitive: bool,
    pub approver_groups: String,
    pub quorum: i32,
    pub pending_ttl: i64,
    pub access_duration: i64,
    pub require_justification: bool,
    pub approver_max_age: i64,
    pub allow_chat_decisions: bool,
    pub policy_version: i32,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Inserts a scope.
pub fn insert_scope(c: &mut DbConn, row: &ScopeRow) -> Result<(), StoreError> {
    diesel::insert_into(scopes::table).values(row).execute(c)?;
    Ok(())
}

/// Replaces every column of an existing scope.
pub fn update_scope(c: &mut DbConn, row: &ScopeRow) -> Result<(), StoreError> {
    match diesel::update(scopes::table.find(&row.name))
        .set(row)
        .execute(c)?
    {
        1 => Ok(()),
        _ => Err(StoreError::NotFound),
    }
}

/// The scope with this name.
pub fn scope_by_name(c: &mut DbConn, name: &str) -> Result<Option<ScopeRow>, StoreError> {
    Ok(scopes::table
        .find(name)
        .select(ScopeRow::as_select())
        .first(c)
        .optional()?)
}

/// Every scope, by name.
pub fn list_scopes(c: &mut DbConn) -> Result<Vec<ScopeRow>, StoreError> {
    Ok(scopes::table
        .order(scopes::name.asc())
        .select(ScopeRow::as_select())
        .load(c)?)
}
