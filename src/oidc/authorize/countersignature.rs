//! The countersignature step of the authorize pipeline (DESIGN.md §5.1 steps 4-6): on
//! the first pass it creates the approval and parks the request; on later passes it
//! reports the approval's state, and redeems an approved one (single use).

use super::flow::Step;
use super::stored::move_request;
use super::{already_handled, AuthorizeError, RequestEvent, RequestState};
use crate::accounts::sessions::Session;
use crate::approval::hooks::HookVerdict;
use crate::approval::{self, service, ApprovalState, NewApproval, Requirements};
use crate::ids::ApprovalId;
use crate::oidc::error::OAuthError;
use crate::oidc::rar;
use crate::oidc::Provider;
use crate::store::{ApprovalRow, DbConn, RequestRow};

/// Where the countersignature stands.
pub(super) enum Countersigned {
    /// Approved and now redeemed; the request as it now stands (parked, when this
    /// very pass created an approval its rules approved at once).
    Approved(ApprovalId, Box<RequestRow>),
    /// Still waiting.
    Waiting(ApprovalId),
    /// Ended without tokens; the request has failed.
    Ended(OAuthError),
}

impl Provider {
    /// Creates the approval on the first pass, then follows it.
    pub(super) fn countersigned(
        &self,
        c: &mut DbConn,
        step: &Step<'_>,
        session: &Session,
        requirements: Requirements,
        now: i64,
    ) -> Result<Countersigned, AuthorizeError> {
        let (row, approval) = if step.row.state != RequestState::AwaitingApproval {
            let remind_at = self
                .remind_before
                .map(|before| now + requirements.pending_ttl - before);
            let created = ask_for_approval(
                c,
                step,
                session,
                requirements,
                (remind_at, self.continue_after_approval),
                now,
            )?;
            // Rules may have decided it already (approved or denied at creation).
            let parked = RequestRow {
                state: RequestState::AwaitingApproval,
                user_id: Some(session.user.id.clone()),
                ..step.row.clone()
            };
            (parked, created)
        } else {
            let found =
                service::load_for_request(c, &step.row.id, now).map_err(approval_failure)?;
            let Some(loaded) = found else {
                return Err(OAuthError::server_error(&"awaiting request without approval").into());
            };
            (step.row.clone(), loaded)
        };
        let mut ended = |description: &'static str| -> Result<Countersigned, AuthorizeError> {
            move_request(c, &row, RequestEvent::ApprovalEnded, &session.user.id)?;
            Ok(Countersigned::Ended(OAuthError::access_denied(description)))
        };
        match approval.state {
            ApprovalState::Pending => Ok(Countersigned::Waiting(approval.id)),
            ApprovalState::Approved => {
                service::redeem(c, &approval, now).map_err(approval_failure)?;
                Ok(Countersigned::Approved(approval.id, Box::new(row.clone())))
            }
            ApprovalState::Denied => ended(service::denial_description(&approval)),
            ApprovalState::Expired => ended("the approval request expired before it was decided"),
            ApprovalState::Cancelled => ended("the request was cancelled by the user"),
            ApprovalState::Revoked => ended("the approval was revoked"),
            ApprovalState::Redeemed => Err(already_handled().into()),
        }
    }
}

/// Creates the approval (with the justification the consent page asked for) and parks
/// the request until it is decided; the approval is pending unless rules decided it.
fn ask_for_approval(
    c: &mut DbConn,
    step: &Step<'_>,
    session: &Session,
    requirements: Requirements,
    (remind_at, continue_after_approval): (Option<i64>, i64),
    now: i64,
) -> Result<ApprovalRow, AuthorizeError> {
    let row = step.row;
    let justification = step
        .justification
        .as_deref()
        .map(str::trim)
        .filter(|j| !j.is_empty())
        .map(str::to_owned);
    if requirements.require_justification && justification.is_none() {
        return Err(
            OAuthError::invalid_request("a justification is required for this request").into(),
        );
    }
    move_request(c, row, RequestEvent::AwaitApproval, &session.user.id)?;
    let new = NewApproval {
        request_id: row.id.clone(),
        requester_id: session.user.id.clone(),
        client_id: step.valid.client.client_id.clone(),
        scopes: step.valid.scopes.clone(),
        redirect_uri: step.valid.redirect_uri.clone(),
        justification,
        ip: step.info.ip.clone(),
        user_agent: step.info.user_agent.clone(),
        requirements,
        remind_at,
        continue_after_approval,
        details: step.valid.details.as_ref().map(|d| d.details.clone()),
        binding_message: None,
        backchannel: false,
        hook_verdicts: every_hook_heard(c, step, session)?,
    };
    Ok(service::create(c, new, now)?)
}

/// The verdicts asked on the consent page's allow, and a failure (so the action
/// type's degraded mode applies) for any hook of the request that was not heard
/// (the consultation could not load the request, or ran into an error).
fn every_hook_heard(
    c: &mut DbConn,
    step: &Step<'_>,
    session: &Session,
) -> Result<Vec<HookVerdict>, AuthorizeError> {
    let Some(details) = &step.valid.details else {
        return Ok(Vec::new());
    };
    let client_id = step.valid.client.client_id.as_str();
    let calls = rar::hook_calls(c, details, &session.user.id, client_id, ("front", None))?;
    let mut verdicts = step.hook_verdicts.clone();
    for call in calls {
        if !verdicts.iter().any(|v| v.entry == call.entry) {
            verdicts.push(HookVerdict::failed(&call, "the hook was not asked"));
        }
    }
    Ok(verdicts)
}

fn approval_failure(error: approval::ApprovalError) -> AuthorizeError {
    match error {
        approval::ApprovalError::Store(e) => AuthorizeError::Render(e.into()),
        other => AuthorizeError::Render(OAuthError::invalid_request(other.to_string())),
    }
}
