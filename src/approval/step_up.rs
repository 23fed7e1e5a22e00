//! The step-up at a decision (issue 18, DESIGN.md §5.5): when the approval's policy
//! asks for a second factor, the approver presents it with the vote, and it is checked
//! in the vote's own transaction, so the factor proves this decision and nothing else.
//! Failed codes are throttled per approver like passwords, and the failure is kept even
//! though the vote is not.

use super::factor::{ApproverFactor, Presented, Proof};
use crate::accounts::login::ThrottlePolicy;
use crate::accounts::totp::{CodeRefused, TotpFactor};
use crate::ids::UserId;
use crate::store::{DbConn, StoreError};

/// The factors an approver may present, and how failures are throttled.
#[derive(Debug, Clone)]
pub struct StepUp {
    /// TOTP codes and recovery codes.
    pub totp: TotpFactor,
    /// The login throttle's limits, applied per approver to failed codes.
    pub throttle: ThrottlePolicy,
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
        match needs {
            ApproverFactor::None => Ok(Ok(Proof::None)),
            // Passkeys are asserted through their own ceremony, not a typed code.
            ApproverFactor::Passkey => Ok(Err(StepUpRefusal::NotEnrolled(needs))),
            ApproverFactor::Totp | ApproverFactor::Any => {
                let Presented::Code(code) = presented else {
                    return Ok(Err(StepUpRefusal::Required(needs)));
                };
                self.check_code(c, user_id, needs, code, now)
            }
        }
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
