//! Proving a second factor inside a session (issue 18 and 19): a current code from the
//! authenticator app, or an assertion by one of the user's passkeys (WebAuthn L2 §7.2,
//! a ceremony started for this session's user, used once within five minutes). Where
//! a change needs a factor proven in the session (the account page's factor changes,
//! the console's `admin_factor`), this is how it gets one, whoever signed the session
//! in (a password, an upstream provider). Proven, the session records a new
//! authentication under a new id ([`sessions::reauthenticate`]: `auth_time` now, the
//! method (`otp`, or `hwk`/`swk` for a passkey bound to one device or synced) and
//! `mfa` in its RFC 8176 `amr`), audited `session.elevated`. Wrong codes
//! are throttled and audited like those typed with a vote.

use serde_json::json;
use webauthn_rs::prelude::{PublicKeyCredential, RequestChallengeResponse};

use super::factors::{Account, AccountError};
use super::passkeys::{self, PasskeyError};
use super::sessions::{self, Session};
use crate::audit::{self, Actor, AuditAction};
use crate::ids::SessionToken;
use crate::store::{DbConn, StoreError};

/// The ceremony purpose of a step-up assertion.
const PURPOSE: &str = "step-up";

impl Account {
    /// Checks `code` against the signed-in user's authenticator app; on success the
    /// session's new cookie value. `Ok(Err(..))` is committed (the failure counts).
    pub fn step_up_with_code(
        &self,
        cookie: Option<&SessionToken>,
        code: &str,
        now: i64,
    ) -> Result<Result<SessionToken, AccountError>, AccountError> {
        self.store.write(|c| {
            let session = self.session(c, cookie, now)?;
            let checked =
                self.totp
                    .verify_throttled(c, &session.user.id, code.trim(), self.throttle, now)?;
            if let Err(refused) = checked {
                return Ok(Err(refused.into()));
            }
            Ok(Ok(elevate(c, &session, "otp", None, now)?))
        })
    }

    /// Starts a step-up assertion by one of the signed-in user's passkeys: the
    /// ceremony id and the options for `navigator.credentials.get`.
    pub fn start_step_up_passkey(
        &self,
        cookie: Option<&SessionToken>,
        now: i64,
    ) -> Result<(String, RequestChallengeResponse), AccountError> {
        self.store.write(|c| {
            let session = self.session(c, cookie, now)?;
            Ok(self
                .passkeys
                .start_user_assertion(c, &session.user.id, PURPOSE, now)?)
        })
    }

    /// Finishes a step-up assertion; on success the session's new cookie value.
    /// `Ok(Err(..))` is committed (the ceremony stays used).
    pub fn finish_step_up_passkey(
        &self,
        cookie: Option<&SessionToken>,
        ceremony_id: &str,
        credential: &PublicKeyCredential,
        now: i64,
    ) -> Result<Result<SessionToken, AccountError>, AccountError> {
        self.store.write(|c| {
            let session = self.session(c, cookie, now)?;
            let user_id = &session.user.id;
            let Some(row) = passkeys::consume(c, ceremony_id, PURPOSE, user_id, now)? else {
                return Ok(Err(PasskeyError::Refused(passkeys::EXPIRED).into()));
            };
            let checked = self
                .passkeys
                .verify_assertion(c, user_id, &row.state, credential, now)?;
            match checked {
                Ok(verified) => {
                    let method = verified.method();
                    Ok(Ok(elevate(
                        c,
                        &session,
                        method,
                        Some(verified.credential_id),
                        now,
                    )?))
                }
                Err(refused) => Ok(Err(refused.into())),
            }
        })
    }
}

/// Records the proven `method` in `session` under a new id, audited.
fn elevate(
    c: &mut DbConn,
    session: &Session,
    method: &str,
    credential_id: Option<String>,
    now: i64,
) -> Result<SessionToken, StoreError> {
    let (cookie, amr) = sessions::reauthenticate(c, session, method, now)?;
    audit::record(
        c,
        &Actor::User(session.user.id.clone()),
        AuditAction::SessionElevated,
        &format!("user:{}", session.user.username),
        json!({"amr": amr, "credential_id": credential_id}),
        now,
    )?;
    Ok(cookie)
}
