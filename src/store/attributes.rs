//! Custom user attributes (issue 22): name → text value per user, released as claims by
//! the scopes that name them.

use std::collections::BTreeMap;

use diesel::prelude::*;

use super::schema::user_attributes;
use super::{DbConn, StoreError};
use crate::ids::UserId;

/// The user's attributes, by name.
pub fn user_attributes(
    c: &mut DbConn,
    user_id: &UserId,
) -> Result<BTreeMap<String, String>, StoreError> {
    let rows: Vec<(String, String)> = user_attributes::table
        .filter(user_attributes::user_id.eq(user_id))
        .select((user_attributes::name, user_attributes::value))
        .load(c)?;
    Ok(rows.into_iter().collect())
}

/// Sets (or replaces) one attribute; returns the value it had.
pub fn set_user_attribute(
    c: &mut DbConn,
    user_id: &UserId,
    name: &str,
    value: &str,
) -> Result<Option<String>, StoreError> {
    let before = remove_user_attribute(c, user_id, name)?;
    diesel::insert_into(user_attributes::table)
        .values((
            user_attributes::user_id.eq(user_id),
            user_attributes::name.eq(name),
            user_attributes::value.eq(value),
        ))
        .execute(c)?;
    Ok(before)
}

/// Removes one attribute; returns the value it had.
pub fn remove_user_attribute(
    c: &mut DbConn,
    user_id: &UserId,
    name: &str,
) -> Result<Option<String>, StoreError> {
    let key = user_attributes::table.find((user_id, name));
    let before: Option<String> = key
        .select(user_attributes::value)
        .get_result(c)
        .optional()?;
    diesel::delete(key).execute(c)?;
    Ok(before)
}

/// Every user's attributes, by user id, in one query (the admin console's users page).
pub fn all_user_attributes(
    c: &mut DbConn,
) -> Result<BTreeMap<UserId, Vec<(String, String)>>, StoreError> {
    let rows: Vec<(UserId, String, String)> = user_attributes::table
        .order((user_attributes::user_id, user_attributes::name))
        .select((
            user_attributes::user_id,
            user_attributes::name,
            user_attributes::value,
        ))
        .load(c)?;
    let mut all: BTreeMap<UserId, Vec<(String, String)>> = BTreeMap::new();
    for (user_id, name, value) in rows {
        all.entry(user_id).or_default().push((name, value));
    }
    Ok(all)
}
