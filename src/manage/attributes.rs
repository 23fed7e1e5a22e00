//! Custom user attributes (issue 22): `user set-attr` / `user unset-attr`, released as
//! claims by the scopes whose `--claims` name them. Names never shadow a protocol or
//! profile claim, nor `groups`; each change is audited with before and after.

use serde_json::json;

use super::users::require_user;
use super::{is_token, ManageError};
use crate::audit::{self, Actor, AuditAction};
use crate::oidc::claims::{PROFILE_CLAIMS, PROTOCOL_CLAIMS};
use crate::store::{self, Store};

/// The longest attribute value accepted.
const MAX_VALUE: usize = 1024;

fn check_name(name: &str) -> Result<(), ManageError> {
    if !is_token(name) {
        return Err(ManageError::Invalid(format!(
            "attribute name {name:?} must be printable ASCII without spaces, quotes or backslashes"
        )));
    }
    let reserved = PROTOCOL_CLAIMS.contains(&name) || PROFILE_CLAIMS.contains(&name);
    if reserved || name == "groups" {
        return Err(ManageError::Invalid(format!(
            "{name:?} is a claim countersign fills itself; choose another attribute name"
        )));
    }
    Ok(())
}

/// Sets a user's attribute `name` to `value` (replacing it).
pub fn set_attribute(
    store: &Store,
    username: &str,
    name: &str,
    value: &str,
    actor: &Actor,
    now: i64,
) -> Result<(), ManageError> {
    check_name(name)?;
    if value.len() > MAX_VALUE || value.chars().any(char::is_control) {
        return Err(ManageError::Invalid(format!(
            "an attribute value is at most {MAX_VALUE} bytes of text without control characters"
        )));
    }
    store.write(|c| {
        let user = require_user(c, username)?;
        let before = store::set_user_attribute(c, &user.id, name, value)?;
        audit::record(
            c,
            actor,
            AuditAction::UserAttributeSet,
            &format!("user:{username}"),
            json!({"name": name, "before": before, "after": value}),
            now,
        )?;
        Ok(())
    })
}

/// Removes a user's attribute `name`; false when it was not set.
pub fn remove_attribute(
    store: &Store,
    username: &str,
    name: &str,
    actor: &Actor,
    now: i64,
) -> Result<bool, ManageError> {
    store.write(|c| {
        let user = require_user(c, username)?;
        let before = store::remove_user_attribute(c, &user.id, name)?;
        if before.is_some() {
            audit::record(
                c,
                actor,
                AuditAction::UserAttributeSet,
                &format!("user:{username}"),
                json!({"name": name, "before": before, "after": null}),
                now,
            )?;
        }
        Ok(before.is_some())
    })
}

/// Every user's attributes, by user id (the admin console's users page).
pub fn all_attributes(
    store: &Store,
) -> Result<std::collections::BTreeMap<crate::ids::UserId, Vec<(String, String)>>, ManageError> {
    Ok(store.read(store::all_user_attributes)?)
}
