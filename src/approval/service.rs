//! The approval service (DESIGN.md §5.1 steps 4-7): create, vote, cancel, expire,
//! redeem, revoke. Each function runs inside the caller's write transaction and writes
//! its audit event (and outbox rows) there: no change without its record.

use serde_json::{json, Value};

pub use super::approver::{may_decide, Approver, Via};
use super::details::AuthorizationDetails;
use super::notices::{self, Notice};
use super::policy::{Requirements, SUBJECT_SLOT};
use super::rules::{self, RuleOutcome};
use super::ruling;
use super::state::{ApprovalEvent, ApprovalState, Decision};
use crate::audit::{self, Actor, AuditAction};
use crate::crypto;
use crate::ids::{ApprovalId, ClientId, RequestId, UserId};
use crate::scope_set::ScopeSet;
use crate::store::{self, ApprovalRow, DbConn, DecisionRow, Store, StoreError};

/// The default `admin_group`: its members use the admin console and may see and
/// revoke any approval.
pub const OVERSIGHT_GROUP: &str = "admins";

/// Why an approval action was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// No such approval (or the caller may not know of it).
    #[error("no such approval")]
    NotFound,
    /// The caller may not do this; the text says why.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The approval is not in a state that allows it; the text says why.
    #[error("{0}")]
    Conflict(String),
    /// The input is incomplete; the text says what is missing.
    #[error("{0}")]
    Unprocessable(&'static str),
    /// The approver must sign in again (policy's approver max auth age).
    #[error("sign in again to decide")]
    NeedsFreshLogin,
    /// The second factor the policy asks for was missing or refused.
    #[error("{0}")]
    StepUp(super::step_up::StepUpRefusal),
    /// Storage failed.
    // Not `transparent`: the store error must stay in the chain of causes, where the
    // pages look for an unavailable database.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// An approval to create, bound to exactly one authorization request.
#[derive(Debug, Clone)]
pub struct NewApproval {
    /// The stored authorization request.
    pub request_id: RequestId,
    /// The user asking.
    pub requester_id: UserId,
    /// The client asking.
    pub client_id: ClientId,
    /// Every requested scope.
    pub scopes: ScopeSet,
    /// The registered redirect URI of the request.
    pub redirect_uri: String,
    /// Why, in the requester's words.
    pub justification: Option<String>,
    /// Requester's IP address.
    pub ip: Option<String>,
    /// Requester's user agent.
    pub user_agent: Option<String>,
    /// What it needs.
    pub requirements: Requirements,
    /// When to remind the approvers if it still waits, if ever.
    pub remind_at: Option<i64>,
    /// Seconds after its waiting time the request may still be continued.
    pub continue_after_approval: i64,
    /// The RFC 9396 `authorization_details` to approve, if any (issue 20).
    pub details: Option<AuthorizationDetails>,
    /// What the requester's device shows (CIBA `binding_message`), for approvers.
    pub binding_message: Option<String>,
    /// Asked for on the back channel (CIBA), not by a browser.
    pub backchannel: bool,
    /// What the decision hooks said about the details (asked before the transaction).
    pub hook_verdicts: Vec<super::hooks::HookVerdict>,
}

/// The recorded requirements of an approval.
pub fn requirements_of(row: &ApprovalRow) -> Result<Requirements, StoreError> {
    serde_json::from_str(&row.requirements).map_err(|e| {
        StoreError::Corrupt(format!(
            "approval {} has unreadable requirements: {e}",
            row.id
        ))
    })
}

/// What a denial tells the client (`access_denied`): who denied it, an approver, the
/// approval rules or a decision hook (its deny, or its failure under the `deny` mode).
pub fn denial_description(row: &ApprovalRow) -> &'static str {
    let rules = requirements_of(row).ok().and_then(|r| r.rules);
    match rules.filter(|d| d.outcome == RuleOutcome::Deny) {
        None => "the request was denied by an approver",
        Some(d) if d.hooks.iter().any(|h| h.denies()) => {
            "the request was denied by a decision hook"
        }
        Some(_) => "the request was denied by an approval rule",
    }
}

