//! The approval desk (DESIGN.md §5.1 steps 4-6): the calls behind the requester's
//! waiting page and status endpoint, and the approver's review page and inbox, and the
//! decisions they post, and the cheap re-reads behind their event streams (§5.4). Each
//! change is one transaction; a look is a plain read unless it finds the approval's
//! time up. Who may see what is decided here, not in the pages. A
//! decision, cancellation or revocation fires the desk's [`Signal`] once committed.

use serde_json::json;

use super::factor::{ApproverFactor, Presented};
use super::service::{self, ApprovalError};
use super::signal::Signal;
use super::state::ApprovalState;
use super::state::Decision;
use super::step_up::{StepUp, StepUpRefusal};
use super::views::{build_view, ApprovalView, StatusView, Viewer};
use crate::accounts::sessions::{self, SessionPolicy};
use crate::audit::Actor;
use crate::ids::{ApprovalId, SessionToken};
use crate::store::{self, ApprovalRow, DbConn, Store};

/// Why the desk refused; `Approval` carries the domain reason.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// No signed-in user: go to the login page.
    #[error("sign in first")]
    SignIn,
    /// The domain refused.
    #[error("{0}")]
    Approval(#[from] ApprovalError),
}

impl From<store::StoreError> for DeskError {
    fn from(error: store::StoreError) -> Self {
        DeskError::Approval(error.into())
    }
}

/// One vote as the page posts it.
#[derive(Debug, Clone, Copy)]
pub struct Vote<'a> {
    /// Approve or deny.
    pub decision: Decision,
    /// The approver's comment (a denial needs one).
    pub comment: Option<&'a str>,
    /// The second factor typed with it, if any.
    pub presented: &'a Presented,
}

/// The desk over a store.
#[derive(Debug, Clone)]
pub struct Desk {
    /// Storage.
    pub store: Store,
    /// Session timeouts.
    pub sessions: SessionPolicy,
    /// Fired after every change made through the desk (wakes this process's streams).
    pub signal: Signal,
    /// The second factors approvers present with their votes.
    pub step_up: StepUp,
    /// The group whose members may see and revoke any approval (`admin_group`).
    pub oversight: String,
}

fn viewer(
    c: &mut DbConn,
    cookie: Option<&SessionToken>,
    now: i64,
    policy: SessionPolicy,
    oversight: &str,
) -> Result<Viewer, DeskError> {
    let session = match cookie {
        Some(cookie) => sessions::find(c, cookie, now, policy)?,
        None => None,
    };
    let session = session.ok_or(DeskError::SignIn)?;
    let groups = store::groups_of_user(c, &session.user.id)?;
    let oversees = groups.iter().any(|g| g == oversight);
    Ok(Viewer {
        session,
        groups,
        oversees,
    })
}

/// An approval id from a URL path, parsed once the viewer is known (a signed-out
/// browser is sent to sign in first); one that cannot exist is unknown.
fn approval_id(text: &str) -> Result<ApprovalId, DeskError> {
    ApprovalId::parse(text).map_err(|_| ApprovalError::NotFound.into())
}

/// The requester, a member of a required group, or an admin may look; anyone else
/// learns nothing, not even that the approval exists.
fn may_view(row: &ApprovalRow, viewer: &Viewer) -> bool {
    row.requester_id == viewer.session.user.id
        || viewer.oversees
        || service::requirements_of(row).is_ok_and(|r| !r.groups_of(&viewer.groups).is_empty())
}

/// Approval `id`, if `viewer` may know of it (`NotFound` otherwise); expired on read
/// when due.
pub(super) fn visible(
    c: &mut DbConn,
    id: &str,
    viewer: &Viewer,
    now: i64,
) -> Result<ApprovalRow, DeskError> {
    shown(service::load(c, &approval_id(id)?, now)?, viewer)
}

/// `row` if `viewer` may know of it, `NotFound` otherwise.
fn shown(row: ApprovalRow, viewer: &Viewer) -> Result<ApprovalRow, DeskError> {
    if !may_view(&row, viewer) {
        return Err(ApprovalError::NotFound.into());
    }
    Ok(row)
}

/// Requests per inbox page.
pub const INBOX_PAGE: usize = 50;

