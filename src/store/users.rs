//! Users, groups and group membership.

use diesel::prelude::*;

use super::schema::{group_members, groups, users};
use super::{DbConn, StoreError};
use crate::ids::UserId;

/// A row of `users`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
#[allow(missing_docs)]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub name: Option<String>,
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub slack_user_id: Option<String>,
    pub teams_user_id: Option<String>,
    pub created_at: i64,
}

/// A row of `groups`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = groups)]
#[allow(missing_docs)]
pub struct GroupRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

/// Inserts a user; `Conflict` when the username is taken.
pub fn insert_user(c: &mut DbConn, row: &UserRow) -> Result<(), StoreError> {
    diesel::insert_into(users::table).values(row).execute(c)?;
    Ok(())
}

/// The user with this username.
pub fn user_by_username(c: &mut DbConn, username: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .get_result(c)
        .optional()?)
}

/// The user with this id (the OIDC `sub`).
pub fn user_by_id(c: &mut DbConn, id: &UserId) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Every user, by username.
pub fn list_users(c: &mut DbConn) -> Result<Vec<UserRow>, StoreError> {
    Ok(users::table
        .order(users::username.asc())
        .select(UserRow::as_select())
        .load(c)?)
}

/// Sets or clears `disabled`.
pub fn set_user_disabled(c: &mut DbConn, id: &UserId, disabled: bool) -> Result<(), StoreError> {
    diesel::update(users::table.find(id))
        .set(users::disabled.eq(disabled))
        .execute(c)?;
    Ok(())
}

/// Links (or with `None` unlinks) a user's Slack and Teams accounts; `Conflict` when
/// the chat account is already linked to someone else.
pub fn set_chat_ids(
    c: &mut DbConn,
    id: &UserId,
    slack: Option<&str>,
    teams: Option<&str>,
) -> Result<(), StoreError> {
    diesel::update(users::table.find(id))
        .set((
            users::slack_user_id.eq(slack),
            users::teams_user_id.eq(teams),
        ))
        .execute(c)?;
    Ok(())
}

/// The user linked to this Slack account.
pub fn user_by_slack_id(c: &mut DbConn, slack: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table
        .filter(users::slack_user_id.eq(slack))
        .select(UserRow::as_select())
        .get_result(c)
        .optional()?)
}

/// The user linked to this Teams (Entra object id) account.
pub fn user_by_teams_id(c: &mut DbConn, teams: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table
        .filter(users::teams_user_id.eq(teams.to_ascii_lowercase()))
        .select(UserRow::as_select())
        .get_result(c)
        .optional()?)
}

/// The Slack user ids of the enabled, linked members of a group, except `but`.
pub fn linked_slack_members(
    c: &mut DbConn,
    group: &str,
    but: &UserId,
) -> Result<Vec<String>, StoreError> {
    let ids: Vec<Option<String>> = users::table
        .inner_join(group_members::table.inner_join(groups::table))
        .filter(groups::name.eq(group))
        .filter(users::disabled.eq(false))
        .filter(users::id.ne(but))
        .filter(users::slack_user_id.is_not_null())
        .order(users::username.asc())
        .select(users::slack_user_id)
        .load(c)?;
    Ok(ids.into_iter().flatten().collect())
}

/// Replaces the password hash.
pub fn set_password_hash(c: &mut DbConn, id: &UserId, hash: &str) -> Result<(), StoreError> {
    diesel::update(users::table.find(id))
        .set(users::password_hash.eq(hash))
        .execute(c)?;
    Ok(())
}

/// Inserts a group; `Conflict` when the name is taken.
pub fn insert_group(c: &mut DbConn, row: &GroupRow) -> Result<(), StoreError> {
    diesel::insert_into(groups::table).values(row).execute(c)?;
    Ok(())
}

/// The group with this name.
pub fn group_by_name(c: &mut DbConn, name: &str) -> Result<Option<GroupRow>, StoreError> {
    Ok(groups::table
        .filter(groups::name.eq(name))
        .select(GroupRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Every group with the usernames of its members.
pub fn list_groups(c: &mut DbConn) -> Result<Vec<(GroupRow, Vec<String>)>, StoreError> {
    let all = groups::table
        .order(groups::name.asc())
        .select(GroupRow::as_select())
        .load(c)?;
    let pairs: Vec<(String, String)> = group_members::table
        .inner_join(users::table)
        .order(users::username.asc())
        .select((group_members::group_id, users::username))
        .load(c)?;
    Ok(all
        .into_iter()
        .map(|g| {
            let members = pairs
                .iter()
                .filter(|(gid, _)| *gid == g.id)
                .map(|(_, u)| u.clone())
                .collect();
            (g, members)
        })
        .collect())
}

/// Adds a member; `Conflict` when already a member.
pub fn add_member(c: &mut DbConn, group_id: &str, user_id: &UserId) -> Result<(), StoreError> {
    diesel::insert_into(group_members::table)
        .values((
            group_members::group_id.eq(group_id),
            group_members::user_id.eq(user_id),
        ))
        .execute(c)?;
    Ok(())
}

/// Removes a member; `NotFound` when not a member.
pub fn remove_member(c: &mut DbConn, group_id: &str, user_id: &UserId) -> Result<(), StoreError> {
    let removed = diesel::delete(
        group_members::table
            .filter(group_members::group_id.eq(group_id))
            .filter(group_members::user_id.eq(user_id)),
    )
    .execute(c)?;
    if removed == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// The names of the groups a user belongs to.
pub fn groups_of_user(c: &mut DbConn, user_id: &UserId) -> Result<Vec<String>, StoreError> {
    Ok(group_members::table
        .inner_join(groups::table)
        .filter(group_members::user_id.eq(user_id))
        .order(groups::name.asc())
        .select(groups::name)
        .load(c)?)
}
