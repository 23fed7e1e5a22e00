//! Passkeys on the account page (issue 18; WebAuthn L2 §7.1 registration): start a
//! registration (the options for `navigator.credentials.create`), finish it (the
//! ceremony is consumed whether or not the answer verifies), and remove a passkey.
//! Adding or removing one needs a recent sign-in and, once the account holds a factor,
//! that factor (`factor_changes.rs`), so an old session (left open, or stolen) cannot
//! give its holder a passkey of theirs to decide with.
//! Each change is audited in its transaction, naming the credential, never its key.

use serde_json::json;
use webauthn_rs::prelude::{CreationChallengeResponse, RegisterPublicKeyCredential};

use super::factor_changes::FRESH_SIGN_IN;
use super::factors::{Account, AccountError};
use super::passkeys::PasskeyError;
use super::sessions::Session;
use crate::audit::{self, Actor, AuditAction};
use crate::ids::SessionToken;
use crate::store;

/// Longest passkey name kept.
pub const NAME_MAX: usize = 64;

fn fresh(session: &Session, now: i64) -> Result<(), AccountError> {
    match now - session.auth_time > FRESH_SIGN_IN {
        true => Err(AccountError::FreshSignIn),
        false => Ok(()),
    }
}

impl Account {
    /// Starts registering a passkey called `name`, after [`Account::may_change`]
    /// (`code`: the form's authenticator code, if any): the ceremony id and the
    /// options.
    pub fn start_passkey(
        &self,
        cookie: Option<&SessionToken>,
        name: &str,
        code: Option<&str>,
        now: i64,
    ) -> Result<(String, CreationChallengeResponse), AccountError> {
        let name: String = name.trim().chars().take(NAME_MAX).collect();
        if name.is_empty() {
            return Err(PasskeyError::Refused("give the passkey a name").into());
        }
        type Started = (String, CreationChallengeResponse);
        self.store
            .write(|c| -> Result<Result<Started, AccountError>, AccountError> {
                let session = self.session(c, cookie, now)?;
                if let Err(refused) = self.may_change(c, &session, code, now)? {
                    return Ok(Err(refused));
                }
                Ok(Ok(self.passkeys.start_registration(
                    c,
                    &session.user,
                    &name,
                    now,
                )?))
            })?
    }

    /// Finishes registration `ceremony_id` with the browser's answer; the passkey's
    /// name.
    pub fn finish_passkey(
        &self,
        cookie: Option<&SessionToken>,
        ceremony_id: &str,
        credential: &RegisterPublicKeyCredential,
        now: i64,
    ) -> Result<String, AccountError> {
        let finished =
            self.store
                .write(|c| -> Result<Result<String, AccountError>, AccountError> {
                    let session = self.session(c, cookie, now)?;
                    fresh(&session, now)?;
                    let user_id = &session.user.id;
                    let stored = match self.passkeys.finish_registration(
                        c,
                        user_id,
                        ceremony_id,
                        credential,
                        now,
                    )? {
                        Ok(stored) => stored,
                        // Committed: the ceremony stays consumed.
                        Err(refusal) => return Ok(Err(refusal.into())),
                    };
                    audit::record(
                        c,
                        &Actor::User(user_id.clone()),
                        AuditAction::FactorEnrolled,
                        &format!("user:{user_id}"),
                        json!({"factor": "passkey", "credential_id": stored.credential_id,
                        "name": stored.name}),
                        now,
                    )?;
                    Ok(Ok(stored.name))
                })?;
        finished
    }

    /// Removes the signed-in user's passkey `credential_id`, after
    /// [`Account::may_change`].
    pub fn remove_passkey(
        &self,
        cookie: Option<&SessionToken>,
        credential_id: &str,
        code: Option<&str>,
        now: i64,
    ) -> Result<(), AccountError> {
        self.store
            .write(|c| -> Result<Result<(), AccountError>, AccountError> {
                let session = self.session(c, cookie, now)?;
                if let Err(refused) = self.may_change(c, &session, code, now)? {
                    return Ok(Err(refused));
                }
                // A refusal here rolls back: nothing was removed, nothing to keep.
                self.delete_passkey(c, &session, credential_id, now)?;
                Ok(Ok(()))
            })?
    }

    fn delete_passkey(
        &self,
        c: &mut store::DbConn,
        session: &Session,
        credential_id: &str,
        now: i64,
    ) -> Result<(), AccountError> {
        let user_id = &session.user.id;
        if !store::delete_passkey(c, user_id, credential_id)? {
            return Err(PasskeyError::Refused("you have no such passkey").into());
        }
        audit::record(
            c,
            &Actor::User(user_id.clone()),
            AuditAction::FactorRemoved,
            &format!("user:{user_id}"),
            json!({"factor": "passkey", "credential_id": credential_id}),
            now,
        )?;
        Ok(())
    }
}