/// One page of what `viewer` may decide now (a fresh login may still be due), and
/// whether another page follows. The query applies every rule of
/// [`service::may_decide`] that does not depend on the sign-in: pending and not past
/// its deadline (even before the sweep), a required group of the viewer's, not the
/// viewer's own request (unless it asks them to confirm), not voted on by the viewer.
fn decidable(
    c: &mut DbConn,
    viewer: &Viewer,
    now: i64,
    page: usize,
) -> Result<(Vec<ApprovalRow>, bool), DeskError> {
    let offset = i64::try_from(page.saturating_mul(INBOX_PAGE)).unwrap_or(i64::MAX);
    let window = (offset, i64::try_from(INBOX_PAGE + 1).unwrap_or(i64::MAX));
    let mut rows =
        store::decidable_approvals(c, &viewer.session.user.id, &viewer.groups, now, window)?;
    let more = rows.len() > INBOX_PAGE;
    rows.truncate(INBOX_PAGE);
    Ok((rows, more))
}

impl Desk {
    /// [`Desk::as_viewer`] for a change: once it commits, this process's streams are
    /// woken.
    pub(super) fn change_as_viewer<T>(
        &self,
        cookie: Option<&SessionToken>,
        now: i64,
        call: impl FnOnce(&mut DbConn, Viewer) -> Result<T, DeskError>,
    ) -> Result<T, DeskError> {
        let changed = self.as_viewer(cookie, now, call)?;
        self.signal.fire();
        Ok(changed)
    }

    /// Runs `call` in one write transaction, for the signed-in viewer (`SignIn` when
    /// nobody is).
    pub(super) fn as_viewer<T>(
        &self,
        cookie: Option<&SessionToken>,
        now: i64,
        call: impl FnOnce(&mut DbConn, Viewer) -> Result<T, DeskError>,
    ) -> Result<T, DeskError> {
        self.store.write(|c| {
            let viewer = viewer(c, cookie, now, self.sessions, &self.oversight)?;
            call(c, viewer)
        })
    }

    /// Runs `call` as a plain read (no transaction), for the signed-in viewer (`SignIn`
    /// when nobody is).
    fn read_as_viewer<T>(
        &self,
        cookie: Option<&SessionToken>,
        now: i64,
        call: impl FnOnce(&mut DbConn, Viewer) -> Result<T, DeskError>,
    ) -> Result<T, DeskError> {
        self.store.read(|c| {
            let viewer = viewer(c, cookie, now, self.sessions, &self.oversight)?;
            call(c, viewer)
        })
    }

    /// An approval as `cookie`'s user may see it (expired on read when due).
    ///
    /// Nearly every look finds nothing to expire, so it is a plain read: no write
    /// transaction (on SQLite, no wait behind the writers), no row lock (on
    /// PostgreSQL, three round trips fewer). Only an approval whose time is up is read
    /// again under the lock, and expired, in a write transaction.
    pub fn view(
        &self,
        id: &str,
        cookie: Option<&SessionToken>,
        now: i64,
    ) -> Result<ApprovalView, DeskError> {
        let looked = self.read_as_viewer(cookie, now, |c, viewer| {
            let row =
                store::approval_by_id(c, &approval_id(id)?)?.ok_or(ApprovalError::NotFound)?;
            let row = shown(row, &viewer)?;
            match service::is_due(&row, now) {
                true => Ok(None),
                false => build_view(c, row, &viewer, now).map(Some),
            }
        })?;
        match looked {
            Some(view) => Ok(view),
            None => self.as_viewer(cookie, now, |c, viewer| {
                let row = visible(c, id, &viewer, now)?;
                build_view(c, row, &viewer, now)
            }),
        }
    }

    /// Page `page` (from 0) of the pending approvals the signed-in user may decide,
    /// oldest first, and whether more follow (expired ones are swept first).
    pub fn inbox(
        &self,
        cookie: Option<&SessionToken>,
        now: i64,
        page: usize,
    ) -> Result<(String, Vec<ApprovalView>, bool), DeskError> {
        service::expire_due(&self.store, now)?;
        // Swept: what is left only needs reading.
        self.read_as_viewer(cookie, now, |c, viewer| {
            let (rows, more) = decidable(c, &viewer, now, page)?;
            let mut items = Vec::new();
            for row in rows {
                items.push(build_view(c, row, &viewer, now)?);
            }
            Ok((viewer.session.user.username.clone(), items, more))
        })
    }

    /// The ids the inbox would list now, without sweeping or building views: what the
    /// inbox stream compares every second. No write transaction (the session lookup
    /// may still touch or end the session, as on every page).
    pub fn inbox_ids(
        &self,
        cookie: Option<&SessionToken>,
        now: i64,
    ) -> Result<Vec<ApprovalId>, DeskError> {
        self.read_as_viewer(cookie, now, |c, viewer| {
            let (rows, _) = decidable(c, &viewer, now, 0)?;
            Ok(rows.into_iter().map(|row| row.id).collect())
        })
    }