/// Creates a pending approval with its audit event and one outbox row per approver
/// group; the authorization request is kept alive as long as the approval may wait.
pub fn create(c: &mut DbConn, mut new: NewApproval, now: i64) -> Result<ApprovalRow, StoreError> {
    // The rules first: what they add to the groups is what the approval waits for.
    let ruled = ruling::rule_decision(c, &new, now)?;
    let mut auto = ruled.as_ref().map(|d| d.outcome);
    if let Some(decision) = &ruled {
        for group in &decision.groups {
            rules::add_group(&mut new.requirements.groups, group.clone());
        }
        new.requirements.rules = Some(decision.clone());
    }
    // A rule's approval spares the approvers, never the subject's own confirmation.
    if auto == Some(RuleOutcome::Approve) && new.requirements.subject_confirms() {
        new.requirements.groups.retain(|g| g.group == SUBJECT_SLOT);
        auto = Some(RuleOutcome::Require);
    }
    let requirements =
        serde_json::to_string(&new.requirements).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
    let (details, details_digest) = match &new.details {
        Some(details) => (
            Some(details.canonical().map_err(corrupt)?),
            Some(details.digest().map_err(corrupt)?),
        ),
        None => (None, None),
    };
    let row = ApprovalRow {
        id: ApprovalId::new(crypto::random_id(16)),
        request_id: new.request_id.clone(),
        requester_id: new.requester_id.clone(),
        client_id: new.client_id.clone(),
        scopes: new.scopes,
        redirect_uri: new.redirect_uri,
        details_digest,
        details,
        justification: new.justification.clone(),
        state: ApprovalState::Pending,
        requirements,
        requester_ip: new.ip,
        requester_user_agent: new.user_agent,
        created_at: now,
        expires_at: now + new.requirements.pending_ttl,
        decided_at: None,
        access_until: None,
        binding_message: new.binding_message.clone(),
    };
    store::insert_approval(c, &row)?;
    let groups: Vec<String> = new
        .requirements
        .groups
        .iter()
        .map(|g| g.group.clone())
        .collect();
    store::insert_approval_groups(c, &row.id, &groups)?;
    store::extend_request(
        c,
        &new.request_id,
        row.expires_at + new.continue_after_approval,
    )?;
    let details = json!({"client_id": row.client_id, "scope": row.scopes, "requires": new.requirements.groups,
        "policy_versions": new.requirements.policy_versions, "justification": row.justification, "expires_at": row.expires_at,
        "action_types": new.requirements.action_types, "details_digest": row.details_digest, "binding_message": row.binding_message,
        "rules": new.requirements.rules});
    audit::record(
        c,
        &Actor::User(row.requester_id.clone()),
        AuditAction::ApprovalRequested,
        &format!("approval:{}", row.id),
        details,
        now,
    )?;
    let outcome = ruled
        .as_ref()
        .zip(auto)
        .map(|(d, o)| (o, json!({"rules": d})));
    match outcome {
        // Decided by rule: nobody is asked; the outcome's notices tell who needs to know.
        Some((RuleOutcome::Approve, extra)) => {
            decide_by_rule(c, &row, ApprovalEvent::QuorumReached, extra, now)
        }
        Some((RuleOutcome::Deny, extra)) => {
            decide_by_rule(c, &row, ApprovalEvent::Deny, extra, now)
        }
        _ => {
            notices::enqueue(c, &row, Notice::Requested, now)?;
            if let Some(at) = new.remind_at.filter(|at| *at > now && *at < row.expires_at) {
                notices::enqueue_at(c, &row, Notice::Reminder, at, now)?;
            }
            Ok(row)
        }
    }
}

/// Moves a new approval to the outcome its rules decided, as the system.
fn decide_by_rule(
    c: &mut DbConn,
    row: &ApprovalRow,
    event: ApprovalEvent,
    extra: Value,
    now: i64,
) -> Result<ApprovalRow, StoreError> {
    apply(c, row, event, &Actor::System, extra, now).map_err(|e| match e {
        ApprovalError::Store(e) => e,
        other => StoreError::Corrupt(other.to_string()),
    })
}

