//! The outbox (DESIGN.md §5.4): notifications written in the transaction of the event
//! they announce, then claimed and delivered by the worker at least once. A claim is a
//! lease (`locked_until`): a worker killed mid-delivery leaves a row that is claimed
//! again once the lease runs out. On PostgreSQL the claim skips rows another instance
//! is claiming (`FOR UPDATE SKIP LOCKED`); SQLite's single writer serialises claims.
//! Also here: where each group is notified, the chat messages to update in place, and
//! the inbound signatures already seen.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::cached::by_keys;
use super::schema::{group_channels, inbound_replays, notification_messages, outbox};
use super::{DbConn, StoreError};
use crate::ids::ApprovalId;

/// A row of `outbox`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
#[diesel(treat_none_as_default_value = false)]
#[allow(missing_docs)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub payload: String,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub approval_id: Option<ApprovalId>,
    pub locked_until: Option<i64>,
    pub dead_at: Option<i64>,
}

/// Which outbox rows a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxFilter {
    /// Not yet delivered and not dead.
    Pending,
    /// Delivered.
    Delivered,
    /// Dead letters: out of attempts, or refused for good.
    Dead,
    /// Every row.
    All,
}

/// Inserts an outbox row.
pub fn insert_outbox(c: &mut DbConn, row: &OutboxRow) -> Result<(), StoreError> {
    diesel::insert_into(outbox::table).values(row).execute(c)?;
    Ok(())
}

/// Rows due at `$now`: not delivered, not dead, their time come, and not leased (a
/// macro, since each backend needs the query typed for itself).
macro_rules! due_at {
    ($now:expr) => {
        outbox::table
            .filter(outbox::delivered_at.is_null())
            .filter(outbox::dead_at.is_null())
            .filter(outbox::next_attempt_at.le($now))
            .filter(
                outbox::locked_until
                    .is_null()
                    .or(outbox::locked_until.le($now)),
            )
    };
}

/// True when some row is due at `now` and not leased: a read, so an idle worker never
/// takes the write lock.
pub fn outbox_has_due(c: &mut DbConn, now: i64) -> Result<bool, StoreError> {
    let due: Option<String> = due_at!(now).select(outbox::id).get_result(c).optional()?;
    Ok(due.is_some())
}

/// Claims up to `limit` rows due at `now` for `lease` seconds, oldest first. A row is
/// skipped while another row about the same approval and target is leased, so one
/// chat message is never posted twice at once. Call inside a write transaction.
pub fn claim_outbox(
    c: &mut DbConn,
    now: i64,
    lease: i64,
    limit: i64,
) -> Result<Vec<OutboxRow>, StoreError> {
    // One query per backend: only PostgreSQL has (and needs) row locks.
    macro_rules! due {
        () => {
            due_at!(now)
                .order((outbox::next_attempt_at.asc(), outbox::created_at.asc()))
                .limit(limit)
                .select(OutboxRow::as_select())
        };
    }
    let rows: Vec<OutboxRow> = match c {
        DbConn::Pg(pg) => due!().for_update().skip_locked().load(pg)?,
        DbConn::Sqlite(lite) => due!().load(lite)?,
    };
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        let busy: i64 = outbox::table
            .filter(outbox::approval_id.eq(&row.approval_id))
            .filter(outbox::target.eq(&row.target))
            .filter(outbox::id.ne(&row.id))
            .filter(outbox::delivered_at.is_null())
            .filter(outbox::locked_until.gt(now))
            .count()
            .get_result(c)?;
        if busy > 0 && row.approval_id.is_some() {
            continue;
        }
        OutboxClaim {
            until: now + lease,
            id: &row.id,
        }
        .execute(c)?;
        claimed.push(row);
    }
    Ok(claimed)
}

/// The outbox row with this id.
pub fn outbox_row(c: &mut DbConn, id: &str) -> Result<Option<OutboxRow>, StoreError> {
    Ok(outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .get_result(c)
        .optional()?)
}

/// How many notifications were delivered to `target` since `since`.
pub fn delivered_to_since(c: &mut DbConn, target: &str, since: i64) -> Result<i64, StoreError> {
    Ok(outbox::table
        .filter(outbox::target.eq(target))
        .filter(outbox::delivered_at.ge(since))
        .count()
        .get_result(c)?)
}

