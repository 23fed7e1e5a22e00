//! Password login with brute-force throttling (DESIGN.md §8): only failed logins count,
//! per account and per client IP; a success resets the account's counter. An unknown
//! user costs the same argon2 work and gets the same answer as a wrong password.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::sessions::{self, SessionPolicy};
use crate::audit::{self, Actor};
use crate::crypto;
use crate::store::{self, DbConn, LoginFailureRow, Store, StoreError, UserRow};

/// Throttling parameters.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failures per account before it is throttled (an IP gets four times as many,
    /// since many people may share one address).
    pub max_failures: u32,
    /// How long a throttled account or IP waits (seconds); also the counting window.
    pub lockout: i64,
}

/// What a login attempt came to.
#[derive(Debug)]
pub enum LoginOutcome {
    /// Signed in: the new session's cookie value and the user.
    Success {
        /// Cookie value of the new session.
        cookie: String,
        /// The user.
        user: UserRow,
    },
    /// Wrong username or password (the same answer for both).
    Invalid,
    /// Too many failures: try again after this many seconds.
    Throttled {
        /// Seconds to wait.
        retry_after: i64,
    },
}

fn account_key(username: &str) -> String {
    format!("user:{}", username.to_lowercase())
}

fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// Seconds until the subject may try again, if it is locked now.
fn locked(c: &mut DbConn, subject: &str, now: i64) -> Result<Option<i64>, StoreError> {
    Ok(store::login_failures(c, subject)?
        .and_then(|row| row.locked_until)
        .filter(|until| *until > now)
        .map(|until| until - now))
}

/// Adds a failure; locks the subject once it reaches `max` within the window.
fn count_failure(
    c: &mut DbConn,
    subject: &str,
    max: u32,
    lockout: i64,
    now: i64,
) -> Result<(), StoreError> {
    let mut row = store::login_failures(c, subject)?
        .filter(|row| row.window_start + lockout > now && row.locked_until.is_none_or(|u| u > now))
        .unwrap_or(LoginFailureRow {
            subject: subject.into(),
            failures: 0,
            window_start: now,
            locked_until: None,
        });
    row.failures += 1;
    if row.failures >= i32::try_from(max).unwrap_or(i32::MAX) {
        row.locked_until = Some(now + lockout);
    }
    store::save_login_failures(c, &row)
}

/// A login attempt from a browser.
#[derive(Debug)]
pub struct Attempt<'a> {
    /// Submitted username.
    pub username: &'a str,
    /// Submitted password.
    pub password: &'a SecretString,
    /// Client IP address.
    pub ip: &'a str,
    /// The browser's current session cookie, ended on success (the id is rotated).
    pub previous_session: Option<&'a str>,
}

/// Checks a username and password; on success ends the browser's previous session and
/// starts a new one, so a session id fixed before login is worthless after it.
pub fn login(
    store: &Store,
    attempt: &Attempt<'_>,
    now: i64,
    throttle: ThrottlePolicy,
    sessions_policy: SessionPolicy,
) -> Result<LoginOutcome, StoreError> {
    let Attempt {
        username,
        password,
        ip,
        previous_session,
    } = *attempt;
    let (account, address) = (account_key(username), ip_key(ip));
    let (user, wait) = store.read(|c| {
        let wait = locked(c, &account, now)?.max(locked(c, &address, now)?);
        Ok::<_, StoreError>((store::user_by_username(c, username)?, wait))
    })?;
    if let Some(retry_after) = wait {
        store.write(|c| {
            audit::record(
                c,
                &Actor::Anonymous,
                "login.throttled",
                &format!("user:{username}"),
                json!({"ip": ip}),
                now,
            )
        })?;
        return Ok(LoginOutcome::Throttled { retry_after });
    }
    let usable = user.filter(|u| !u.disabled);
    let hash = usable.as_ref().and_then(|u| u.password_hash.as_deref());
    let valid = crypto::verify_password(password.expose_secret(), hash) && usable.is_some();
    store.write(|c| match (valid, usable.clone()) {
        (true, Some(user)) => {
            store::clear_login_failures(c, &account)?;
            if let Some(previous) = previous_session {
                sessions::end(c, previous)?;
            }
            let cookie = sessions::start(c, &user.id, &["pwd"], now, sessions_policy)?;
            audit::record(
                c,
                &Actor::User(user.id.clone()),
                "login.succeeded",
                &format!("user:{}", user.username),
                json!({"ip": ip, "amr": ["pwd"]}),
                now,
            )?;
            Ok(LoginOutcome::Success { cookie, user })
        }
        _ => {
            count_failure(c, &account, throttle.max_failures, throttle.lockout, now)?;
            count_failure(
                c,
                &address,
                throttle.max_failures.saturating_mul(4),
                throttle.lockout,
                now,
            )?;
            audit::record(
                c,
                &Actor::Anonymous,
                "login.failed",
                &format!("user:{username}"),
                json!({"ip": ip}),
                now,
            )?;
            Ok(LoginOutcome::Invalid)
        }
    })
}
