//! The console's step-up (issue 19 with issue 18's factors): before a change, an
//! admin whose session has not proven `admin_factor` proves it here. A passkey is
//! proven by signing in with it (the page links to `/login`); a code from the
//! authenticator app is checked here (throttled and audited like the codes typed with
//! a vote), and the session then records a new authentication: `auth_time` now, and
//! `otp` and `mfa` added to its RFC 8176 `amr`.

use serde_json::json;

use super::{Access, Console, Refusal};
use crate::accounts::totp::TotpFactor;
use crate::approval::step_up::StepUpRefusal;
use crate::approval::{ApproverFactor, Presented};
use crate::audit::{self, AuditAction};
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
    /// A passkey sign-in would do (the factor takes one and the admin has one).
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

    /// Checks `code` for the admin behind `cookie` and, when it is right, records the
    /// new authentication in their session. `Ok(Err(..))`: the code was refused (its
    /// failure counted and audited, committed).
    pub fn elevate(
        &self,
        cookie: Option<&SessionToken>,
        code: &str,
        now: i64,
    ) -> Result<Result<(), StepUpRefusal>, Refusal> {
        let admin = self.admin(cookie, Access::Read, now)?;
        if !matches!(self.factor, ApproverFactor::Totp | ApproverFactor::Any) {
            return Ok(Err(StepUpRefusal::Required(self.factor)));
        }
        let session = admin.session;
        let presented = Presented::Code(code.trim().to_owned());
        Ok(self.store.write(|c| -> Result<_, StoreError> {
            let proved =
                self.step_up
                    .prove(c, &session.user.id, ApproverFactor::Totp, &presented, now)?;
            if let Err(refused) = proved {
                return Ok(Err(refused));
            }
            let mut amr = session.amr.clone();
            for method in ["otp", "mfa"] {
                if !amr.iter().any(|m| m == method) {
                    amr.push(method.to_owned());
                }
            }
            store::reauthenticate_session(c, &session.id_hash, now, &amr.join(" "))?;
            audit::record(
                c,
                &audit::Actor::User(session.user.id.clone()),
                AuditAction::SessionElevated,
                &format!("user:{}", session.user.username),
                json!({"amr": amr, "for": "admin console"}),
                now,
            )?;
            Ok(Ok(()))
        })?)
    }
}
