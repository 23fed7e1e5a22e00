//! The approval desk: what the requester's waiting page, the approver's review page
//! and inbox, and the status endpoint show, and the decisions they post. Each call is
//! one transaction; who may see what is decided here, not in the pages.

use serde_json::{json, Value};

use super::service::{self, ApprovalError, Approver, Decision, ADMIN_GROUP};
use super::state::ApprovalState;
use crate::accounts::sessions::{self, Session, SessionPolicy};
use crate::audit::Actor;
use crate::store::{self, ApprovalRow, DbConn, Store};

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
    pub decision: String,
    /// Their comment.
    pub comment: Option<String>,
    /// When (unix seconds).
    pub at: i64,
}

/// Everything about one approval, for one viewer.
#[derive(Debug, Clone)]
pub struct ApprovalView {
    /// Approval id.
    pub id: String,
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
}

/// What the status endpoint answers.
#[derive(Debug, Clone)]
pub struct StatusView {
    /// `{"state", "expires_at", "continue_url"?, "comment"?}`.
    pub body: Value,
}

/// Why the desk refused; `Approval` carries the domain reason.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// No signed-in user: go to the login page.
    #[error("sign in first")]
    SignIn,
    /// The domain refused.
    #[error(transparent)]
    Approval(#[from] ApprovalError),
}

impl From<store::StoreError> for DeskError {
    fn from(error: store::StoreError) -> Self {
        DeskError::Approval(error.into())
    }
}

/// The desk over a store.
#[derive(Debug, Clone)]
pub struct Desk {
    /// Storage.
    pub store: Store,
    /// Session timeouts.
    pub sessions: SessionPolicy,
}

/// A signed-in viewer and their groups.
struct Viewer {
    session: Session,
    groups: Vec<String>,
}

impl Viewer {
    fn approver(&self) -> Approver {
        Approver {
            user_id: self.session.user.id.clone(),
            auth_time: self.session.auth_time,
            groups: self.groups.clone(),
        }
    }
}

fn viewer(
    c: &mut DbConn,
    cookie: Option<&str>,
    now: i64,
    policy: SessionPolicy,
) -> Result<Viewer, DeskError> {
    let session = match cookie {
        Some(cookie) => sessions::find(c, cookie, now, policy)?,
        None => None,
    };
    let session = session.ok_or(DeskError::SignIn)?;
    let groups = store::groups_of_user(c, &session.user.id)?;
    Ok(Viewer { session, groups })
}

/// The requester, a member of a required group, or an admin may look; anyone else
/// learns nothing, not even that the approval exists.
fn may_view(row: &ApprovalRow, viewer: &Viewer) -> bool {
    row.requester_id == viewer.session.user.id
        || viewer.groups.iter().any(|g| g == ADMIN_GROUP)
        || service::requirements_of(row).is_ok_and(|r| !r.groups_of(&viewer.groups).is_empty())
}

/// The signed-in viewer and approval `id`, if the viewer may know of it (`NotFound`
/// otherwise); expired on read when due.
fn visible(
    c: &mut DbConn,
    id: &str,
    cookie: Option<&str>,
    now: i64,
    policy: SessionPolicy,
) -> Result<(Viewer, ApprovalRow), DeskError> {
    let viewer = viewer(c, cookie, now, policy)?;
    let row = service::load(c, id, now)?;
    if !may_view(&row, &viewer) {
        return Err(ApprovalError::NotFound.into());
    }
    Ok((viewer, row))
}

fn display_name(c: &mut DbConn, user_id: &str) -> Result<String, store::StoreError> {
    Ok(store::user_by_id(c, user_id)?
        .map(|u| u.name.unwrap_or(u.username))
        .unwrap_or_else(|| "a removed user".into()))
}

fn build_view(
    c: &mut DbConn,
    row: ApprovalRow,
    viewer: &Viewer,
    now: i64,
) -> Result<ApprovalView, DeskError> {
    let requester = store::user_by_id(c, &row.requester_id)?;
    let client_name = store::client_by_id(c, &row.client_id)?
        .map(|c| c.name)
        .unwrap_or_else(|| row.client_id.clone());
    let mut scopes = Vec::new();
    for name in row.scopes.split_whitespace() {
        let scope = store::scope_by_name(c, name)?;
        scopes.push(ScopeView {
            name: name.into(),
            description: scope
                .as_ref()
                .map(|s| s.description.clone())
                .unwrap_or_default(),
            sensitive: scope.is_some_and(|s| s.sensitive),
        });
    }
    let decisions = store::decisions_for(c, &row.id)?;
    let mut votes = Vec::new();
    for vote in &decisions {
        votes.push(VoteView {
            approver: display_name(c, &vote.approver_id)?,
            decision: vote.decision.clone(),
            comment: vote.comment.clone(),
            at: vote.at,
        });
    }
    let cannot_decide = match service::may_decide(&row, &viewer.approver(), &decisions, now) {
        Ok(_) => None,
        Err(ApprovalError::NeedsFreshLogin) => None,
        Err(reason) => Some(reason.to_string()),
    };
    let request = store::request_by_id(c, &row.request_id)?;
    Ok(ApprovalView {
        state: ApprovalState::parse(&row.state).unwrap_or(ApprovalState::Expired),
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
        required: service::requirements_of(&row)?.describe(),
        viewer_is_requester: row.requester_id == viewer.session.user.id,
        can_revoke: service::may_revoke(&row, &viewer.groups, now),
        cannot_decide,
        continue_url: format!(
            "/authorize/continue?request={}",
            request.map(|r| r.id).unwrap_or_default()
        ),
        votes,
        id: row.id,
        justification: row.justification,
        created_at: row.created_at,
        expires_at: row.expires_at,
        access_until: row.access_until,
        ip: row.requester_ip,
        user_agent: row.requester_user_agent,
    })
}

