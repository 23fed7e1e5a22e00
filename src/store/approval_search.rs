//! Approvals as operators search them (the admin console): by state, client,
//! requester, approver and creation time, newest first, a page at a time.

use diesel::prelude::*;

use super::schema::{approval_decisions, approvals};
use super::{ApprovalRow, DbConn, StoreError};
use crate::approval::ApprovalState;
use crate::ids::{ClientId, UserId};

/// What to look for; every field set narrows the search.
#[derive(Debug, Clone, Default)]
pub struct ApprovalFilter {
    /// In this state.
    pub state: Option<ApprovalState>,
    /// For this client.
    pub client_id: Option<ClientId>,
    /// Asked by this user.
    pub requester_id: Option<UserId>,
    /// Voted on by this user.
    pub approver_id: Option<UserId>,
    /// Created at or after (unix seconds).
    pub since: Option<i64>,
    /// Created before (unix seconds).
    pub until: Option<i64>,
}

/// One page of the approvals `filter` selects, newest first.
pub fn search_approvals(
    c: &mut DbConn,
    filter: &ApprovalFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<ApprovalRow>, StoreError> {
    let mut query = approvals::table
        .select(ApprovalRow::as_select())
        .order((approvals::created_at.desc(), approvals::id.desc()))
        .limit(limit)
        .offset(offset)
        .into_boxed();
    if let Some(state) = filter.state {
        query = query.filter(approvals::state.eq(state));
    }
    if let Some(client_id) = &filter.client_id {
        query = query.filter(approvals::client_id.eq(client_id.clone()));
    }
    if let Some(requester_id) = &filter.requester_id {
        query = query.filter(approvals::requester_id.eq(requester_id.clone()));
    }
    if let Some(approver_id) = &filter.approver_id {
        let voted = approval_decisions::table
            .filter(approval_decisions::approver_id.eq(approver_id.clone()))
            .select(approval_decisions::approval_id);
        query = query.filter(approvals::id.eq_any(voted));
    }
    if let Some(since) = filter.since {
        query = query.filter(approvals::created_at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(approvals::created_at.lt(until));
    }
    Ok(query.load(c)?)
}
