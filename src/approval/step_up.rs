//! The step-up at a decision (issue 18, DESIGN.md §5.5): when the approval's policy
//! asks for a second factor, the approver presents it with the vote, and it is checked
//! in the vote's own transaction, so the factor proves this decision and nothing else.
//! Failed codes are throttled per approver like passwords, and the failure is kept even
//! though the vote is not. A passkey requirement is met only by an assertion (WebAuthn
//! L2 §7.2) answering a ceremony begun for this vote: a typed code never meets it.

use serde_json::json;

use super::factor::{ApproverFactor, Assertion, Presented, Proof};
use crate::accounts::login::ThrottlePolicy;
use crate::accounts::passkeys::{PasskeyError, PasskeyFactor, NOT_VERIFIED};
use crate::accounts::totp::{CodeRefused, TotpFactor};
use crate::audit::{self, Actor, AuditAction};
use crate::ids::UserId;
use crate::store::{self, DbConn, StoreError};

const UNAVAILABLE: &str = "passkeys are not available on this server";

/// The factors an approver may present, and how failures are throttled.
#[derive(Debug, Clone)]
pub struct StepUp {
    /// TOTP codes and recovery codes.
    pub totp: TotpFactor,
    /// The login throttle's limits, applied per approver to failed codes.
    pub throttle: ThrottlePolicy,
    /// Passkeys (the WebAuthn relying party).
    pub passkeys: PasskeyFactor,
}

/// Why a vote's factor was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepUpRefusal {
    /// The vote came without the factor the policy asks for.
    #[error("this request asks for {}: enter it with your decision", .0.describe())]
    Required(ApproverFactor),
    /// The approver has not enrolled the factor the policy asks for.
    #[error("this request asks for {}, which your account does not have yet: enrol it on your account page", .0.describe())]
    NotEnrolled(ApproverFactor),
    /// The code was wrong or already used.
    #[error("the code is not valid (a code works once; wait for the next one)")]
    WrongCode,
    /// Too many wrong codes.
    #[error("too many wrong codes: try again in {retry_after} seconds")]
    Throttled {
        /// Seconds to wait.
        retry_after: i64,
    },
    /// The passkey assertion was refused; the text says why.
    #[error("{0}")]
    Passkey(&'static str),
    /// The request changed after the passkey prompt began: what was signed for is not
    /// what would be approved.
    #[error("the request changed since you started: review it again")]
    Changed,
}

impl StepUp {
    /// Checks what `user_id` presented against `needs`; `Ok(Err(..))` is a refusal
    /// whose failure count must be committed although the vote is not recorded.
    pub fn prove(
        &self,
        c: &mut DbConn,
        user_id: &UserId,
        needs: ApproverFactor,
        presented: &Presented,
        now: i64,
    ) -> Result<Result<Proof, StepUpRefusal>, StoreError> {
        use ApproverFactor as F;
        match (needs, presented) {
            (F::None, _) => Ok(Ok(Proof::None)),
            (F::Totp | F::Any, Presented::Code(code)) => {
                self.check_code(c, user_id, needs, code, now)
            }
            (F::Passkey | F::Any, Presented::Assertion(assertion)) => {
                self.check_assertion(c, user_id, assertion, now)
            }
            // A typed code never meets a passkey requirement, nor a passkey a TOTP one
            // (the policy named the factor).
            (F::Passkey, Presented::Code(_) | Presented::Nothing) => {
                if store::passkeys_of(c, user_id)?.is_empty() {
                    return Ok(Err(StepUpRefusal::NotEnrolled(needs)));
                }
                Ok(Err(StepUpRefusal::Required(needs)))
            }
            (F::Totp | F::Any, _) => Ok(Err(StepUpRefusal::Required(needs))),
        }
    }

    fn check_assertion(
        &self,
        c: &mut DbConn,
        user_id: &UserId,
        assertion: &Assertion,
        now: i64,
    ) -> Result<Result<Proof, StepUpRefusal>, StoreError> {
        let checked = self.passkeys.verify_assertion(
            c,
            user_id,
            &assertion.state,
            &assertion.credential,
            now,
        )?;
        let why = match checked {
            Ok(verified) => {
                return Ok(Ok(Proof::Passkey {
                    credential_id: verified.credential_id,
                    synced: verified.synced,
                }))
            }
            Err(PasskeyError::Refused(why)) => why,
            Err(PasskeyError::Unavailable) => UNAVAILABLE,
            Err(PasskeyError::Store(_)) => NOT_VERIFIED,
        };
        // Kept with the refusal (committed), as a wrong code is: someone tried.
        audit::record(
            c,
            &Actor::User(user_id.clone()),
            AuditAction::StepUpFailed,
            &format!("user:{user_id}"),
            json!({"factor": "passkey", "reason": why}),
            now,
        )?;
        Ok(Err(StepUpRefusal::Passkey(why)))
    }

    fn check_code(
        &self,
        c: &mut DbConn,
        user_id: &UserId,
        needs: ApproverFactor,
        code: &str,
        now: i64,
    ) -> Result<Result<Proof, StepUpRefusal>, StoreError> {
        let checked = self
            .totp
            .verify_throttled(c, user_id, code, self.throttle, now)?;
        Ok(checked
            .map(|()| Proof::Totp)
            .map_err(|refused| match refused {
                CodeRefused::NotEnrolled => StepUpRefusal::NotEnrolled(needs),
                CodeRefused::Wrong => StepUpRefusal::WrongCode,
                CodeRefused::Throttled { retry_after } => StepUpRefusal::Throttled { retry_after },
            }))
    }
}
