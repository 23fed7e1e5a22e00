//! What the approval pages show (DESIGN.md §5.1 step 5): one approval as its viewer
//! may see it, built from the stored rows, and the same approval as every notification
//! and chat answer shows it ([`snapshot`], DESIGN.md §5.4). The calls that load and
//! change approvals are the [`Desk`](super::desk::Desk)'s.

use serde_json::Value;

use super::desk::DeskError;
use super::details::{AuthorizationDetails, DetailLines};
use super::service::{self, ApprovalError, Approver, Via};
use super::state::ApprovalState;
use super::state::Decision;
use crate::accounts::sessions::Session;
use crate::ids::{ApprovalId, UserId};
use crate::notify::ApprovalSnapshot;
use crate::store::{self, ApprovalRow, DbConn};

/// A requested scope as the pages show it.
#[derive(Debug, Clone)]
pub struct ScopeView {
    /// Name.
    pub name: String,
    /// What it allows.
    pub description: String,
    /// Needs the countersignature.
    pub sensitive: bool,
}

/// One vote as the pages show it.
#[derive(Debug, Clone)]
pub struct VoteView {
    /// Approver's display name.
    pub approver: String,
    /// approve or deny.
    pub decision: Decision,
    /// Their comment.
    pub comment: Option<String>,
    /// When (unix seconds).
    pub at: i64,
}

/// Everything about one approval, for one viewer.
#[derive(Debug, Clone)]
pub struct ApprovalView {
    /// Approval id.
    pub id: ApprovalId,
    /// Current state.
    pub state: ApprovalState,
    /// Requester's username.
    pub requester_username: String,
    /// Requester's display name.
    pub requester_name: String,
    /// Requester's email.
    pub requester_email: String,
    /// Client display name.
    pub client_name: String,
    /// Every requested scope.
    pub scopes: Vec<ScopeView>,
    /// The requester's justification.
    pub justification: Option<String>,
    /// Who must approve, in words.
    pub required: String,
    /// The second factor each approver presents with their decision.
    pub approver_factor: super::factor::ApproverFactor,
    /// Created (unix seconds).
    pub created_at: i64,
    /// Pending until (unix seconds).
    pub expires_at: i64,
    /// Access lasts until (unix seconds), once approved.
    pub access_until: Option<i64>,
    /// Requester's IP address.
    pub ip: Option<String>,
    /// Requester's user agent.
    pub user_agent: Option<String>,
    /// Votes so far.
    pub votes: Vec<VoteView>,
    /// The viewer asked for it.
    pub viewer_is_requester: bool,
    /// Why the viewer may not decide, or `None` when they may.
    pub cannot_decide: Option<String>,
    /// The viewer may revoke it.
    pub can_revoke: bool,
    /// Where the requester's browser continues once decided.
    pub continue_url: String,
    /// The RFC 9396 `authorization_details` to approve, as stored (canonical JSON).
    pub authorization_details: Option<Value>,
    /// False when the stored details no longer hash to the digest they were asked
    /// under (altered in the database): nothing made from them works, and the page
    /// says so.
    pub details_intact: bool,
    /// What the requester's device shows (CIBA `binding_message`).
    pub binding_message: Option<String>,
    /// Asked for by a client on the back channel (CIBA): no browser waits for it.
    pub backchannel: bool,
}

impl ApprovalView {
    /// The details, entry by entry, field by field.
    pub fn detail_lines(&self) -> Vec<DetailLines> {
        super::details::lines_of(self.authorization_details.as_ref())
    }
}

/// What the status endpoint answers.
#[derive(Debug, Clone)]
pub struct StatusView {
    /// `{"state", "expires_at", "continue_url"?, "comment"?}`.
    pub body: Value,
}

/// A signed-in viewer and their groups.
pub(super) struct Viewer {
    pub(super) session: Session,
    pub(super) groups: Vec<String>,
    /// A member of the oversight (admin) group.
    pub(super) oversees: bool,
}

impl Viewer {
    pub(super) fn approver(&self) -> Approver {
        Approver {
            user_id: self.session.user.id.clone(),
            via: Via::Page {
                auth_time: self.session.auth_time,
            },
            groups: self.groups.clone(),
            proof: super::factor::Proof::None,
            signed_in_with: self.session.amr.clone(),
        }
    }
}

fn display_name(c: &mut DbConn, user_id: &UserId) -> Result<String, store::StoreError> {
    Ok(store::user_by_id(c, user_id)?
        .map(|u| u.name.unwrap_or(u.username))
        .unwrap_or_else(|| "a removed user".into()))
}

/// One approval as everyone may see it (no viewer: nobody is the requester, nobody
/// may decide or revoke), with its votes; what notifications are rendered from.
pub fn shared_view(
    c: &mut DbConn,
    row: ApprovalRow,
) -> Result<(ApprovalView, Vec<store::DecisionRow>), store::StoreError> {
    shared_view_knowing(c, row, None)
}

