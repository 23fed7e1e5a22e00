//! Passkeys and the WebAuthn ceremonies in flight (issue 18). A passkey row is one
//! credential record (WebAuthn L2 §6.1): webauthn-rs's serialised `Passkey`, whose
//! signature counter is rewritten after each assertion. A ceremony row holds
//! webauthn-rs's serialised state between the challenge and the answer, so any instance
//! may finish it, and it is consumed exactly once (WebAuthn L2 §13.4.3: a challenge
//! must not be accepted twice).

use diesel::prelude::*;

use super::schema::{passkeys, webauthn_ceremonies};
use super::{DbConn, StoreError};
use crate::ids::{ApprovalId, UserId};

/// A row of `passkeys`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = passkeys)]
#[allow(missing_docs)]
pub struct PasskeyRow {
    /// Base64url, as the browser names it.
    pub credential_id: String,
    pub user_id: UserId,
    /// The owner's name for it ("laptop").
    pub name: String,
    /// webauthn-rs's `Passkey` as JSON (public key and flags, no secret).
    pub passkey: String,
    /// The highest signature counter accepted.
    pub sign_count: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A row of `webauthn_ceremonies`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webauthn_ceremonies)]
#[allow(missing_docs)]
pub struct CeremonyRow {
    pub id: String,
    pub user_id: Option<UserId>,
    /// `register`, `approve`, `login` or `step-up`.
    pub purpose: String,
    pub approval_id: Option<ApprovalId>,
    /// SHA-256 of what the approver sees and approves (`approve` only).
    pub approval_digest: Option<String>,
    /// `approve` or `deny` (`approve` only).
    pub decision: Option<String>,
    pub comment: Option<String>,
    /// The name of the passkey being registered (`register` only).
    pub name: Option<String>,
    /// webauthn-rs's ceremony state as JSON.
    pub state: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// The user's passkeys, oldest first.
pub fn passkeys_of(c: &mut DbConn, user_id: &UserId) -> Result<Vec<PasskeyRow>, StoreError> {
    Ok(passkeys::table
        .filter(passkeys::user_id.eq(user_id))
        .order((passkeys::created_at.asc(), passkeys::credential_id.asc()))
        .select(PasskeyRow::as_select())
        .load(c)?)
}

/// The passkey with this credential id, whoever owns it.
pub fn passkey_by_id(
    c: &mut DbConn,
    credential_id: &str,
) -> Result<Option<PasskeyRow>, StoreError> {
    Ok(passkeys::table
        .find(credential_id)
        .select(PasskeyRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Stores a new passkey; `Conflict` if the credential is already registered.
pub fn insert_passkey(c: &mut DbConn, row: &PasskeyRow) -> Result<(), StoreError> {
    diesel::insert_into(passkeys::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// Rewrites a passkey after an assertion (its counter and backup flags) and when it
/// was used.
pub fn update_passkey(
    c: &mut DbConn,
    credential_id: &str,
    passkey: &str,
    used_at: i64,
) -> Result<(), StoreError> {
    diesel::update(passkeys::table.find(credential_id))
        .set((
            passkeys::passkey.eq(passkey),
            passkeys::last_used_at.eq(used_at),
        ))
        .execute(c)?;
    Ok(())
}

/// Accepts signature counter `count` for a passkey: raised only if `count` is higher
/// than any accepted before, or both are 0 (authenticators without a counter, most
/// synced passkeys, always send 0). False when it went back or stood still: a cloned
/// authenticator (WebAuthn L2 §6.1.1, §7.2 step 21). One compare-and-set, so two
/// assertions with one counter value cannot both pass.
pub fn advance_sign_count(
    c: &mut DbConn,
    credential_id: &str,
    count: i64,
) -> Result<bool, StoreError> {
    let passkey = passkeys::table.find(credential_id);
    let changed = match count {
        0 => diesel::update(passkey.filter(passkeys::sign_count.eq(0)))
            .set(passkeys::sign_count.eq(0))
            .execute(c)?,
        _ => diesel::update(passkey.filter(passkeys::sign_count.lt(count)))
            .set(passkeys::sign_count.eq(count))
            .execute(c)?,
    };
    Ok(changed == 1)
}

/// Removes one of the user's passkeys; false if they have none by that id.
pub fn delete_passkey(
    c: &mut DbConn,
    user_id: &UserId,
    credential_id: &str,
) -> Result<bool, StoreError> {
    let removed = diesel::delete(
        passkeys::table
            .find(credential_id)
            .filter(passkeys::user_id.eq(user_id)),
    )
    .execute(c)?;
    Ok(removed == 1)
}

/// Removes all of the user's passkeys; how many there were.
pub fn delete_passkeys_of(c: &mut DbConn, user_id: &UserId) -> Result<usize, StoreError> {
    Ok(diesel::delete(passkeys::table.filter(passkeys::user_id.eq(user_id))).execute(c)?)
}

/// Stores a ceremony, first dropping those that expired before `now` (used or not:
/// an expired state can never be finished).
pub fn insert_ceremony(c: &mut DbConn, row: &CeremonyRow, now: i64) -> Result<(), StoreError> {
    diesel::delete(webauthn_ceremonies::table.filter(webauthn_ceremonies::expires_at.lt(now)))
        .execute(c)?;
    diesel::insert_into(webauthn_ceremonies::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// Consumes `user_id`'s ceremony `id` of `purpose` if it is unused and unexpired, and
/// returns it; `None` if it is unknown, someone else's, used, expired or of another
/// purpose (so nobody can spend another's ceremony). The compare-and-set
/// on `used_at` makes two concurrent answers to one challenge have one winner.
pub fn consume_ceremony(
    c: &mut DbConn,
    id: &str,
    purpose: &str,
    user_id: &UserId,
    now: i64,
) -> Result<Option<CeremonyRow>, StoreError> {
    let changed = diesel::update(
        webauthn_ceremonies::table
            .find(id)
            .filter(webauthn_ceremonies::purpose.eq(purpose))
            .filter(webauthn_ceremonies::user_id.eq(user_id))
            .filter(webauthn_ceremonies::used_at.is_null())
            .filter(webauthn_ceremonies::expires_at.gt(now)),
    )
    .set(webauthn_ceremonies::used_at.eq(now))
    .execute(c)?;
    consumed(c, id, changed)
}

/// Consumes the sign-in ceremony `id` (`login`, which belongs to nobody until the
/// passkey says who it is), when unused and unexpired.
pub fn consume_sign_in_ceremony(
    c: &mut DbConn,
    id: &str,
    now: i64,
) -> Result<Option<CeremonyRow>, StoreError> {
    let changed = diesel::update(
        webauthn_ceremonies::table
            .find(id)
            .filter(webauthn_ceremonies::purpose.eq("login"))
            .filter(webauthn_ceremonies::user_id.is_null())
            .filter(webauthn_ceremonies::used_at.is_null())
            .filter(webauthn_ceremonies::expires_at.gt(now)),
    )
    .set(webauthn_ceremonies::used_at.eq(now))
    .execute(c)?;
    consumed(c, id, changed)
}

fn consumed(c: &mut DbConn, id: &str, changed: usize) -> Result<Option<CeremonyRow>, StoreError> {
    if changed != 1 {
        return Ok(None);
    }
    Ok(webauthn_ceremonies::table
        .find(id)
        .select(CeremonyRow::as_select())
        .get_result(c)
        .optional()?)
}
