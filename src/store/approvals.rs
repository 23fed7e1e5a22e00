//! Approvals (the countersignature) and their votes. State changes are
//! compare-and-swap on `state`.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::{
    approval_decision_groups, approval_decisions, approval_groups, approvals, grants,
};
use super::{DbConn, StoreError};
use crate::approval::policy::SUBJECT_SLOT;
use crate::approval::{ApprovalState, Decision};
use crate::ids::{ApprovalId, ClientId, GrantId, RequestId, UserId};
use crate::scope_set::ScopeSet;

/// A row of `approvals`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = approvals)]
#[diesel(treat_none_as_default_value = false)]
#[allow(missing_docs)]
pub struct ApprovalRow {
    pub id: ApprovalId,
    pub request_id: RequestId,
    pub requester_id: UserId,
    pub client_id: ClientId,
    pub scopes: ScopeSet,
    pub redirect_uri: String,
    pub details_digest: Option<String>,
    pub details: Option<String>,
    pub justification: Option<String>,
    pub state: ApprovalState,
    pub requirements: String,
    pub requester_ip: Option<String>,
    pub requester_user_agent: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub decided_at: Option<i64>,
    pub access_until: Option<i64>,
    /// CIBA `binding_message`: what the requester's device shows.
    pub binding_message: Option<String>,
}

/// One approver's vote: a row of `approval_decisions` with the required groups its
/// approver belonged to (rows of `approval_decision_groups`).
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub struct DecisionRow {
    pub approval_id: ApprovalId,
    pub approver_id: UserId,
    pub groups: Vec<String>,
    pub decision: Decision,
    pub comment: Option<String>,
    pub at: i64,
    /// How the approver proved themselves (RFC 8176 values: `pwd`, `otp`, `hwk`, …).
    pub amr: Vec<String>,
    /// The authenticator credential used, when a passkey signed the decision.
    pub credential_id: Option<String>,
}

/// The columns of `approval_decisions`.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = approval_decisions)]
#[diesel(treat_none_as_default_value = false)]
struct DecisionColumns {
    approval_id: ApprovalId,
    approver_id: UserId,
    decision: Decision,
    comment: Option<String>,
    at: i64,
    amr: String,
    credential_id: Option<String>,
}

