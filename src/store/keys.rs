//! Signing keys (private part encrypted at rest by the crypto module).

use diesel::prelude::*;

use super::schema::signing_keys;
use super::{DbConn, StoreError};

/// A row of `signing_keys`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
#[allow(missing_docs)]
pub struct KeyRow {
    pub kid: String,
    pub alg: String,
    pub private_pem: String,
    pub public_jwk: String,
    pub state: String,
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

/// Moves every key in `from` to `to`, setting `retire_at` when given.
pub fn set_key_states(
    c: &mut DbConn,
    from: &str,
    to: &str,
    retire_at: Option<i64>,
) -> Result<usize, StoreError> {
    Ok(
        diesel::update(signing_keys::table.filter(signing_keys::state.eq(from)))
            .set((
                signing_keys::state.eq(to),
                signing_keys::retire_at.eq(retire_at),
            ))
            .execute(c)?,
    )
}

/// Retires the retiring keys whose tokens have all expired by `now`.
pub fn retire_expired_keys(c: &mut DbConn, now: i64) -> Result<usize, StoreError> {
    Ok(diesel::update(
        signing_keys::table
            .filter(signing_keys::state.eq("retiring"))
            .filter(signing_keys::retire_at.le(now)),
    )
    .set(signing_keys::state.eq("retired"))
    .execute(c)?)
}
