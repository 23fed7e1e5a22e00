//! Upstream OpenID Connect providers (issue 22): their registrations, the links from an
//! upstream `iss` + `sub` to a local user (OIDC Core §2: `sub` is unique only within
//! its issuer, so the pair is the key), and the logins in flight (single use).

use diesel::prelude::*;

use super::schema::{upstream_links, upstream_logins, upstream_sessions, upstreams};
use super::{DbConn, StoreError};
use crate::ids::UserId;

/// A row of `upstreams`; `client_secret` is sealed.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = upstreams)]
#[allow(missing_docs)]
pub struct UpstreamRow {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub scope: String,
    pub groups_claim: Option<String>,
    pub group_map: String,
    pub created_at: i64,
}

/// A row of `upstream_logins`: one redirect to an upstream, waiting for its callback.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = upstream_logins)]
#[allow(missing_docs)]
pub struct UpstreamLoginRow {
    pub state_hash: String,
    pub upstream: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub request_id: Option<String>,
    pub return_to: Option<String>,
    pub expires_at: i64,
}

/// Registers an upstream; `Conflict` when the name is taken.
pub fn insert_upstream(c: &mut DbConn, row: &UpstreamRow) -> Result<(), StoreError> {
    diesel::insert_into(upstreams::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// The upstream called `name`.
pub fn upstream_by_name(c: &mut DbConn, name: &str) -> Result<Option<UpstreamRow>, StoreError> {
    Ok(upstreams::table
        .find(name)
        .select(UpstreamRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Every upstream, by name.
pub fn list_upstreams(c: &mut DbConn) -> Result<Vec<UpstreamRow>, StoreError> {
    Ok(upstreams::table
        .order(upstreams::name.asc())
        .select(UpstreamRow::as_select())
        .load(c)?)
}

/// Removes an upstream (its logins in flight go with it; links stay, keyed by issuer).
pub fn delete_upstream(c: &mut DbConn, name: &str) -> Result<(), StoreError> {
    diesel::delete(upstream_logins::table.filter(upstream_logins::upstream.eq(name))).execute(c)?;
    match diesel::delete(upstreams::table.find(name)).execute(c)? {
        1 => Ok(()),
        _ => Err(StoreError::NotFound),
    }
}

/// The local user linked to `(issuer, subject)`.
pub fn linked_user(
    c: &mut DbConn,
    issuer: &str,
    subject: &str,
) -> Result<Option<UserId>, StoreError> {
    Ok(upstream_links::table
        .find((issuer, subject))
        .select(upstream_links::user_id)
        .first::<String>(c)
        .optional()?
        .map(UserId::new))
}

/// Whether `user_id` is linked to any upstream identity (such a user signs in
/// through their provider, which decides whether they still may).
pub fn has_upstream_link(c: &mut DbConn, user_id: &UserId) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(
        upstream_links::table.filter(upstream_links::user_id.eq(user_id)),
    ))
    .get_result(c)?)
}

/// Links `(issuer, subject)` to a local user; `Conflict` when it is already linked.
pub fn insert_link(
    c: &mut DbConn,
    issuer: &str,
    subject: &str,
    user_id: &UserId,
    upstream: &str,
    now: i64,
) -> Result<(), StoreError> {
    diesel::insert_into(upstream_links::table)
        .values((
            upstream_links::issuer.eq(issuer),
            upstream_links::subject.eq(subject),
            upstream_links::user_id.eq(user_id),
            upstream_links::upstream.eq(upstream),
            upstream_links::created_at.eq(now),
        ))
        .execute(c)?;
    Ok(())
}

/// Records a login in flight, clearing the ones that expired.
pub fn insert_upstream_login(
    c: &mut DbConn,
    row: &UpstreamLoginRow,
    now: i64,
) -> Result<(), StoreError> {
    diesel::delete(upstream_logins::table.filter(upstream_logins::expires_at.le(now)))
        .execute(c)?;
    diesel::insert_into(upstream_logins::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// Takes the login in flight behind `state_hash`: it is deleted whatever its age, and
/// returned only when this call deleted it (two callbacks racing: one wins) and it has
/// not expired.
pub fn take_upstream_login(
    c: &mut DbConn,
    state_hash: &str,
    now: i64,
) -> Result<Option<UpstreamLoginRow>, StoreError> {
    let key = upstream_logins::table.find(state_hash);
    let Some(row) = key
        .select(UpstreamLoginRow::as_select())
        .get_result(c)
        .optional()?
    else {
        return Ok(None);
    };
    let deleted = diesel::delete(key).execute(c)?;
    Ok((deleted == 1 && row.expires_at > now).then_some(row))
}

/// Remembers that a session was started through `upstream`, with its ID token.
pub fn insert_upstream_session(
    c: &mut DbConn,
    session_hash: &str,
    upstream: &str,
    id_token: &str,
) -> Result<(), StoreError> {
    diesel::insert_into(upstream_sessions::table)
        .values((
            upstream_sessions::session_hash.eq(session_hash),
            upstream_sessions::upstream.eq(upstream),
            upstream_sessions::id_token.eq(id_token),
        ))
        .execute(c)?;
    Ok(())
}

/// Moves the upstream sign-in record of a session whose id changed.
pub fn move_upstream_session(c: &mut DbConn, from: &str, to: &str) -> Result<(), StoreError> {
    diesel::update(upstream_sessions::table.find(from))
        .set(upstream_sessions::session_hash.eq(to))
        .execute(c)?;
    Ok(())
}

/// `(upstream, id_token)` of a session started through an upstream.
pub fn upstream_session(
    c: &mut DbConn,
    session_hash: &str,
) -> Result<Option<(String, String)>, StoreError> {
    Ok(upstream_sessions::table
        .find(session_hash)
        .select((upstream_sessions::upstream, upstream_sessions::id_token))
        .get_result(c)
        .optional()?)
}
