//! Approver step-up (issue 18): TOTP enrolment on the account page, a scope's
//! `--approver-factor` checked at the decision itself, the evidence of how each
//! approver proved themselves, throttling and recovery.

pub(crate) mod support;
mod totp;
mod totp_decisions;