/// Applies one event by compare-and-swap and records it.
fn apply(
    c: &mut DbConn,
    row: &ApprovalRow,
    event: ApprovalEvent,
    actor: &Actor,
    extra: Value,
    now: i64,
) -> Result<ApprovalRow, ApprovalError> {
    let from = row.state;
    let to = from
        .next(event)
        .map_err(|e| ApprovalError::Conflict(e.to_string()))?;
    let requirements = requirements_of(row)?;
    let (decided_at, access_until) = match event {
        ApprovalEvent::QuorumReached => (Some(now), Some(now + requirements.access_duration)),
        ApprovalEvent::Deny | ApprovalEvent::Cancel | ApprovalEvent::Expire
            if from == ApprovalState::Pending =>
        {
            (Some(now), None)
        }
        _ => (None, None),
    };
    store::transition_approval(c, &row.id, from, to, decided_at, access_until).map_err(
        |e| match e {
            StoreError::Conflict => {
                ApprovalError::Conflict("the approval changed meanwhile; reload".into())
            }
            other => other.into(),
        },
    )?;
    let mut details = json!({"from": from.as_str(), "to": to.as_str(), "policy_versions": requirements.policy_versions});
    if let (Some(map), Value::Object(more)) = (details.as_object_mut(), extra) {
        map.extend(more);
    }
    audit::record(
        c,
        actor,
        event.audit_action(),
        &format!("approval:{}", row.id),
        details,
        now,
    )?;
    let moved = ApprovalRow {
        state: to,
        decided_at: decided_at.or(row.decided_at),
        access_until: access_until.or(row.access_until),
        ..row.clone()
    };
    if let Some(notice) = Notice::for_transition(event) {
        notices::enqueue(c, &moved, notice, now)?;
    }
    Ok(moved)
}

/// Reads an approval, expiring it first when its time is up (expiry on read).
pub fn load(c: &mut DbConn, id: &ApprovalId, now: i64) -> Result<ApprovalRow, ApprovalError> {
    let row = store::lock_approval(c, id)?.ok_or(ApprovalError::NotFound)?;
    expire_if_due(c, row, now)
}

/// The approval created for authorization request `request_id`, locked, and expired
/// when its time is up.
pub fn load_for_request(
    c: &mut DbConn,
    request_id: &RequestId,
    now: i64,
) -> Result<Option<ApprovalRow>, ApprovalError> {
    match store::lock_approval_for_request(c, request_id)? {
        Some(row) => expire_if_due(c, row, now).map(Some),
        None => Ok(None),
    }
}

/// True when `row`'s time is up and the next locked read will expire it.
pub fn is_due(row: &ApprovalRow, now: i64) -> bool {
    row.state
        .expires_at(row.expires_at, row.access_until)
        .is_some_and(|at| at <= now)
}

fn expire_if_due(c: &mut DbConn, row: ApprovalRow, now: i64) -> Result<ApprovalRow, ApprovalError> {
    if is_due(&row, now) {
        apply(
            c,
            &row,
            ApprovalEvent::Expire,
            &Actor::System,
            json!({}),
            now,
        )
    } else {
        Ok(row)
    }
}

/// Expires every approval whose time is up, each in its own transaction, so a sweep
/// never holds one approval's lock while it waits for another's (two such waits in
/// opposite order would deadlock on PostgreSQL). Returns how many it looked at.
pub fn expire_due(store: &Store, now: i64) -> Result<usize, ApprovalError> {
    let ids = store.read(|c| store::approvals_due(c, now))?;
    for id in &ids {
        store.write(|c| load(c, id, now).map(|_| ()))?;
    }
    Ok(ids.len())
}

/// Records a vote; the vote that completes every quorum approves, any deny denies.
pub fn decide(
    c: &mut DbConn,
    id: &ApprovalId,
    approver: &Approver,
    decision: Decision,
    comment: Option<&str>,
    now: i64,
) -> Result<ApprovalRow, ApprovalError> {
    let row = load(c, id, now)?;
    decide_locked(c, row, approver, decision, comment, now)
}

