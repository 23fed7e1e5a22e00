//! A decision proved with a passkey (issue 18; WebAuthn L2 §7.2). webauthn-rs keeps
//! the challenge random (it refuses chosen challenges, L2 §13.4.3), so the assertion is
//! bound to the decision on the server: starting the ceremony stores, with its state,
//! the approval, the decision, the comment and a digest of what the approver was shown;
//! finishing it consumes that row once, checks the approval is the same and unchanged,
//! and records the vote through the usual path with the assertion as its proof, all in
//! one transaction.

use webauthn_rs::prelude::{PublicKeyCredential, RequestChallengeResponse};

use super::desk::{visible, Desk, DeskError, Vote};
use super::factor::{ApproverFactor, Assertion, Presented};
use super::service::{self, ApprovalError};
use super::state::Decision;
use super::step_up::StepUpRefusal;
use crate::accounts::passkeys::{self, Binding, PasskeyError, EXPIRED, NONE_REGISTERED};
use crate::crypto;
use crate::ids::SessionToken;
use crate::store::{self, ApprovalRow, StoreError};

/// The purpose of an approval ceremony's row.
const PURPOSE: &str = "approve";

/// SHA-256 (hex) over a canonical text of what an approval asks: its id, client,
/// requester, scopes, details and creation time. A ceremony remembers it, so an
/// assertion answers for the request as it was shown and nothing else.
pub fn approval_digest(row: &ApprovalRow) -> String {
    let canonical = format!(
        "countersign approval digest v1\nid={}\nclient_id={}\nrequester={}\nscopes={}\ndetails={}\ncreated_at={}\n",
        row.id,
        row.client_id,
        row.requester_id,
        row.scopes.as_str(),
        row.details_digest.as_deref().unwrap_or(""),
        row.created_at,
    );
    crypto::sha256_hex(canonical.as_bytes())
}

impl Desk {
    /// Starts a passkey ceremony for the signed-in approver's `decision` on approval
    /// `id`: the ceremony id and the options for `navigator.credentials.get`. Who may
    /// vote is checked first, so nobody else gets a challenge.
    pub fn start_passkey_vote(
        &self,
        id: &str,
        cookie: Option<&SessionToken>,
        decision: Decision,
        comment: Option<&str>,
        now: i64,
    ) -> Result<(String, RequestChallengeResponse), DeskError> {
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if decision == Decision::Deny && comment.is_none() {
            return Err(ApprovalError::Unprocessable("a denial needs a comment saying why").into());
        }
        self.as_viewer(cookie, now, |c, viewer| {
            let row = visible(c, id, &viewer, now)?;
            let needs = service::requirements_of(&row)?.approver_factor;
            if !matches!(needs, ApproverFactor::Passkey | ApproverFactor::Any) {
                return Err(
                    ApprovalError::Forbidden("this request does not ask for a passkey").into(),
                );
            }
            let approver = viewer.approver();
            let votes = store::decisions_for(c, &row.id)?;
            super::approver::may_vote(&row, &approver, &votes, now)?;
            let binding = Binding {
                approval_id: row.id.clone(),
                digest: approval_digest(&row),
                decision: decision.as_str().to_owned(),
                comment: comment.map(str::to_owned),
            };
            let started = self
                .step_up
                .passkeys
                .start_assertion(c, &approver.user_id, binding, now);
            started.map_err(|error| match error {
                PasskeyError::Refused(NONE_REGISTERED) => {
                    refusal(StepUpRefusal::NotEnrolled(needs))
                }
                PasskeyError::Refused(why) => refusal(StepUpRefusal::Passkey(why)),
                PasskeyError::Unavailable => refusal(StepUpRefusal::Passkey(
                    "passkeys are not available on this server",
                )),
                PasskeyError::Store(error) => error.into(),
            })
        })
    }

    /// Finishes ceremony `ceremony_id` with the browser's assertion and records the
    /// decision it was started for. The ceremony is consumed even when refused.
    pub fn decide_with_passkey(
        &self,
        id: &str,
        cookie: Option<&SessionToken>,
        ceremony_id: &str,
        credential: PublicKeyCredential,
        now: i64,
    ) -> Result<ApprovalRow, DeskError> {
        let decided = self.change_as_viewer(cookie, now, |c, viewer| {
            let row = visible(c, id, &viewer, now)?;
            let user_id = &viewer.session.user.id;
            let Some(ceremony) = passkeys::consume(c, ceremony_id, PURPOSE, user_id, now)? else {
                return Ok(Err(StepUpRefusal::Passkey(EXPIRED)));
            };
            if ceremony.approval_id.as_ref() != Some(&row.id) {
                return Ok(Err(StepUpRefusal::Passkey(
                    "this passkey prompt was for another request",
                )));
            }
            if ceremony.approval_digest.as_deref() != Some(approval_digest(&row).as_str()) {
                return Ok(Err(StepUpRefusal::Changed));
            }
            let Some(decision) = ceremony.decision.as_deref().and_then(Decision::parse) else {
                return Err(
                    StoreError::Corrupt(format!("ceremony {ceremony_id} has no decision")).into(),
                );
            };
            let presented = Presented::Assertion(Box::new(Assertion {
                state: ceremony.state,
                credential,
            }));
            let vote = Vote {
                decision,
                comment: ceremony.comment.as_deref(),
                presented: &presented,
            };
            self.vote_on(c, &viewer, &row, vote, now)
        })?;
        decided.map_err(|refusal| ApprovalError::StepUp(refusal).into())
    }
}

fn refusal(why: StepUpRefusal) -> DeskError {
    ApprovalError::StepUp(why).into()
}
