//! Grants (the family behind tokens), authorization codes and refresh tokens. Codes
//! and refresh tokens are stored only as SHA-256 hashes.

use diesel::prelude::*;

use super::schema::{authorization_codes, grants, refresh_tokens, users};
use super::{DbConn, StoreError, UserRow};
use crate::ids::{ApprovalId, ClientId, GrantId, UserId};
use crate::scope_set::ScopeSet;

/// A row of `grants`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = grants)]
#[diesel(treat_none_as_default_value = false)]
#[allow(missing_docs)]
pub struct GrantRow {
    pub id: GrantId,
    pub user_id: Option<UserId>,
    pub client_id: ClientId,
    pub scopes: ScopeSet,
    pub approval_id: Option<ApprovalId>,
    pub auth_time: Option<i64>,
    pub sid: Option<String>,
    pub amr: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A row of `authorization_codes`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = authorization_codes)]
#[diesel(treat_none_as_default_value = false)]
#[allow(missing_docs)]
pub struct CodeRow {
    pub code_hash: String,
    pub grant_id: GrantId,
    pub client_id: ClientId,
    pub redirect_uri: String,
    pub redirect_uri_sent: bool,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// A row of `refresh_tokens`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
#[diesel(treat_none_as_default_value = false)]
#[allow(missing_docs)]
pub struct RefreshRow {
    pub token_hash: String,
    pub grant_id: GrantId,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Inserts a grant.
pub fn insert_grant(c: &mut DbConn, row: &GrantRow) -> Result<(), StoreError> {
    diesel::insert_into(grants::table).values(row).execute(c)?;
    Ok(())
}

/// The grant with this id.
pub fn grant_by_id(c: &mut DbConn, id: &GrantId) -> Result<Option<GrantRow>, StoreError> {
    Ok(grants::table
        .find(id)
        .select(GrantRow::as_select())
        .get_result(c)
        .optional()?)
}

/// A grant and its user (none for a machine grant, or once the user is removed) in one
/// statement: what verifying an access token reads at userinfo and introspection.
pub fn grant_with_user(
    c: &mut DbConn,
    id: &GrantId,
) -> Result<Option<(GrantRow, Option<UserRow>)>, StoreError> {
    Ok(grants::table
        .left_join(users::table.on(grants::user_id.eq(users::id.nullable())))
        .filter(grants::id.eq(id))
        .select((GrantRow::as_select(), Option::<UserRow>::as_select()))
        .get_result(c)
        .optional()?)
}

/// Revokes a grant and every refresh token of it; true when it was live.
pub fn revoke_grant(c: &mut DbConn, id: &GrantId, now: i64) -> Result<bool, StoreError> {
    let changed = diesel::update(grants::table.find(id).filter(grants::revoked_at.is_null()))
        .set(grants::revoked_at.eq(now))
        .execute(c)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::grant_id.eq(id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(c)?;
    Ok(changed == 1)
}

/// Inserts an authorization code.
pub fn insert_code(c: &mut DbConn, row: &CodeRow) -> Result<(), StoreError> {
    diesel::insert_into(authorization_codes::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// The code with this hash.
pub fn code_by_hash(c: &mut DbConn, code_hash: &str) -> Result<Option<CodeRow>, StoreError> {
    Ok(authorization_codes::table
        .find(code_hash)
        .select(CodeRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Marks a code used; false when it already was (a concurrent redemption won).
pub fn mark_code_used(c: &mut DbConn, code_hash: &str, now: i64) -> Result<bool, StoreError> {
    let changed = MarkCodeUsed { now, code_hash }.execute(c)?;
    Ok(changed == 1)
}

super::cached::cached_statement! {
    /// The compare-and-swap that redeems a code, once per code exchange (cached.rs).
    MarkCodeUsed<'a> = "UPDATE authorization_codes SET used_at = " {
        now: i64 as diesel::sql_types::BigInt => " WHERE code_hash = ",
        code_hash: &'a str as diesel::sql_types::Text => " AND used_at IS NULL",
    }
}

/// Inserts a refresh token.
pub fn insert_refresh(c: &mut DbConn, row: &RefreshRow) -> Result<(), StoreError> {
    diesel::insert_into(refresh_tokens::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// The refresh token with this hash.
pub fn refresh_by_hash(c: &mut DbConn, token_hash: &str) -> Result<Option<RefreshRow>, StoreError> {
    Ok(refresh_tokens::table
        .find(token_hash)
        .select(RefreshRow::as_select())
        .get_result(c)
        .optional()?)
}

/// The client a refresh token (given in clear) was issued to, if the token exists;
/// its grant's row is locked for the rest of the transaction first. Every path that
/// changes a grant's refresh tokens (rotation, reuse revocation) takes the grant's lock
/// before any refresh token's, so concurrent refreshes queue instead of deadlocking.
/// On PostgreSQL one `SELECT … FOR UPDATE OF grants` reads and locks (the grant row
/// only: locking the refresh token too, in no set order, would break that rule). On
/// SQLite the write transaction already holds the database's write lock.
pub fn lock_refresh_grant(c: &mut DbConn, token: &str) -> Result<Option<ClientId>, StoreError> {
    let token_hash = crate::crypto::sha256_hex(token.as_bytes());
    if let DbConn::Pg(pg) = c {
        return Ok(LockRefreshGrantPg {
            token_hash: &token_hash,
        }
        .get_result(pg)
        .optional()?);
    }
    Ok(refresh_tokens::table
        .inner_join(grants::table)
        .filter(refresh_tokens::token_hash.eq(&token_hash))
        .select(grants::client_id)
        .get_result(c)
        .optional()?)
}

super::cached::cached_statement! {
    /// PostgreSQL: finds a refresh token's grant and locks its row (cached.rs).
    LockRefreshGrantPg<'a> -> diesel::sql_types::Text =
        "SELECT grants.client_id FROM refresh_tokens \
        INNER JOIN grants ON grants.id = refresh_tokens.grant_id \
        WHERE refresh_tokens.token_hash = " {
        token_hash: &'a str as diesel::sql_types::Text => " FOR UPDATE OF grants",
    }
}

/// Marks a refresh token used (rotated); false when it already was.
pub fn mark_refresh_used(c: &mut DbConn, token_hash: &str, now: i64) -> Result<bool, StoreError> {
    let changed = MarkRefreshUsed { now, token_hash }.execute(c)?;
    Ok(changed == 1)
}

super::cached::cached_statement! {
    /// The compare-and-swap that rotates a refresh token, once per refresh (cached.rs).
    MarkRefreshUsed<'a> = "UPDATE refresh_tokens SET used_at = " {
        now: i64 as diesel::sql_types::BigInt => " WHERE token_hash = ",
        token_hash: &'a str as diesel::sql_types::Text => " AND used_at IS NULL",
    }
}

/// Revokes every live grant of a user (and their refresh tokens); returns how many.
pub fn revoke_user_grants(c: &mut DbConn, user_id: &UserId, now: i64) -> Result<usize, StoreError> {
    let ids: Vec<GrantId> = grants::table
        .filter(grants::user_id.eq(user_id))
        .filter(grants::revoked_at.is_null())
        .select(grants::id)
        .load(c)?;
    for id in &ids {
        revoke_grant(c, id, now)?;
    }
    Ok(ids.len())
}
