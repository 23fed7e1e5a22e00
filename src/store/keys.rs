//! Signing keys (private part encrypted at rest by the crypto module).

use diesel::prelude::*;

use super::schema::signing_keys;
use super::{DbConn, StoreError};
use crate::crypto::{KeyAlg, KeyEvent, KeyState};

/// A row of `signing_keys`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
#[allow(missing_docs)]
pub struct KeyRow {
    pub kid: String,
    pub alg: KeyAlg,
    pub private_pem: String,
    pub public_jwk: String,
    pub state: KeyState,
    pub created_at: i64,
    pub retire_at: Option<i64>,
}

/// Inserts a key.
pub fn insert_key(c: &mut DbConn, row: &KeyRow) -> Result<(), StoreError> {
    diesel::insert_into(signing_keys::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// Every key, newest first.
pub fn list_keys(c: &mut DbConn) -> Result<Vec<KeyRow>, StoreError> {
    Ok(signing_keys::table
        .order((signing_keys::created_at.desc(), signing_keys::kid.asc()))
        .select(KeyRow::as_select())
        .load(c)?)
}

/// Moves every active key to retiring, published until `retire_at` (a rotation).
pub fn retire_active_keys(c: &mut DbConn, retire_at: i64) -> Result<usize, StoreError> {
    let (from, event) = (KeyState::Active, KeyEvent::Rotate);
    let to = from.next(event).ok_or(StoreError::Conflict)?;
    Ok(
        diesel::update(signing_keys::table.filter(signing_keys::state.eq(from)))
            .set((
                signing_keys::state.eq(to),
                signing_keys::retire_at.eq(Some(retire_at)),
            ))
            .execute(c)?,
    )
}

/// Retires the retiring keys whose tokens have all expired by `now` (the sweep, every
/// 30 s on every instance: a cached statement, cached.rs).
pub fn retire_expired_keys(c: &mut DbConn, now: i64) -> Result<usize, StoreError> {
    Ok(RetireExpiredKeys {
        retired: KeyState::Retired.as_str(),
        retiring: KeyState::Retiring.as_str(),
        now,
    }
    .execute(c)?)
}

super::cached::cached_statement! {
    /// Moves the retiring keys past their `retire_at` to retired.
    RetireExpiredKeys<'a> = "UPDATE signing_keys SET state = " {
        retired: &'a str as diesel::sql_types::Text => " WHERE state = ",
        retiring: &'a str as diesel::sql_types::Text => " AND retire_at <= ",
        now: i64 as diesel::sql_types::BigInt => "",
    }
}
