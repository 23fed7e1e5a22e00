//! Browser sessions, stored by the SHA-256 of their id.

use diesel::prelude::*;

use super::schema::{sessions, users};
use super::{DbConn, StoreError, UserRow};
use crate::ids::UserId;

/// A row of `sessions`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
#[diesel(treat_none_as_default_value = false)]
#[allow(missing_docs)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: UserId,
    pub sid: String,
    pub auth_time: i64,
    pub amr: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_seen_at: i64,
}

/// Inserts a session.
pub fn insert_session(c: &mut DbConn, row: &SessionRow) -> Result<(), StoreError> {
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// The session with this id hash.
pub fn session_by_hash(c: &mut DbConn, id_hash: &str) -> Result<Option<SessionRow>, StoreError> {
    Ok(sessions::table
        .find(id_hash)
        .select(SessionRow::as_select())
        .get_result(c)
        .optional()?)
}

/// The session with this id hash and its user (none once removed), in one statement:
/// what every signed-in page reads first.
pub fn session_with_user(
    c: &mut DbConn,
    id_hash: &str,
) -> Result<Option<(SessionRow, Option<UserRow>)>, StoreError> {
    Ok(sessions::table
        .left_join(users::table.on(sessions::user_id.eq(users::id)))
        .filter(sessions::id_hash.eq(id_hash))
        .select((SessionRow::as_select(), Option::<UserRow>::as_select()))
        .get_result(c)
        .optional()?)
}

/// Records activity (for the idle timeout).
pub fn touch_session(c: &mut DbConn, id_hash: &str, now: i64) -> Result<(), StoreError> {
    diesel::update(sessions::table.find(id_hash))
        .set(sessions::last_seen_at.eq(now))
        .execute(c)?;
    Ok(())
}

/// Deletes a session; true when one was deleted.
pub fn delete_session(c: &mut DbConn, id_hash: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(sessions::table.find(id_hash)).execute(c)? == 1)
}

/// Deletes the sessions that ended before `now`.
pub fn delete_expired_sessions(c: &mut DbConn, now: i64) -> Result<usize, StoreError> {
    Ok(diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(c)?)
}

/// Deletes every session of a user; returns how many.
pub fn delete_user_sessions(c: &mut DbConn, user_id: &UserId) -> Result<usize, StoreError> {
    Ok(diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(c)?)
}