/// Gives a claimed row back, due again at `at`, without counting an attempt.
pub fn outbox_defer(c: &mut DbConn, id: &str, at: i64) -> Result<(), StoreError> {
    OutboxDefer { at, id }.execute(c)?;
    Ok(())
}

/// Marks a claimed row delivered.
pub fn outbox_delivered(c: &mut DbConn, id: &str, now: i64) -> Result<(), StoreError> {
    OutboxDelivered { now, id }.execute(c)?;
    Ok(())
}

/// Records a failed attempt: retried at `retry_at`, or dead-lettered when `None`.
pub fn outbox_failed(
    c: &mut DbConn,
    id: &str,
    error: &str,
    retry_at: Option<i64>,
    now: i64,
) -> Result<(), StoreError> {
    let dead_at = retry_at.is_none().then_some(now);
    OutboxFailed {
        error,
        retry_at,
        dead_at,
        id,
    }
    .execute(c)?;
    Ok(())
}

// The delivery worker's moves, once per notification: cached statements (cached.rs).

super::cached::cached_statement! {
    /// Claims a due row until its lease ends.
    OutboxClaim<'a> = "UPDATE outbox SET locked_until = " {
        until: i64 as BigInt => " WHERE id = ",
        id: &'a str as Text => "",
    }
}

super::cached::cached_statement! {
    /// Gives a claimed row back, due at `at`.
    OutboxDefer<'a> = "UPDATE outbox SET next_attempt_at = " {
        at: i64 as BigInt => ", locked_until = NULL WHERE id = ",
        id: &'a str as Text => "",
    }
}

super::cached::cached_statement! {
    /// Marks a claimed row delivered.
    OutboxDelivered<'a> = "UPDATE outbox SET delivered_at = " {
        now: i64 as BigInt => ", attempts = attempts + 1, locked_until = NULL, \
            last_error = NULL WHERE id = ",
        id: &'a str as Text => "",
    }
}

super::cached::cached_statement! {
    /// Counts a failed attempt: due again at `retry_at`, or dead-lettered at `dead_at`
    /// (the one given; the other column keeps its value).
    OutboxFailed<'a> = "UPDATE outbox SET attempts = attempts + 1, locked_until = NULL, \
        last_error = " {
        error: &'a str as Text => ", next_attempt_at = COALESCE(",
        retry_at: Option<i64> as Nullable<BigInt> => ", next_attempt_at), dead_at = COALESCE(",
        dead_at: Option<i64> as Nullable<BigInt> => ", dead_at) WHERE id = ",
        id: &'a str as Text => "",
    }
}

/// Outbox rows, newest first.
pub fn list_outbox(
    c: &mut DbConn,
    filter: OutboxFilter,
    limit: i64,
) -> Result<Vec<OutboxRow>, StoreError> {
    let mut query = outbox::table
        .select(OutboxRow::as_select())
        .order(outbox::created_at.desc())
        .limit(limit)
        .into_boxed();
    query = match filter {
        OutboxFilter::Pending => query
            .filter(outbox::delivered_at.is_null())
            .filter(outbox::dead_at.is_null()),
        OutboxFilter::Delivered => query.filter(outbox::delivered_at.is_not_null()),
        OutboxFilter::Dead => query.filter(outbox::dead_at.is_not_null()),
        OutboxFilter::All => query,
    };
    Ok(query.load(c)?)
}

/// Puts an undelivered row (dead or waiting) back to be tried now with a fresh
/// schedule; `NotFound` when no undelivered row has this id.
pub fn retry_outbox(c: &mut DbConn, id: &str, now: i64) -> Result<(), StoreError> {
    let changed = diesel::update(
        outbox::table
            .find(id)
            .filter(outbox::delivered_at.is_null()),
    )
    .set((
        outbox::dead_at.eq(None::<i64>),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(now),
        outbox::locked_until.eq(None::<i64>),
    ))
    .execute(c)?;
    match changed {
        1 => Ok(()),
        _ => Err(StoreError::NotFound),
    }
}

