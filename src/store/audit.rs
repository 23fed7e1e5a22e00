//! The audit chain's rows and its head. Appends lock the head row first, so on
//! PostgreSQL concurrent writers (threads or instances) queue and the chain stays linear.
//! A PostgreSQL transaction that appends twice (a vote that decides, a code redeemed)
//! locks and reads the head once: the head it locked and moved is kept for the rest of
//! the transaction ([`LOCKED_HEAD`]).

use std::cell::RefCell;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::{audit_events, audit_head};
use super::{DbConn, StoreError};

/// A row of `audit_events`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
#[allow(missing_docs)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

thread_local! {
    /// PostgreSQL: the chain head as the write transaction open on this thread holds
    /// it, once locked: `(connection address, seq, hash)`. Every write transaction
    /// begins and ends by forgetting it ([`forget_locked_head`]), and this transaction
    /// holds the row lock in between, so nobody else can have moved the head.
    static LOCKED_HEAD: RefCell<Option<(usize, i64, String)>> = const { RefCell::new(None) };
}

/// Forgets the head a write transaction locked (at its begin, commit and rollback).
pub(super) fn forget_locked_head() {
    LOCKED_HEAD.with(|head| head.borrow_mut().take());
}

fn address_of(pg: &diesel::PgConnection) -> usize {
    std::ptr::from_ref(pg) as usize
}

/// Locks the chain head for the rest of the transaction and returns `(seq, hash)`.
/// On PostgreSQL one `SELECT … FOR UPDATE` takes the row lock and reads it, once per
/// transaction. On SQLite every write transaction begins `IMMEDIATE`
/// ([`super::write_transaction`]) and so already holds the database's write lock.
pub fn lock_audit_head(c: &mut DbConn) -> Result<(i64, String), StoreError> {
    if let DbConn::Pg(pg) = c {
        let address = address_of(pg);
        let held = LOCKED_HEAD.with(|head| {
            head.borrow()
                .as_ref()
                .filter(|(on, _, _)| *on == address)
                .map(|(_, seq, hash)| (*seq, hash.clone()))
        });
        if let Some(head) = held {
            return Ok(head);
        }
        let (seq, hash): (i64, String) = audit_head::table
            .find(1)
            .select((audit_head::seq, audit_head::hash))
            .for_update()
            .get_result(pg)?;
        LOCKED_HEAD.with(|head| *head.borrow_mut() = Some((address, seq, hash.clone())));
        return Ok((seq, hash));
    }
    read_audit_head(c)
}

/// The chain head `(seq, hash)` as committed.
pub fn read_audit_head(c: &mut DbConn) -> Result<(i64, String), StoreError> {
    Ok(audit_head::table
        .find(1)
        .select((audit_head::seq, audit_head::hash))
        .get_result(c)?)
}

/// Inserts an event and moves the head to it; the caller holds the head lock.
pub fn append_audit_row(c: &mut DbConn, row: &AuditRow) -> Result<(), StoreError> {
    if let DbConn::Pg(pg) = c {
        AppendAuditPg {
            seq: row.seq,
            at: row.at,
            actor: &row.actor,
            action: &row.action,
            target: &row.target,
            details: &row.details,
            prev_hash: &row.prev_hash,
            hash: &row.hash,
            head_seq: row.seq,
            head_hash: &row.hash,
        }
        .execute(pg)?;
        let address = address_of(pg);
        LOCKED_HEAD.with(|head| *head.borrow_mut() = Some((address, row.seq, row.hash.clone())));
        return Ok(());
    }
    diesel::insert_into(audit_events::table)
        .values(row)
        .execute(c)?;
    MoveAuditHead {
        seq: row.seq,
        hash: &row.hash,
    }
    .execute(c)?;
    Ok(())
}

super::cached::cached_statement! {
    /// Moves the chain head to the event just appended (cached: cached.rs).
    MoveAuditHead<'a> = "UPDATE audit_head SET seq = " {
        seq: i64 as BigInt => ", hash = ",
        hash: &'a str as Text => " WHERE id = 1",
    }
}

super::cached::cached_statement! {
    /// PostgreSQL: the event's `INSERT` and the head's `UPDATE` in one statement (a
    /// data-modifying `WITH`), so one round trip (cached: cached.rs).
    AppendAuditPg<'a> = "WITH event AS (INSERT INTO audit_events \
        (seq, at, actor, action, target, details, prev_hash, hash) VALUES (" {
        seq: i64 as BigInt => ", ",
        at: i64 as BigInt => ", ",
        actor: &'a str as Text => ", ",
        action: &'a str as Text => ", ",
        target: &'a str as Text => ", ",
        details: &'a str as Text => ", ",
        prev_hash: &'a str as Text => ", ",
        hash: &'a str as Text => ")) UPDATE audit_head SET seq = ",
        head_seq: i64 as BigInt => ", hash = ",
        head_hash: &'a str as Text => " WHERE id = 1",
    }
}

/// Up to `limit` events with `seq > after`, in chain order.
pub fn audit_rows_after(
    c: &mut DbConn,
    after: i64,
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    Ok(audit_events::table
        .filter(audit_events::seq.gt(after))
        .order(audit_events::seq.asc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(c)?)
}

/// The seq just before the first event at or after `at` (unix seconds).
pub fn audit_seq_before_time(c: &mut DbConn, at: i64) -> Result<i64, StoreError> {
    let first: Option<i64> = audit_events::table
        .filter(audit_events::at.ge(at))
        .select(diesel::dsl::min(audit_events::seq))
        .get_result(c)?;
    Ok(match first {
        Some(seq) => seq - 1,
        None => read_audit_head(c)?.0,
    })
}

/// Events before seq `before` (all when `None`), newest first, with this action and
/// target when given: the admin console's pages of the trail.
pub fn audit_rows_before(
    c: &mut DbConn,
    before: Option<i64>,
    action: Option<&str>,
    target: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    let mut query = audit_events::table
        .order(audit_events::seq.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(audit_events::seq.lt(before));
    }
    if let Some(action) = action {
        query = query.filter(audit_events::action.eq(action.to_owned()));
    }
    if let Some(target) = target {
        query = query.filter(audit_events::target.eq(target.to_owned()));
    }
    Ok(query.load(c)?)
}
