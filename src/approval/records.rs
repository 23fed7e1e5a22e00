//! Approval records for operators (the `approval` CLI; later the admin console):
//! list, show with votes, revoke.

use super::service::{self, ApprovalError};
use super::state::ApprovalState;
use crate::audit::Actor;
use crate::ids::{ApprovalId, UserId};
use crate::store::{self, ApprovalRow, DecisionRow, Store};

/// An approval with its votes and the usernames involved.
#[derive(Debug, Clone)]
pub struct ApprovalRecord {
    /// The approval.
    pub row: ApprovalRow,
    /// Requester's username.
    pub requester: String,
    /// Votes with the approver's username.
    pub votes: Vec<(DecisionRow, String)>,
}

/// A `--state` value of the CLI.
pub fn parse_state(text: &str) -> Result<ApprovalState, ApprovalError> {
    ApprovalState::parse(text).ok_or(ApprovalError::Unprocessable(
        "--state must be one of pending, approved, denied, expired, cancelled, redeemed, revoked",
    ))
}

/// An approval id given on the command line; one that cannot exist is unknown too.
pub fn parse_id(text: &str) -> Result<ApprovalId, ApprovalError> {
    ApprovalId::parse(text).map_err(|_| ApprovalError::NotFound)
}

fn username(c: &mut store::DbConn, id: &UserId) -> Result<String, store::StoreError> {
    Ok(store::user_by_id(c, id)?
        .map(|u| u.username)
        .unwrap_or_else(|| id.to_string()))
}

/// Approvals, newest first (due ones expired first), optionally in one state.
pub fn list(
    store: &Store,
    state: Option<ApprovalState>,
    now: i64,
) -> Result<Vec<ApprovalRecord>, ApprovalError> {
    service::expire_due(store, now)?;
    store.write(|c| {
        let mut records = Vec::new();
        for row in store::list_approvals(c, state, 1000)? {
            records.push(record(c, row)?);
        }
        Ok(records)
    })
}

fn record(c: &mut store::DbConn, row: ApprovalRow) -> Result<ApprovalRecord, ApprovalError> {
    let requester = username(c, &row.requester_id)?;
    let mut votes = Vec::new();
    for vote in store::decisions_for(c, &row.id)? {
        let name = username(c, &vote.approver_id)?;
        votes.push((vote, name));
    }
    Ok(ApprovalRecord {
        row,
        requester,
        votes,
    })
}

/// One approval.
pub fn show(store: &Store, id: &ApprovalId, now: i64) -> Result<ApprovalRecord, ApprovalError> {
    store.write(|c| {
        let row = service::load(c, id, now)?;
        record(c, row)
    })
}

/// Revokes an approval and its grants.
pub fn revoke(
    store: &Store,
    id: &ApprovalId,
    actor: &Actor,
    now: i64,
) -> Result<ApprovalRow, ApprovalError> {
    store.write(|c| service::revoke(c, id, actor, now))
}
