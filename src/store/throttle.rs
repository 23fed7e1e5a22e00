//! Failed-login counters per account and per client IP (in the database, so every
//! instance behind a load balancer sees the same counts). Callers lock a counter row
//! for the rest of their write transaction before reading it, so concurrent attempts
//! count one after the other.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

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
/// missing, and locked until the transaction ends (the no-op update takes the row lock
/// on PostgreSQL; SQLite write transactions are exclusive already).
pub fn lock_login_failures(
    c: &mut DbConn,
    subject: &str,
    now: i64,
) -> Result<LoginFailureRow, StoreError> {
    match c {
        DbConn::Pg(pg) => diesel::sql_query(
            "INSERT INTO login_failures (subject, failures, window_start) VALUES ($1, 0, $2) \
             ON CONFLICT (subject) DO NOTHING",
        )
        .bind::<Text, _>(subject)
        .bind::<BigInt, _>(now)
        .execute(pg)?,
        DbConn::Sqlite(lite) => diesel::sql_query(
            "INSERT OR IGNORE INTO login_failures (subject, failures, window_start) VALUES (?, 0, ?)",
        )
        .bind::<Text, _>(subject)
        .bind::<BigInt, _>(now)
        .execute(lite)?,
    };
    diesel::update(login_failures::table.find(subject))
        .set(login_failures::failures.eq(login_failures::failures))
        .execute(c)?;
    Ok(login_failures::table
        .find(subject)
        .select(LoginFailureRow::as_select())
        .get_result(c)?)
}

/// Writes a counter back.
pub fn save_login_failures(c: &mut DbConn, row: &LoginFailureRow) -> Result<(), StoreError> {
    diesel::update(login_failures::table.find(&row.subject))
        .set(row)
        .execute(c)?;
    Ok(())
}

/// Forgets a subject's failures (after a successful login). The row stays (reset), so
/// a concurrent attempt that just created or locked it never finds it gone.
pub fn clear_login_failures(c: &mut DbConn, subject: &str, now: i64) -> Result<(), StoreError> {
    diesel::update(login_failures::table.find(subject))
        .set((
            login_failures::failures.eq(0),
            login_failures::window_start.eq(now),
            login_failures::locked_until.eq(None::<i64>),
        ))
        .execute(c)?;
    Ok(())
}
