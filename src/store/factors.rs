//! Approvers' second factors (issue 18): TOTP credentials, one per user, whose secret is
//! sealed with the secret key and whose last accepted time step only moves forward (so
//! a code is accepted once, RFC 6238 §5.2); and recovery codes, stored as SHA-256
//! hashes, each usable once.

use diesel::prelude::*;

use super::schema::{recovery_codes, totp_credentials};
use super::{DbConn, StoreError};
use crate::ids::UserId;

/// A row of `totp_credentials`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = totp_credentials)]
#[allow(missing_docs)]
pub struct TotpRow {
    pub user_id: UserId,
    /// Sealed (`crypto::Sealer`), never the plain secret.
    pub secret: String,
    /// Unset while enrolment waits for the first code.
    pub confirmed_at: Option<i64>,
    pub last_step: i64,
    pub created_at: i64,
}

/// The user's TOTP credential, confirmed or not.
pub fn totp_of(c: &mut DbConn, user_id: &UserId) -> Result<Option<TotpRow>, StoreError> {
    Ok(totp_credentials::table
        .find(user_id)
        .select(TotpRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Stores a new, unconfirmed credential in place of an unconfirmed one.
pub fn replace_pending_totp(c: &mut DbConn, row: &TotpRow) -> Result<(), StoreError> {
    diesel::delete(
        totp_credentials::table
            .find(&row.user_id)
            .filter(totp_credentials::confirmed_at.is_null()),
    )
    .execute(c)?;
    diesel::insert_into(totp_credentials::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// Marks the credential confirmed at `at`.
pub fn confirm_totp(c: &mut DbConn, user_id: &UserId, at: i64) -> Result<(), StoreError> {
    diesel::update(totp_credentials::table.find(user_id))
        .set(totp_credentials::confirmed_at.eq(at))
        .execute(c)?;
    Ok(())
}

/// Accepts time step `step` for this user if no later or equal step was accepted
/// before; false when it was (a replayed code).
pub fn consume_totp_step(c: &mut DbConn, user_id: &UserId, step: i64) -> Result<bool, StoreError> {
    let changed = diesel::update(
        totp_credentials::table
            .find(user_id)
            .filter(totp_credentials::last_step.lt(step)),
    )
    .set(totp_credentials::last_step.eq(step))
    .execute(c)?;
    Ok(changed == 1)
}

/// Removes the user's TOTP credential and recovery codes; true if there was one.
pub fn delete_factors(c: &mut DbConn, user_id: &UserId) -> Result<bool, StoreError> {
    let removed = diesel::delete(totp_credentials::table.find(user_id)).execute(c)?;
    let codes = diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(c)?;
    Ok(removed + codes > 0)
}

/// Replaces the user's recovery codes by these hashes.
pub fn replace_recovery_codes(
    c: &mut DbConn,
    user_id: &UserId,
    hashes: &[String],
) -> Result<(), StoreError> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(c)?;
    // One statement per code: the multi-backend connection has no batch insert.
    for hash in hashes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::user_id.eq(user_id),
                recovery_codes::code_hash.eq(hash),
            ))
            .execute(c)?;
    }
    Ok(())
}

/// Uses the recovery code with this hash; false when it does not exist or was used.
pub fn use_recovery_code(
    c: &mut DbConn,
    user_id: &UserId,
    hash: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let changed = diesel::update(
        recovery_codes::table
            .find((user_id, hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(now))
    .execute(c)?;
    Ok(changed == 1)
}

/// How many unused recovery codes the user has left.
pub fn unused_recovery_codes(c: &mut DbConn, user_id: &UserId) -> Result<i64, StoreError> {
    Ok(recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(c)?)
}
