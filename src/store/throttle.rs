//! Failed-login counters per account and per client IP (in the database, so every
//! instance behind a load balancer sees the same counts). Callers lock a counter row
//! for the rest of their write transaction before reading it, so concurrent attempts
//! count one after the other.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use super::schema::login_failures;
use super::{DbConn, StoreError};

/// A row of `login_failures`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = login_failures)]
#[diesel(treat_none_as_null = true)]
#[allow(missing_docs)]
pub struct LoginFailureRow {
    pub subject: String,
    pub failures: i32,
    pub window_start: i64,
    pub locked_until: Option<i64>,
    pub in_flight: i32,
}

/// The counter for a subject (`user:<name>` or `ip:<addr>`), created at zero when
/// missing, and locked until the transaction ends: one upsert whose no-op `DO UPDATE`
/// takes the row lock on PostgreSQL (SQLite write transactions are exclusive already)
/// and returns the row.
pub fn lock_login_failures(
    c: &mut DbConn,
    subject: &str,
    now: i64,
) -> Result<LoginFailureRow, StoreError> {
    Ok(LockLoginFailures { subject, now }.get_result(c)?)
}

/// Writes a counter back.
pub fn save_login_failures(c: &mut DbConn, row: &LoginFailureRow) -> Result<(), StoreError> {
    SaveLoginFailures {
        failures: row.failures,
        window_start: row.window_start,
        locked_until: row.locked_until,
        in_flight: row.in_flight,
        subject: &row.subject,
    }
    .execute(c)?;
    Ok(())
}

/// Forgets a subject's failures (after a successful login). The row stays (reset), so
/// a concurrent attempt that just created or locked it never finds it gone.
pub fn clear_login_failures(c: &mut DbConn, subject: &str, now: i64) -> Result<(), StoreError> {
    ClearLoginFailures { now, subject }.execute(c)?;
    Ok(())
}

// Cached statements (cached.rs): every login attempt runs each of them twice.

super::cached::cached_statement! {
    /// Creates or locks a counter and returns it.
    LockLoginFailures<'a> -> (Text, Integer, BigInt, Nullable<BigInt>, Integer) =
        "INSERT INTO login_failures (subject, failures, window_start) VALUES (" {
        subject: &'a str as Text => ", 0, ",
        now: i64 as BigInt => ") ON CONFLICT (subject) DO UPDATE \
            SET failures = login_failures.failures \
            RETURNING subject, failures, window_start, locked_until, in_flight",
    }
}

super::cached::cached_statement! {
    /// Writes a counter back.
    SaveLoginFailures<'a> = "UPDATE login_failures SET failures = " {
        failures: i32 as Integer => ", window_start = ",
        window_start: i64 as BigInt => ", locked_until = ",
        locked_until: Option<i64> as Nullable<BigInt> => ", in_flight = ",
        in_flight: i32 as Integer => " WHERE subject = ",
        subject: &'a str as Text => "",
    }
}

super::cached::cached_statement! {
    /// Resets a counter's failures.
    ClearLoginFailures<'a> = "UPDATE login_failures SET failures = 0, window_start = " {
        now: i64 as BigInt => ", locked_until = NULL WHERE subject = ",
        subject: &'a str as Text => "",
    }
}