impl Desk {
    /// An approval as `cookie`'s user may see it (expired on read when due).
    pub fn view(
        &self,
        id: &str,
        cookie: Option<&str>,
        now: i64,
    ) -> Result<ApprovalView, DeskError> {
        self.store.write(|c| {
            let (viewer, row) = visible(c, id, cookie, now, self.sessions)?;
            build_view(c, row, &viewer, now)
        })
    }

    /// Pending approvals the signed-in user may decide (expired ones are swept first).
    pub fn inbox(
        &self,
        cookie: Option<&str>,
        now: i64,
    ) -> Result<(String, Vec<ApprovalView>), DeskError> {
        service::expire_due(&self.store, now)?;
        self.store.write(|c| {
            let viewer = viewer(c, cookie, now, self.sessions)?;
            let mut items = Vec::new();
            for row in store::list_approvals(c, Some("pending"), 500)? {
                let votes = store::decisions_for(c, &row.id)?;
                let decidable = matches!(
                    service::may_decide(&row, &viewer.approver(), &votes, now),
                    Ok(_) | Err(ApprovalError::NeedsFreshLogin)
                );
                if decidable {
                    items.push(build_view(c, row, &viewer, now)?);
                }
            }
            Ok((viewer.session.user.username.clone(), items))
        })
    }

    /// The requester's status poll; anyone else gets `NotFound`.
    pub fn status(
        &self,
        id: &str,
        cookie: Option<&str>,
        now: i64,
    ) -> Result<StatusView, DeskError> {
        let view = self.requester_view(id, cookie, now)?;
        let mut body = json!({"state": view.state.as_str(), "expires_at": view.expires_at});
        if let Some(map) = body.as_object_mut() {
            if view.state.is_decided() {
                map.insert("continue_url".into(), view.continue_url.clone().into());
            }
            if let Some(vote) = view
                .votes
                .iter()
                .rev()
                .find(|v| v.decision == "deny" || view.state == ApprovalState::Approved)
            {
                map.insert("decided_by".into(), vote.approver.clone().into());
                map.insert("comment".into(), vote.comment.clone().into());
            }
        }
        Ok(StatusView { body })
    }

    /// The waiting page: the requester's own approval only.
    pub fn requester_view(
        &self,
        id: &str,
        cookie: Option<&str>,
        now: i64,
    ) -> Result<ApprovalView, DeskError> {
        let view = self.view(id, cookie, now)?;
        if !view.viewer_is_requester {
            return Err(ApprovalError::NotFound.into());
        }
        Ok(view)
    }

    /// An approver's vote.
    pub fn decide(
        &self,
        id: &str,
        cookie: Option<&str>,
        decision: Decision,
        comment: Option<&str>,
        now: i64,
    ) -> Result<ApprovalRow, DeskError> {
        // A refused vote says why (DESIGN.md §8): 403 for a non-member or the requester.
        self.store.write(|c| {
            let viewer = viewer(c, cookie, now, self.sessions)?;
            Ok(service::decide(
                c,
                id,
                &viewer.approver(),
                decision,
                comment,
                now,
            )?)
        })
    }

    /// The requester cancels.
    pub fn cancel(
        &self,
        id: &str,
        cookie: Option<&str>,
        now: i64,
    ) -> Result<ApprovalRow, DeskError> {
        self.store.write(|c| {
            let viewer = viewer(c, cookie, now, self.sessions)?;
            Ok(service::cancel(c, id, &viewer.session.user.id, now)?)
        })
    }

    /// An approver of the group or an admin revokes.
    pub fn revoke(
        &self,
        id: &str,
        cookie: Option<&str>,
        now: i64,
    ) -> Result<ApprovalRow, DeskError> {
        self.store.write(|c| {
            let (viewer, row) = visible(c, id, cookie, now, self.sessions)?;
            if !service::may_revoke(&row, &viewer.groups, now) {
                return Err(ApprovalError::Forbidden(
                    "only an approver of its groups or an admin may revoke, while access lasts",
                )
                .into());
            }
            Ok(service::revoke(
                c,
                id,
                &Actor::User(viewer.session.user.id.clone()),
                now,
            )?)
        })
    }
}