/// [`decide`] on an approval the transaction has already [`load`]ed (and so locked).
pub fn decide_locked(
    c: &mut DbConn,
    row: ApprovalRow,
    approver: &Approver,
    decision: Decision,
    comment: Option<&str>,
    now: i64,
) -> Result<ApprovalRow, ApprovalError> {
    let id = &row.id;
    let votes = store::decisions_for(c, id)?;
    let groups = may_decide(&row, approver, &votes, now)?;
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if decision == Decision::Deny && comment.is_none() {
        return Err(ApprovalError::Unprocessable(
            "a denial needs a comment saying why",
        ));
    }
    let vote = DecisionRow {
        approval_id: id.clone(),
        approver_id: approver.user_id.clone(),
        groups,
        decision,
        comment: comment.map(str::to_owned),
        at: now,
        amr: approver.amr(),
        credential_id: approver.proof.credential_id(),
    };
    store::insert_decision(c, &vote).map_err(|e| match e {
        StoreError::Conflict => {
            ApprovalError::Conflict("you already decided on this request".into())
        }
        other => other.into(),
    })?;
    let actor = Actor::User(approver.user_id.clone());
    let details = json!({"decision": vote.decision, "groups": vote.groups, "comment": vote.comment,
        "via": approver.via.as_str(), "amr": vote.amr, "credential_id": vote.credential_id});
    audit::record(
        c,
        &actor,
        AuditAction::ApprovalVote,
        &format!("approval:{id}"),
        details,
        now,
    )?;
    if decision == Decision::Deny {
        return apply(
            c,
            &row,
            ApprovalEvent::Deny,
            &actor,
            json!({"comment": vote.comment}),
            now,
        );
    }
    let mut all = votes;
    all.push(vote);
    if requirements_of(&row)?.met_by(&all) {
        let approvers: Vec<&UserId> = all
            .iter()
            .filter(|v| v.decision == Decision::Approve)
            .map(|v| &v.approver_id)
            .collect();
        return apply(
            c,
            &row,
            ApprovalEvent::QuorumReached,
            &actor,
            json!({"approvers": approvers}),
            now,
        );
    }
    notices::enqueue(c, &row, Notice::Voted, now)?;
    Ok(row)
}

/// The requester withdraws a pending request.
pub fn cancel(
    c: &mut DbConn,
    id: &ApprovalId,
    user_id: &UserId,
    now: i64,
) -> Result<ApprovalRow, ApprovalError> {
    let row = load(c, id, now)?;
    if row.requester_id != *user_id {
        return Err(ApprovalError::NotFound);
    }
    apply(
        c,
        &row,
        ApprovalEvent::Cancel,
        &Actor::User(user_id.clone()),
        json!({}),
        now,
    )
}

/// Marks an approved approval used: its code is being issued (single use).
pub fn redeem(c: &mut DbConn, row: &ApprovalRow, now: i64) -> Result<ApprovalRow, ApprovalError> {
    apply(
        c,
        row,
        ApprovalEvent::Redeem,
        &Actor::Client(row.client_id.clone()),
        json!({}),
        now,
    )
}

/// True when someone in `groups` (`oversees`: an admin) may revoke `row`: an admin,
/// or a member of a required group; only while access lasts.
pub fn may_revoke(row: &ApprovalRow, groups: &[String], oversees: bool, now: i64) -> bool {
    let live = row.state.is_revocable() && row.access_until.is_some_and(|until| until > now);
    let entitled = oversees || requirements_of(row).is_ok_and(|r| !r.groups_of(groups).is_empty());
    live && entitled
}

/// Revokes an approval and every grant made from it (their tokens die at once).
pub fn revoke(
    c: &mut DbConn,
    id: &ApprovalId,
    actor: &Actor,
    now: i64,
) -> Result<ApprovalRow, ApprovalError> {
    let row = load(c, id, now)?;
    let grants = store::revoke_approval_grants(c, id, now)?;
    apply(
        c,
        &row,
        ApprovalEvent::Revoke,
        actor,
        json!({"grants_revoked": grants}),
        now,
    )
}
