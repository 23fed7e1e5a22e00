//! Who may change an account's second factors (issue 18): every change needs a
//! sign-in from the last ten minutes, and once the account holds a factor, a change
//! also needs that factor, so a stolen password (or a session left open) can neither
//! add the thief's own factor nor strip the owner's. The factor is proven in the
//! session (a passkey sign-in, or a step-up: `session_step_up.rs`), or by a current
//! code from the authenticator app typed into the form (each code once, wrong codes
//! throttled like passwords). Someone who lost every factor is helped by an admin
//! (`countersign user reset-factors`).

use super::factors::{Account, AccountError};
use super::sessions::Session;
use super::totp::TotpFactor;
use crate::store::{self, DbConn, StoreError};

/// The session methods that stand for a factor proven by this server.
const LOCAL_PROOFS: [&str; 3] = ["otp", "hwk", "swk"];

/// The refusal when only passkeys are held and none was proven in the session.
pub const CONFIRM_WITH_PASSKEY: &str =
    "confirm with one of your passkeys first: changing factors needs one of them";

/// How recent a sign-in must be to change factors (the default `approver_max_age`).
pub const FRESH_SIGN_IN: i64 = 600;

/// What a change of factors needs beyond a recent sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofNeeded {
    /// Nothing: no factor held yet, or one already proven in this session.
    Nothing,
    /// A current code from the enrolled authenticator app.
    Code,
    /// Only passkeys are held: confirm with one of them first (a step-up, or a
    /// passkey sign-in).
    Passkey,
}

impl Account {
    /// What `session` must show to change its user's factors.
    pub(super) fn proof_needed(
        &self,
        c: &mut DbConn,
        session: &Session,
    ) -> Result<ProofNeeded, StoreError> {
        let user_id = &session.user.id;
        // A factor proven in this session (a passkey sign-in, or a step-up): upstream
        // sessions never carry these methods (`accounts/upstream.rs`).
        if session
            .amr
            .iter()
            .any(|method| LOCAL_PROOFS.contains(&method.as_str()))
        {
            return Ok(ProofNeeded::Nothing);
        }
        if TotpFactor::is_enrolled(c, user_id)? {
            return Ok(ProofNeeded::Code);
        }
        match store::passkeys_of(c, user_id)?.is_empty() {
            true => Ok(ProofNeeded::Nothing),
            false => Ok(ProofNeeded::Passkey),
        }
    }

    /// Checks that `session` may change its factors now, given the form's `code`.
    /// `Ok(Err(..))` must be committed: a wrong code counts against the throttle.
    pub(super) fn may_change(
        &self,
        c: &mut DbConn,
        session: &Session,
        code: Option<&str>,
        now: i64,
    ) -> Result<Result<(), AccountError>, StoreError> {
        if now - session.auth_time > FRESH_SIGN_IN {
            return Ok(Err(AccountError::FreshSignIn));
        }
        match self.proof_needed(c, session)? {
            ProofNeeded::Nothing => Ok(Ok(())),
            ProofNeeded::Passkey => Ok(Err(AccountError::ProveFactor(CONFIRM_WITH_PASSKEY))),
            ProofNeeded::Code => {
                let Some(code) = code.map(str::trim).filter(|code| !code.is_empty()) else {
                    return Ok(Err(AccountError::ProveFactor(
                        "enter a current code from your authenticator app: changing factors needs it",
                    )));
                };
                let checked =
                    self.totp
                        .verify_throttled(c, &session.user.id, code, self.throttle, now)?;
                Ok(checked.map_err(AccountError::from))
            }
        }
    }
}