/// [`shared_view`], given a user already read in this request (the viewer): when it is
/// the requester, the requester is not read again.
fn shared_view_knowing(
    c: &mut DbConn,
    row: ApprovalRow,
    known: Option<&store::UserRow>,
) -> Result<(ApprovalView, Vec<store::DecisionRow>), store::StoreError> {
    let requester = match known.filter(|user| user.id == row.requester_id) {
        Some(user) => Some(user.clone()),
        None => store::user_by_id(c, &row.requester_id)?,
    };
    let client_name = store::client_by_id(c, &row.client_id)?
        .map(|c| c.name)
        .unwrap_or_else(|| row.client_id.to_string());
    let names: Vec<&str> = row.scopes.iter().collect();
    let stored = store::scopes_by_names(c, &names)?;
    let scopes = names
        .iter()
        .map(|name| {
            let scope = stored.iter().find(|s| s.name == *name);
            ScopeView {
                name: (*name).into(),
                description: scope.map(|s| s.description.clone()).unwrap_or_default(),
                sensitive: scope.is_some_and(|s| s.sensitive),
            }
        })
        .collect();
    let decisions = store::decisions_for(c, &row.id)?;
    let mut votes = Vec::new();
    for vote in &decisions {
        votes.push(VoteView {
            approver: display_name(c, &vote.approver_id)?,
            decision: vote.decision,
            comment: vote.comment.clone(),
            at: vote.at,
        });
    }
    let request = store::request_by_id(c, &row.request_id)?;
    let requirements = service::requirements_of(&row)?;
    let backchannel = request
        .as_ref()
        .is_some_and(store::RequestRow::is_backchannel);
    let (authorization_details, details_intact) = match (&row.details, &row.details_digest) {
        (Some(stored), Some(digest)) => {
            let verified = AuthorizationDetails::verified(stored, digest);
            let intact = verified.is_some();
            let shown = verified
                .map(|d| d.to_value())
                .or_else(|| serde_json::from_str(stored).ok());
            (shown, intact)
        }
        _ => (None, true),
    };
    let view = ApprovalView {
        state: row.state,
        requester_username: requester
            .as_ref()
            .map(|u| u.username.clone())
            .unwrap_or_default(),
        requester_name: requester
            .as_ref()
            .and_then(|u| u.name.clone())
            .unwrap_or_default(),
        requester_email: requester.map(|u| u.email).unwrap_or_default(),
        client_name,
        scopes,
        required: requirements.describe(),
        approver_factor: requirements.approver_factor,
        viewer_is_requester: false,
        can_revoke: false,
        cannot_decide: None,
        continue_url: format!(
            "/authorize/continue?request={}",
            request.map(|r| r.id.into_string()).unwrap_or_default()
        ),
        votes,
        id: row.id,
        justification: row.justification,
        created_at: row.created_at,
        expires_at: row.expires_at,
        access_until: row.access_until,
        ip: row.requester_ip.clone(),
        user_agent: row.requester_user_agent.clone(),
        authorization_details,
        details_intact,
        binding_message: row.binding_message.clone(),
        backchannel,
    };
    Ok((view, decisions))
}

/// One approval as notifications and chat answers render it at `now` (the outbox
/// worker's messages, the Teams bot's updated card): the [`shared_view`] with the
/// approvals counted so far, its page under `issuer`, and whether chat may decide it.
pub fn snapshot(
    c: &mut DbConn,
    row: ApprovalRow,
    issuer: &str,
    now: i64,
) -> Result<ApprovalSnapshot, store::StoreError> {
    let requirements = service::requirements_of(&row)?;
    let (view, votes) = shared_view(c, row)?;
    let given = votes
        .iter()
        .filter(|v| v.decision == Decision::Approve)
        .count();
    Ok(ApprovalSnapshot::from_view(
        &view,
        (
            u32::try_from(given).unwrap_or(u32::MAX),
            requirements.approvals_needed(),
        ),
        format!("{issuer}/approvals/{}", view.id),
        requirements.chat_decisions,
        now,
    ))
}

pub(super) fn build_view(
    c: &mut DbConn,
    row: ApprovalRow,
    viewer: &Viewer,
    now: i64,
) -> Result<ApprovalView, DeskError> {
    let (mut view, decisions) = shared_view_knowing(c, row.clone(), Some(&viewer.session.user))?;
    // The factor is presented with the vote: the form shows whatever it asks for.
    view.cannot_decide = match super::approver::may_vote(&row, &viewer.approver(), &decisions, now)
    {
        Ok(_) => None,
        Err(ApprovalError::NeedsFreshLogin) => None,
        Err(reason) => Some(reason.to_string()),
    };
    view.viewer_is_requester = row.requester_id == viewer.session.user.id;
    view.can_revoke = service::may_revoke(&row, &viewer.groups, viewer.oversees, now);
    Ok(view)
}