/// `(undelivered, dead, created_at of the oldest undelivered)`.
pub fn outbox_backlog(c: &mut DbConn) -> Result<(i64, i64, Option<i64>), StoreError> {
    let waiting = outbox::table
        .filter(outbox::delivered_at.is_null())
        .filter(outbox::dead_at.is_null());
    let count: i64 = waiting.count().get_result(c)?;
    let oldest: Option<i64> = waiting
        .select(diesel::dsl::min(outbox::created_at))
        .get_result(c)?;
    let dead: i64 = outbox::table
        .filter(outbox::dead_at.is_not_null())
        .count()
        .get_result(c)?;
    Ok((count, dead, oldest))
}

/// The id of the chat message already posted for an approval to a target.
pub fn message_ref(
    c: &mut DbConn,
    approval_id: &ApprovalId,
    target: &str,
) -> Result<Option<String>, StoreError> {
    Ok(notification_messages::table
        .find((approval_id, target))
        .select(notification_messages::external_ref)
        .get_result(c)
        .optional()?)
}

/// Remembers the chat message posted for an approval to a target.
pub fn save_message_ref(
    c: &mut DbConn,
    approval_id: &ApprovalId,
    target: &str,
    external_ref: &str,
    now: i64,
) -> Result<(), StoreError> {
    diesel::delete(notification_messages::table.find((approval_id, target))).execute(c)?;
    diesel::insert_into(notification_messages::table)
        .values((
            notification_messages::approval_id.eq(approval_id),
            notification_messages::target.eq(target),
            notification_messages::external_ref.eq(external_ref),
            notification_messages::updated_at.eq(now),
        ))
        .execute(c)?;
    Ok(())
}

/// Sets (or replaces) where `group` is notified on one kind of channel.
pub fn set_group_channel(
    c: &mut DbConn,
    group: &str,
    kind: &str,
    destination: &str,
    now: i64,
) -> Result<(), StoreError> {
    diesel::delete(group_channels::table.find((group, kind))).execute(c)?;
    diesel::insert_into(group_channels::table)
        .values((
            group_channels::group_name.eq(group),
            group_channels::kind.eq(kind),
            group_channels::destination.eq(destination),
            group_channels::created_at.eq(now),
        ))
        .execute(c)?;
    Ok(())
}

/// Removes every channel of `group`; returns how many there were.
pub fn clear_group_channels(c: &mut DbConn, group: &str) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(group_channels::table.filter(group_channels::group_name.eq(group)))
            .execute(c)?,
    )
}

/// `(group, kind, destination)` of every channel of these groups (all groups when
/// `groups` is `None`), by group and kind.
pub fn group_channels_of(
    c: &mut DbConn,
    groups: Option<&[String]>,
) -> Result<Vec<(String, String, String)>, StoreError> {
    let columns = (
        group_channels::group_name,
        group_channels::kind,
        group_channels::destination,
    );
    let Some(groups) = groups else {
        return Ok(group_channels::table
            .select(columns)
            .order((group_channels::group_name.asc(), group_channels::kind.asc()))
            .load(c)?);
    };
    // Sorted and once each, so both backends' reads come in group order.
    let mut names: Vec<&str> = groups.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    by_keys(
        c,
        &names,
        |c, names| {
            group_channels::table
                .filter(group_channels::group_name.eq_any(names))
                .select(columns)
                .order((group_channels::group_name.asc(), group_channels::kind.asc()))
                .load(c)
        },
        |c, name| {
            group_channels::table
                .filter(group_channels::group_name.eq(name))
                .select(columns)
                .order(group_channels::kind.asc())
                .load(c)
        },
    )
}

/// Records an inbound request's digest until `expires_at`; false when it was already
/// seen (a replay). Forgets digests whose time has passed.
pub fn first_sighting(
    c: &mut DbConn,
    digest: &str,
    expires_at: i64,
    now: i64,
) -> Result<bool, StoreError> {
    diesel::delete(inbound_replays::table.filter(inbound_replays::expires_at.le(now)))
        .execute(c)?;
    match diesel::insert_into(inbound_replays::table)
        .values((
            inbound_replays::digest.eq(digest),
            inbound_replays::expires_at.eq(expires_at),
        ))
        .execute(c)
    {
        Ok(_) => Ok(true),
        Err(e) => match StoreError::from(e) {
            StoreError::Conflict => Ok(false),
            other => Err(other),
        },
    }
}
