//! Browser sessions. The cookie holds 256 random bits; the database keeps only their
//! SHA-256, so a database leak does not hand out sessions. Sessions end after an idle
//! timeout and an absolute timeout, whichever comes first.

use crate::crypto;
use crate::ids::{SessionToken, UserId};
use crate::store::{self, DbConn, SessionRow, StoreError, UserRow};

/// How long sessions live (seconds).
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Ends after this long without activity.
    pub idle: i64,
    /// Ends this long after login.
    pub absolute: i64,
}

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct Session {
    /// SHA-256 of the cookie value.
    pub id_hash: String,
    /// The signed-in user.
    pub user: UserRow,
    /// Session id shared with clients (`sid` claim); not the cookie value.
    pub sid: String,
    /// When the user authenticated (unix seconds).
    pub auth_time: i64,
    /// Authentication methods (RFC 8176), e.g. `pwd`.
    pub amr: Vec<String>,
}

/// Starts a session for `user_id`; returns the cookie value (shown once).
pub fn start(
    c: &mut DbConn,
    user_id: &UserId,
    amr: &[&str],
    now: i64,
    policy: SessionPolicy,
) -> Result<SessionToken, StoreError> {
    let cookie = SessionToken::new(crypto::random_token(32));
    store::insert_session(
        c,
        &SessionRow {
            id_hash: crypto::sha256_hex(cookie.expose().as_bytes()),
            user_id: user_id.clone(),
            sid: crypto::random_token(16),
            auth_time: now,
            amr: amr.join(" "),
            created_at: now,
            expires_at: now.saturating_add(policy.absolute),
            last_seen_at: now,
        },
    )?;
    Ok(cookie)
}

/// The live session behind a cookie value, if any; records activity at most once a
/// minute (idle timeout) to spare the database a write per request.
pub fn find(
    c: &mut DbConn,
    cookie: &SessionToken,
    now: i64,
    policy: SessionPolicy,
) -> Result<Option<Session>, StoreError> {
    let id_hash = crypto::sha256_hex(cookie.expose().as_bytes());
    let Some((row, user)) = store::session_with_user(c, &id_hash)? else {
        return Ok(None);
    };
    if row.expires_at <= now || row.last_seen_at.saturating_add(policy.idle) <= now {
        store::delete_session(c, &id_hash)?;
        return Ok(None);
    }
    let Some(user) = user.filter(|u| !u.disabled) else {
        return Ok(None);
    };
    if now - row.last_seen_at >= 60 {
        store::touch_session(c, &id_hash, now)?;
    }
    Ok(Some(Session {
        id_hash,
        user,
        sid: row.sid,
        auth_time: row.auth_time,
        amr: row.amr.split_whitespace().map(str::to_owned).collect(),
    }))
}

/// Records a new authentication in `session` (a second factor proven after sign-in:
/// `method`, and `mfa`) under a new cookie value: a session gaining rights gets a new
/// id, so a value captured before cannot use them. The `sid` shared with clients, the
/// timeouts and an upstream sign-in's logout record carry over; the old value ends.
pub fn reauthenticate(
    c: &mut DbConn,
    session: &Session,
    method: &str,
    now: i64,
) -> Result<(SessionToken, Vec<String>), StoreError> {
    let Some(row) = store::session_by_hash(c, &session.id_hash)? else {
        return Err(StoreError::NotFound);
    };
    let mut amr = session.amr.clone();
    for added in [method, "mfa"] {
        if !amr.iter().any(|m| m == added) {
            amr.push(added.to_owned());
        }
    }
    let cookie = SessionToken::new(crypto::random_token(32));
    let id_hash = crypto::sha256_hex(cookie.expose().as_bytes());
    store::insert_session(
        c,
        &SessionRow {
            id_hash: id_hash.clone(),
            auth_time: now,
            amr: amr.join(" "),
            last_seen_at: now,
            ..row
        },
    )?;
    store::move_upstream_session(c, &session.id_hash, &id_hash)?;
    store::delete_session(c, &session.id_hash)?;
    Ok((cookie, amr))
}

/// Ends the session behind a cookie value; true when there was one.
pub fn end(c: &mut DbConn, cookie: &SessionToken) -> Result<bool, StoreError> {
    store::delete_session(c, &crypto::sha256_hex(cookie.expose().as_bytes()))
}

/// The live session behind a cookie value, looked up in its own transaction.
pub fn lookup(
    store: &crate::store::Store,
    cookie: &SessionToken,
    now: i64,
    policy: SessionPolicy,
) -> Result<Option<Session>, StoreError> {
    store.write(|c| find(c, cookie, now, policy))
}