    /// The stored state and deadline of approval `id`, read without a transaction, a
    /// lock or an access check: one primary-key read for a status stream whose access
    /// [`Desk::status`] has already checked, to learn whether to ask it again.
    pub fn peek(&self, id: &ApprovalId) -> Result<Option<(ApprovalState, i64)>, DeskError> {
        let row = self.store.read(|c| store::approval_by_id(c, id))?;
        Ok(row.map(|row| (row.state, row.expires_at)))
    }

    /// The requester's status poll; anyone else gets `NotFound`.
    pub fn status(
        &self,
        id: &str,
        cookie: Option<&SessionToken>,
        now: i64,
    ) -> Result<StatusView, DeskError> {
        let view = self.requester_view(id, cookie, now)?;
        let mut body = json!({"state": view.state.as_str(), "expires_at": view.expires_at});
        if let Some(map) = body.as_object_mut() {
            if view.state.is_decided() {
                map.insert("continue_url".into(), view.continue_url.clone().into());
            }
            // Only once decided: the votes are read after the state, outside a
            // transaction, so a pending view may already list the deciding vote.
            if let Some(vote) = view.votes.iter().rev().find(|v| {
                view.state.is_decided()
                    && (v.decision == Decision::Deny || view.state == ApprovalState::Approved)
            }) {
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
        cookie: Option<&SessionToken>,
        now: i64,
    ) -> Result<ApprovalView, DeskError> {
        let view = self.view(id, cookie, now)?;
        if !view.viewer_is_requester {
            return Err(ApprovalError::NotFound.into());
        }
        Ok(view)
    }

    /// An approver's vote, with the second factor they present when the approval's
    /// policy asks for one (checked in the vote's transaction: issue 18).
    pub fn decide(
        &self,
        id: &str,
        cookie: Option<&SessionToken>,
        vote: Vote<'_>,
        now: i64,
    ) -> Result<ApprovalRow, DeskError> {
        // A refused vote says why (DESIGN.md §8), but only to those who may see the
        // approval: anyone else gets the same 404 as its page gives them.
        let decided = self.change_as_viewer(cookie, now, |c, viewer| {
            let row = visible(c, id, &viewer, now)?;
            self.vote_on(c, &viewer, &row, vote, now)
        })?;
        decided.map_err(|refusal| ApprovalError::StepUp(refusal).into())
    }

    /// Records `viewer`'s vote on `row` (visible to them, and loaded under the lock by
    /// [`visible`] in this transaction) once the factor the policy
    /// asks for is proved; `Ok(Err(..))` is a refusal to commit all the same (its
    /// failure count, its consumed passkey ceremony).
    pub(super) fn vote_on(
        &self,
        c: &mut DbConn,
        viewer: &Viewer,
        row: &ApprovalRow,
        vote: Vote<'_>,
        now: i64,
    ) -> Result<Result<ApprovalRow, StepUpRefusal>, DeskError> {
        let mut approver = viewer.approver();
        let needs = service::requirements_of(row)?.approver_factor;
        if needs != ApproverFactor::None {
            // Refusals that have nothing to do with the factor come first, and cost no
            // code.
            let votes = store::decisions_for(c, &row.id)?;
            super::approver::may_vote(row, &approver, &votes, now)?;
            match self
                .step_up
                .prove(c, &approver.user_id, needs, vote.presented, now)?
            {
                Ok(proof) => approver.proof = proof,
                // Committed: the refusal's failure count must stay.
                Err(refusal) => return Ok(Err(refusal)),
            }
        }
        let row =
            service::decide_locked(c, row.clone(), &approver, vote.decision, vote.comment, now)?;
        Ok(Ok(row))
    }

    /// The requester cancels.
    pub fn cancel(
        &self,
        id: &str,
        cookie: Option<&SessionToken>,
        now: i64,
    ) -> Result<ApprovalRow, DeskError> {
        self.change_as_viewer(cookie, now, |c, viewer| {
            let id = approval_id(id)?;
            Ok(service::cancel(c, &id, &viewer.session.user.id, now)?)
        })
    }

    /// An approver of the group or an admin revokes.
    pub fn revoke(
        &self,
        id: &str,
        cookie: Option<&SessionToken>,
        now: i64,
    ) -> Result<ApprovalRow, DeskError> {
        self.change_as_viewer(cookie, now, |c, viewer| {
            let row = visible(c, id, &viewer, now)?;
            if !service::may_revoke(&row, &viewer.groups, viewer.oversees, now) {
                return Err(ApprovalError::Forbidden(
                    "only an approver of its groups or an admin may revoke, while access lasts",
                )
                .into());
            }
            Ok(service::revoke(
                c,
                &row.id,
                &Actor::User(viewer.session.user.id.clone()),
                now,
            )?)
        })
    }
}
