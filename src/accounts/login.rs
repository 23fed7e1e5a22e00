//! Password login with brute-force throttling (DESIGN.md §8): failed logins count, per
//! account and per client IP; a success resets the account's counter. An unknown user
//! costs the same argon2 work and gets the same answer as a wrong password.
//!
//! Each attempt is counted *before* its password is checked (in one transaction with
//! the lock check), and a success takes it back: so parallel requests cannot get more
//! guesses than the limit, however many arrive at once.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::sessions::{self, SessionPolicy};
use crate::audit::{self, Actor, AuditAction};
use crate::crypto;
use crate::ids::SessionToken;
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
        cookie: SessionToken,
        /// The user.
        user: Box<UserRow>,
    },
    /// Wrong username or password (the same answer for both).
    Invalid,
    /// Too many failures: try again after this many seconds.
    Throttled {
        /// Seconds to wait.
        retry_after: i64,
    },
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
    pub previous_session: Option<&'a SessionToken>,
}

/// The two counters an attempt touches, with their limits.
fn counters(attempt: &Attempt<'_>, policy: ThrottlePolicy) -> [(String, i32); 2] {
    let max = i32::try_from(policy.max_failures).unwrap_or(i32::MAX);
    [
        (format!("user:{}", attempt.username.to_lowercase()), max),
        (format!("ip:{}", attempt.ip), max.saturating_mul(4)),
    ]
}

/// A counter as of `now`: a lock that has run out, or a window that has passed, starts
/// it over (in-flight counts too: an attempt lasts far less than a window, so a count
/// left by a crashed instance does not outlive it).
pub(crate) fn current_counter(mut row: LoginFailureRow, lockout: i64, now: i64) -> LoginFailureRow {
    let lock_over = row.locked_until.is_some_and(|until| until <= now);
    let window_over = row.locked_until.is_none() && row.window_start + lockout <= now;
    if lock_over || window_over {
        row.failures = 0;
        row.in_flight = 0;
        row.window_start = now;
        row.locked_until = None;
    }
    row
}

/// Counts one confirmed failure; reaching `max` locks the counter for `lockout`.
pub(crate) fn count_failure(row: &mut LoginFailureRow, max: i32, lockout: i64, now: i64) {
    row.failures += 1;
    if row.failures >= max {
        row.locked_until = Some(now + lockout);
    }
}

/// Seconds to wait when a counter is full only of attempts still being checked: the
/// account is not locked, so a moment is enough.
const BUSY_RETRY: i64 = 1;

/// Counts this attempt as in flight against both counters, or says how long to wait:
/// until the lock ends when one is locked, a moment when confirmed failures and
/// attempts in flight together reach the limit (so parallel guesses get no more than
/// the limit). Only a confirmed failure can lock ([`settle`]).
fn reserve(
    c: &mut DbConn,
    attempt: &Attempt<'_>,
    policy: ThrottlePolicy,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let mut rows = Vec::new();
    for (subject, max) in counters(attempt, policy) {
        let row = current_counter(
            store::lock_login_failures(c, &subject, now)?,
            policy.lockout,
            now,
        );
        let wait = match row.locked_until {
            Some(until) => Some(until - now),
            None if row.failures >= max => Some(policy.lockout),
            None if row.failures + row.in_flight >= max => Some(BUSY_RETRY),
            None => None,
        };
        if let Some(retry_after) = wait {
            let details = json!({"ip": attempt.ip, "retry_after": retry_after});
            audit::record(
                c,
                &Actor::Anonymous,
                AuditAction::LoginThrottled,
                &format!("user:{}", attempt.username),
                details,
                now,
            )?;
            return Ok(Some(retry_after));
        }
        rows.push(row);
    }
    for mut row in rows {
        row.in_flight += 1;
        store::save_login_failures(c, &row)?;
    }
    Ok(None)
}

/// Ends this attempt's flight on both counters: a failure is counted (locking a
/// counter that reaches its limit); a success clears the account's failures.
fn settle(
    c: &mut DbConn,
    attempt: &Attempt<'_>,
    policy: ThrottlePolicy,
    succeeded: bool,
    now: i64,
) -> Result<(), StoreError> {
    for (index, (subject, max)) in counters(attempt, policy).into_iter().enumerate() {
        let mut row = store::lock_login_failures(c, &subject, now)?;
        row.in_flight = (row.in_flight - 1).max(0);
        if !succeeded {
            count_failure(&mut row, max, policy.lockout, now);
        }
        store::save_login_failures(c, &row)?;
        if succeeded && index == 0 {
            store::clear_login_failures(c, &subject, now)?;
        }
    }
    Ok(())
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
    if let Some(retry_after) = store.write(|c| reserve(c, attempt, throttle, now))? {
        return Ok(LoginOutcome::Throttled { retry_after });
    }
    let user = store
        .read(|c| store::user_by_username(c, attempt.username))?
        .filter(|u| !u.disabled);
    let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let valid = crypto::verify_password(attempt.password.expose_secret(), hash);
    store.write(|c| match (valid, user) {
        (true, Some(user)) => {
            settle(c, attempt, throttle, true, now)?;
            if let Some(previous) = attempt.previous_session {
                sessions::end(c, previous)?;
            }
            let cookie = sessions::start(c, &user.id, &["pwd"], now, sessions_policy)?;
            let details = json!({"ip": attempt.ip, "amr": ["pwd"]});
            audit::record(
                c,
                &Actor::User(user.id.clone()),
                AuditAction::LoginSucceeded,
                &format!("user:{}", user.username),
                details,
                now,
            )?;
            Ok(LoginOutcome::Success {
                cookie,
                user: Box::new(user),
            })
        }
        _ => {
            settle(c, attempt, throttle, false, now)?;
            let details = json!({"ip": attempt.ip});
            audit::record(
                c,
                &Actor::Anonymous,
                AuditAction::LoginFailed,
                &format!("user:{}", attempt.username),
                details,
                now,
            )?;
            Ok(LoginOutcome::Invalid)
        }
    })
}