/// Inserts an approval.
pub fn insert_approval(c: &mut DbConn, row: &ApprovalRow) -> Result<(), StoreError> {
    diesel::insert_into(approvals::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// The approval with this id.
pub fn approval_by_id(c: &mut DbConn, id: &ApprovalId) -> Result<Option<ApprovalRow>, StoreError> {
    Ok(approvals::table
        .find(id)
        .select(ApprovalRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Locks an approval for the rest of the transaction and reads it, in one statement:
/// `SELECT … FOR UPDATE` on PostgreSQL; on SQLite a plain read, since a write
/// transaction there is already exclusive (`BEGIN IMMEDIATE`, or one batch of the
/// group commit whose writers run one at a time).
pub fn lock_approval(c: &mut DbConn, id: &ApprovalId) -> Result<Option<ApprovalRow>, StoreError> {
    if let DbConn::Pg(pg) = c {
        return Ok(approvals::table
            .find(id)
            .select(ApprovalRow::as_select())
            .for_update()
            .get_result(pg)
            .optional()?);
    }
    approval_by_id(c, id)
}

/// The approval created for an authorization request, locked for the rest of the
/// transaction as [`lock_approval`] locks (one statement).
pub fn lock_approval_for_request(
    c: &mut DbConn,
    request_id: &RequestId,
) -> Result<Option<ApprovalRow>, StoreError> {
    // diesel's `FOR UPDATE` exists for PostgreSQL only: the query is written per backend.
    let for_request = approvals::request_id.eq(request_id);
    let newest = approvals::created_at.desc();
    if let DbConn::Pg(pg) = c {
        return Ok(approvals::table
            .filter(for_request)
            .order(newest)
            .select(ApprovalRow::as_select())
            .for_update()
            .get_result(pg)
            .optional()?);
    }
    Ok(approvals::table
        .filter(for_request)
        .order(newest)
        .select(ApprovalRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Moves an approval from `from` to `to` (compare-and-swap), stamping `decided_at` and
/// `access_until` when given; `Conflict` when another transition won.
pub fn transition_approval(
    c: &mut DbConn,
    id: &ApprovalId,
    from: ApprovalState,
    to: ApprovalState,
    decided_at: Option<i64>,
    access_until: Option<i64>,
) -> Result<(), StoreError> {
    let changed = MoveApproval {
        to: to.as_str(),
        decided_at,
        access_until,
        id: id.as_str(),
        from: from.as_str(),
    }
    .execute(c)?;
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}

super::cached::cached_statement! {
    /// An approval's compare-and-swap move; a stamp not given keeps its value (cached:
    /// cached.rs; built with the DSL, its three shapes were compiled at every run).
    MoveApproval<'a> = "UPDATE approvals SET state = " {
        to: &'a str as diesel::sql_types::Text => ", decided_at = COALESCE(",
        decided_at: Option<i64> as diesel::sql_types::Nullable<diesel::sql_types::BigInt>
            => ", decided_at), access_until = COALESCE(",
        access_until: Option<i64> as diesel::sql_types::Nullable<diesel::sql_types::BigInt>
            => ", access_until) WHERE id = ",
        id: &'a str as diesel::sql_types::Text => " AND state = ",
        from: &'a str as diesel::sql_types::Text => "",
    }
}

/// Approvals, newest first, optionally in one state.
pub fn list_approvals(
    c: &mut DbConn,
    state: Option<ApprovalState>,
    limit: i64,
) -> Result<Vec<ApprovalRow>, StoreError> {
    let mut query = approvals::table
        .select(ApprovalRow::as_select())
        .order(approvals::created_at.desc())
        .limit(limit)
        .into_boxed();
    if let Some(state) = state {
        query = query.filter(approvals::state.eq(state));
    }
    Ok(query.load(c)?)
}

/// Ids of approvals whose time is up at `now`: pending ones past `expires_at`, and
/// approved (unused) ones past `access_until`.
pub fn approvals_due(c: &mut DbConn, now: i64) -> Result<Vec<ApprovalId>, StoreError> {
    let pending_expired = approvals::state
        .eq(ApprovalState::Pending)
        .and(approvals::expires_at.le(now));
    let unused_ended = approvals::state
        .eq(ApprovalState::Approved)
        .and(approvals::access_until.le(now));
    Ok(approvals::table
        .filter(pending_expired.or(unused_ended))
        .select(approvals::id)
        .load(c)?)
}

/// Records the groups an approval needs (what the inbox query filters on).
pub fn insert_approval_groups(
    c: &mut DbConn,
    id: &ApprovalId,
    groups: &[String],
) -> Result<(), StoreError> {
    // One statement per group: the multi-backend connection has no batch insert.
    for group in groups {
        diesel::insert_into(approval_groups::table)
            .values((
                approval_groups::approval_id.eq(id),
                approval_groups::group_name.eq(group),
            ))
            .execute(c)?;
    }
    Ok(())
}

/// Pending, unexpired approvals needing one of `groups`, not asked by `user` and not
/// yet voted on by them, oldest first: one page of an approver's inbox. Also the
/// user's own requests that ask them to confirm (the subject's slot).
///
/// Driven from the pending index in creation order, with correlated `EXISTS` on
/// `approval_groups` and `approval_decisions` (primary-key lookups): with an `IN`
/// list instead, SQLite's planner, once `ANALYZE` statistics exist, scanned
/// `approval_groups` whole (1.3 s with 1,000,000 decided approvals; 1 ms this way,
/// BENCHMARKS.md "Scale with the data").
pub fn decidable_approvals(
    c: &mut DbConn,
    user: &UserId,
    groups: &[String],
    now: i64,
    (offset, limit): (i64, i64),
) -> Result<Vec<ApprovalRow>, StoreError> {
    use diesel::dsl::{exists, not};
    if let DbConn::Sqlite(lite) = c {
        let groups = super::encode_list(groups);
        return Ok(InboxPageSqlite {
            pending: ApprovalState::Pending.as_str(),
            now,
            user: user.as_str(),
            groups: &groups,
            requester: user.as_str(),
            slot: SUBJECT_SLOT,
            voter: user.as_str(),
            limit,
            offset,
        }
        .load(lite)?);
    }
    let needing = exists(
        approval_groups::table
            .filter(approval_groups::approval_id.eq(approvals::id))
            .filter(approval_groups::group_name.eq_any(groups)),
    );
    let subject_slot = exists(
        approval_groups::table
            .filter(approval_groups::approval_id.eq(approvals::id))
            .filter(approval_groups::group_name.eq(SUBJECT_SLOT)),
    );
    let voted = exists(
        approval_decisions::table
            .filter(approval_decisions::approval_id.eq(approvals::id))
            .filter(approval_decisions::approver_id.eq(user)),
    );
    let theirs_to_decide = approvals::requester_id
        .ne(user)
        .and(needing)
        .or(approvals::requester_id.eq(user).and(subject_slot));
    Ok(approvals::table
        .filter(approvals::state.eq(ApprovalState::Pending))
        .filter(approvals::expires_at.gt(now))
        .filter(theirs_to_decide)
        .filter(not(voted))
        .order((approvals::created_at.asc(), approvals::id.asc()))
        .offset(offset)
        .limit(limit)
        .select(ApprovalRow::as_select())
        .load(c)?)
}

super::cached::cached_statement! {
    /// SQLite: [`decidable_approvals`] with the viewer's groups bound as one JSON list
    /// (`json_each`), so the statement is compiled once (cached.rs); diesel's `IN (…)`
    /// has one placeholder per group and is compiled at every run. PostgreSQL's
    /// `= ANY($1)` is cached as it is.
    InboxPageSqlite<'a> -> diesel::dsl::SqlTypeOf<
        diesel::dsl::AsSelect<ApprovalRow, diesel::sqlite::Sqlite>,
    > = "SELECT approvals.id, approvals.request_id, approvals.requester_id, \
        approvals.client_id, approvals.scopes, approvals.redirect_uri, \
        approvals.details_digest, approvals.details, approvals.justification, \
        approvals.state, approvals.requirements, approvals.requester_ip, \
        approvals.requester_user_agent, approvals.created_at, approvals.expires_at, \
        approvals.decided_at, approvals.access_until, approvals.binding_message \
        FROM approvals WHERE approvals.state = " {
        pending: &'a str as Text => " AND approvals.expires_at > ",
        now: i64 as BigInt => " AND ((approvals.requester_id != ",
        user: &'a str as Text => " AND EXISTS (SELECT 1 FROM approval_groups \
            WHERE approval_groups.approval_id = approvals.id \
            AND approval_groups.group_name IN (SELECT value FROM json_each(",
        groups: &'a str as Text => ")))) OR (approvals.requester_id = ",
        requester: &'a str as Text => " AND EXISTS (SELECT 1 FROM approval_groups \
            WHERE approval_groups.approval_id = approvals.id \
            AND approval_groups.group_name = ",
        slot: &'a str as Text => "))) AND NOT EXISTS (SELECT 1 FROM approval_decisions \
            WHERE approval_decisions.approval_id = approvals.id \
            AND approval_decisions.approver_id = ",
        voter: &'a str as Text => ") ORDER BY approvals.created_at ASC, approvals.id ASC \
            LIMIT ",
        limit: i64 as BigInt => " OFFSET ",
        offset: i64 as BigInt => "",
    }
}

/// Records a vote with its groups; `Conflict` when this approver already voted.
pub fn insert_decision(c: &mut DbConn, row: &DecisionRow) -> Result<(), StoreError> {
    diesel::insert_into(approval_decisions::table)
        .values(DecisionColumns {
            approval_id: row.approval_id.clone(),
            approver_id: row.approver_id.clone(),
            decision: row.decision,
            comment: row.comment.clone(),
            at: row.at,
            amr: super::encode_list(&row.amr),
            credential_id: row.credential_id.clone(),
        })
        .execute(c)?;
    // One statement per group: the multi-backend connection has no batch insert.
    for group in &row.groups {
        diesel::insert_into(approval_decision_groups::table)
            .values((
                approval_decision_groups::approval_id.eq(&row.approval_id),
                approval_decision_groups::approver_id.eq(&row.approver_id),
                approval_decision_groups::group_name.eq(group),
            ))
            .execute(c)?;
    }
    Ok(())
}

/// The votes on an approval, oldest first.
pub fn decisions_for(
    c: &mut DbConn,
    approval_id: &ApprovalId,
) -> Result<Vec<DecisionRow>, StoreError> {
    let votes: Vec<DecisionColumns> = approval_decisions::table
        .filter(approval_decisions::approval_id.eq(approval_id))
        .order(approval_decisions::at.asc())
        .select(DecisionColumns::as_select())
        .load(c)?;
    let groups: Vec<(UserId, String)> = approval_decision_groups::table
        .filter(approval_decision_groups::approval_id.eq(approval_id))
        .order(approval_decision_groups::group_name.asc())
        .select((
            approval_decision_groups::approver_id,
            approval_decision_groups::group_name,
        ))
        .load(c)?;
    Ok(votes
        .into_iter()
        .map(|vote| DecisionRow {
            groups: groups
                .iter()
                .filter(|(approver, _)| *approver == vote.approver_id)
                .map(|(_, group)| group.clone())
                .collect(),
            approval_id: vote.approval_id,
            approver_id: vote.approver_id,
            decision: vote.decision,
            comment: vote.comment,
            at: vote.at,
            amr: super::decode_list(&vote.amr),
            credential_id: vote.credential_id,
        })
        .collect())
}

/// Revokes every live grant made from an approval; returns how many.
pub fn revoke_approval_grants(
    c: &mut DbConn,
    approval_id: &ApprovalId,
    now: i64,
) -> Result<usize, StoreError> {
    let ids: Vec<GrantId> = grants::table
        .filter(grants::approval_id.eq(approval_id))
        .filter(grants::revoked_at.is_null())
        .select(grants::id)
        .load(c)?;
    for id in &ids {
        super::revoke_grant(c, id, now)?;
    }
    Ok(ids.len())
}

/// Moves an authorization request's expiry (it must outlive its approval).
pub fn extend_request(
    c: &mut DbConn,
    request_id: &RequestId,
    expires_at: i64,
) -> Result<(), StoreError> {
    ExtendRequest {
        expires_at,
        id: request_id.as_str(),
    }
    .execute(c)?;
    Ok(())
}

super::cached::cached_statement! {
    /// At every new approval (cached: cached.rs).
    ExtendRequest<'a> = "UPDATE authorization_requests SET expires_at = " {
        expires_at: i64 as diesel::sql_types::BigInt => " WHERE id = ",
        id: &'a str as diesel::sql_types::Text => "",
    }
}
