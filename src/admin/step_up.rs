//! What the console's step-up page offers (issue 19 with issue 18's factors): before
//! a change, an admin whose session has not proven `admin_factor` proves it there,
//! with a code from the authenticator app or an assertion by a passkey, whichever the
//! factor takes and the admin has (the proof itself is the account's session step-up,
//! `accounts/session_step_up.rs`).

use super::{Access, Console, Refusal};
use crate::accounts::totp::TotpFactor;
use crate::approval::ApproverFactor;
use crate::ids::SessionToken;
use crate::store::{self, StoreError};

/// What the step-up page shows.
#[derive(Debug, Clone)]
pub struct Elevation {
    /// The factor changes need.
    pub needs: ApproverFactor,
    /// The session may change things already.
    pub done: bool,
    /// A code may be typed here (the factor takes one and an app is enrolled).
    pub code: bool,
    /// A passkey assertion may be made here (the factor takes one and the admin has
    /// one).
    pub passkey: bool,
}

impl Console {
    /// The step-up page for the admin behind `cookie`.
    pub fn elevation(&self, cookie: Option<&SessionToken>, now: i64) -> Result<Elevation, Refusal> {
        let admin = self.admin(cookie, Access::Read, now)?;
        let user_id = &admin.session.user.id;
        let (totp, passkeys) = self.store.read(|c| -> Result<_, StoreError> {
            Ok((
                TotpFactor::is_enrolled(c, user_id)?,
                !store::passkeys_of(c, user_id)?.is_empty(),
            ))
        })?;
        let takes =
            |factor: ApproverFactor| self.factor == factor || self.factor == ApproverFactor::Any;
        Ok(Elevation {
            needs: self.factor,
            done: self.may_change(&admin, now),
            code: totp && takes(ApproverFactor::Totp),
            passkey: passkeys && takes(ApproverFactor::Passkey),
        })
    }
}
