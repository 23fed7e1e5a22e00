//! Groups and membership (approver groups are chosen by group).

use serde_json::json;

use super::users::require_user;
use super::{conflict, is_token, ManageError};
use crate::audit::{self, Actor, AuditAction};
use crate::store::{self, GroupRow, Store};

/// Looks a group up by name, or says it does not exist.
pub(super) fn require_group(c: &mut store::DbConn, name: &str) -> Result<GroupRow, ManageError> {
    store::group_by_name(c, name)?
        .ok_or_else(|| ManageError::NotFound(format!("no group named {name:?}")))
}

/// The usernames in a group (for before/after in the audit trail).
fn members(c: &mut store::DbConn, group_id: &str) -> Result<Vec<String>, ManageError> {
    Ok(store::list_groups(c)?
        .into_iter()
        .find(|(g, _)| g.id == group_id)
        .map(|(_, members)| members)
        .unwrap_or_default())
}

/// Creates a group.
pub fn add_group(
    store: &Store,
    name: &str,
    actor: &Actor,
    now: i64,
) -> Result<GroupRow, ManageError> {
    if !is_token(name) || name.contains(',') || name.contains(':') {
        return Err(ManageError::Invalid(format!(
            "group name {name:?} must be 1-128 printable characters without spaces, commas, colons, quotes or backslashes"
        )));
    }
    let row = GroupRow {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.into(),
        created_at: now,
    };
    store.write(|c| {
        store::insert_group(c, &row).map_err(conflict(format!("group {name:?} already exists")))?;
        audit::record(
            c,
            actor,
            AuditAction::GroupCreated,
            &format!("group:{name}"),
            json!({"before": null, "after": {"name": name}}),
            now,
        )?;
        Ok(row.clone())
    })
}

/// Adds a user to a group.
pub fn add_member(
    store: &Store,
    group: &str,
    username: &str,
    actor: &Actor,
    now: i64,
) -> Result<(), ManageError> {
    store.write(|c| {
        let group_row = require_group(c, group)?;
        let user = require_user(c, username)?;
        let before = members(c, &group_row.id)?;
        store::add_member(c, &group_row.id, &user.id).map_err(conflict(format!(
            "{username:?} is already a member of {group:?}"
        )))?;
        let details = json!({"user": username, "before": {"members": before},
            "after": {"members": members(c, &group_row.id)?}});
        audit::record(
            c,
            actor,
            AuditAction::GroupMemberAdded,
            &format!("group:{group}"),
            details,
            now,
        )?;
        Ok(())
    })
}

/// Removes a user from a group.
pub fn remove_member(
    store: &Store,
    group: &str,
    username: &str,
    actor: &Actor,
    now: i64,
) -> Result<(), ManageError> {
    store.write(|c| {
        let group_row = require_group(c, group)?;
        let user = require_user(c, username)?;
        let before = members(c, &group_row.id)?;
        store::remove_member(c, &group_row.id, &user.id).map_err(|e| match e {
            store::StoreError::NotFound => {
                ManageError::NotFound(format!("{username:?} is not a member of {group:?}"))
            }
            other => other.into(),
        })?;
        let details = json!({"user": username, "before": {"members": before},
            "after": {"members": members(c, &group_row.id)?}});
        audit::record(
            c,
            actor,
            AuditAction::GroupMemberRemoved,
            &format!("group:{group}"),
            details,
            now,
        )?;
        Ok(())
    })
}

/// Every group with its members' usernames.
pub fn list_groups(store: &Store) -> Result<Vec<(GroupRow, Vec<String>)>, ManageError> {
    Ok(store.read(store::list_groups)?)
}
