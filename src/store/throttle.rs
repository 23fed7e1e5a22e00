//! Failed-login counters per account and per client IP (in the database, so every
//! instance behind a load balancer sees the same counts).

use diesel::prelude::*;

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
}

/// The counter for a subject (`user:<name>` or `ip:<addr>`).
pub fn login_failures(
    c: &mut DbConn,
    subject: &str,
) -> Result<Option<LoginFailureRow>, StoreError> {
    Ok(login_failures::table
        .find(subject)
        .select(LoginFailureRow::as_select())
        .first(c)
        .optional()?)
}

/// Writes a counter (insert or replace).
pub fn save_login_failures(c: &mut DbConn, row: &LoginFailureRow) -> Result<(), StoreError> {
    let updated = diesel::update(login_failures::table.find(&row.subject))
        .set(row)
        .execute(c)?;
    if updated == 0 {
        diesel::insert_into(login_failures::table)
            .values(row)
            .execute(c)?;
    }
    Ok(())
}

/// Forgets a subject's failures (after a successful login).
pub fn clear_login_failures(c: &mut DbConn, subject: &str) -> Result<(), StoreError> {
    diesel::delete(login_failures::table.find(subject)).execute(c)?;
    Ok(())
}
