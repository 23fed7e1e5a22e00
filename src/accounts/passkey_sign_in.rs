//! Signing in with a passkey instead of a password (issue 18; WebAuthn L2 §7.2 with a
//! discoverable credential, §6.2.2): the browser asks for any passkey of this relying
//! party, the authenticator picks one and answers with its user handle, and the
//! server finds the credential by its id, checks that the handle names its owner, and
//! verifies the assertion with user verification required. No username is typed, so
//! there is nothing to guess and nothing to throttle per account: each ceremony is
//! single-use and expires in five minutes, and a failure is audited like a wrong
//! password. A disabled user, or one linked to an upstream provider (who signs in
//! there, so that the provider's offboarding holds), is refused.
//!
//! The session records `amr: ["hwk", "mfa"]` (RFC 8176): possession of the key (`swk`
//! instead for a synced, backup-eligible passkey, whose key is not bound to one
//! device's hardware), and the PIN or biometric the authenticator verified.

use serde_json::json;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PublicKeyCredential, RequestChallengeResponse,
};

use super::passkeys::{self, key_method, PasskeyError, PasskeyFactor, NOT_VERIFIED};
use super::sessions::{self, SessionPolicy};
use crate::audit::{self, Actor, AuditAction};
use crate::crypto;
use crate::ids::{RequestId, SessionToken, UserId};
use crate::store::{self, DbConn, Store, StoreError, UserRow};

/// A passkey sign-in's answer from a browser.
#[derive(Debug)]
pub struct PasskeyAttempt<'a> {
    /// The ceremony it answers.
    pub ceremony_id: &'a str,
    /// The authenticator's assertion.
    pub credential: &'a PublicKeyCredential,
    /// Client IP address (for the audit trail).
    pub ip: &'a str,
    /// The browser's current session cookie, ended on success (the id is rotated).
    pub previous_session: Option<&'a SessionToken>,
    /// The stored authorization request this sign-in is for, if any.
    pub request: Option<&'a str>,
}

/// A passkey sign-in that worked.
#[derive(Debug)]
pub struct PasskeySignIn {
    /// Cookie value of the new session.
    pub cookie: SessionToken,
    /// The user.
    pub user: Box<UserRow>,
}

impl PasskeyFactor {
    /// Starts a sign-in: the ceremony id and the options for
    /// `navigator.credentials.get` (no `allowCredentials`: the authenticator offers
    /// the passkeys it holds for this RP ID).
    pub fn start_sign_in(
        &self,
        store: &Store,
        now: i64,
    ) -> Result<(String, RequestChallengeResponse), PasskeyError> {
        let webauthn = self.webauthn()?;
        let (mut options, state) = webauthn
            .start_discoverable_authentication()
            .map_err(|error| passkeys::refused("sign-in start", &error))?;
        // webauthn-rs asks for conditional mediation (autofill); the page asks on a
        // button press instead, which every browser with passkeys supports.
        options.mediation = None;
        let row = passkeys::ceremony(None, "login", passkeys::to_json(&state)?, now);
        store.write(|c| store::insert_ceremony(c, &row, now))?;
        Ok((row.id, options))
    }

    /// Finishes a sign-in and starts the session, in one transaction with the
    /// ceremony's consumption and the counter's rise. `Ok(Err(..))` is committed: the
    /// ceremony stays used and the failure audited.
    pub fn finish_sign_in(
        &self,
        store: &Store,
        attempt: &PasskeyAttempt<'_>,
        policy: SessionPolicy,
        now: i64,
    ) -> Result<Result<PasskeySignIn, PasskeyError>, StoreError> {
        store.write(|c| {
            let (user, synced) = match self.check(c, attempt, now)? {
                Ok(checked) => checked,
                Err(refusal) => {
                    audit::record(
                        c,
                        &Actor::Anonymous,
                        AuditAction::LoginFailed,
                        "user:(passkey)",
                        json!({"ip": attempt.ip, "method": "passkey"}),
                        now,
                    )?;
                    return Ok(Err(refusal));
                }
            };
            if let Some(previous) = attempt.previous_session {
                sessions::end(c, previous)?;
            }
            let amr = [key_method(synced), "mfa"];
            let cookie = sessions::start(c, &user.id, &amr, now, policy)?;
            if let Some(request) = attempt.request.and_then(|id| RequestId::parse(id).ok()) {
                store::note_request_login(c, &request, now)?;
            }
            audit::record(
                c,
                &Actor::User(user.id.clone()),
                AuditAction::LoginSucceeded,
                &format!("user:{}", user.username),
                json!({"ip": attempt.ip, "amr": amr, "method": "passkey"}),
                now,
            )?;
            Ok(Ok(PasskeySignIn {
                cookie,
                user: Box::new(user),
            }))
        })
    }

    /// Consumes the ceremony and verifies the assertion; the user it signs in, and
    /// whether the passkey is a synced one.
    fn check(
        &self,
        c: &mut DbConn,
        attempt: &PasskeyAttempt<'_>,
        now: i64,
    ) -> Result<Result<(UserRow, bool), PasskeyError>, StoreError> {
        let webauthn = match self.webauthn() {
            Ok(webauthn) => webauthn,
            Err(unavailable) => return Ok(Err(unavailable)),
        };
        let Some(row) = store::consume_sign_in_ceremony(c, attempt.ceremony_id, now)? else {
            return Ok(Err(PasskeyError::Refused(passkeys::EXPIRED)));
        };
        let Ok(state) = serde_json::from_str::<DiscoverableAuthentication>(&row.state) else {
            return Err(StoreError::Corrupt("unreadable sign-in state".into()));
        };
        let (handle, raw_id) =
            match webauthn.identify_discoverable_authentication(attempt.credential) {
                Ok(found) => found,
                Err(error) => return Ok(Err(passkeys::refused("sign-in identify", &error))),
            };
        let id = crypto::b64url(raw_id);
        let Some(stored) = store::passkey_by_id(c, &id)? else {
            tracing::info!("a passkey sign-in named an unknown credential");
            return Ok(Err(PasskeyError::Refused(NOT_VERIFIED)));
        };
        // The handle is not signed; the check that matters is the signature by the
        // stored key. Still, a handle that names someone else is a forgery or a mix-up.
        if passkeys::user_handle(&stored.user_id) != handle {
            tracing::warn!(credential_id = %id, "a passkey sign-in's user handle is not its owner's");
            return Ok(Err(PasskeyError::Refused(NOT_VERIFIED)));
        }
        let passkey = passkeys::parse_passkey(&stored)?;
        let result = match webauthn.finish_discoverable_authentication_v2(
            attempt.credential,
            state,
            &passkey,
        ) {
            Ok(result) => result,
            Err(error) => return Ok(Err(passkeys::refused("sign-in", &error))),
        };
        let verified = match passkeys::record_use(c, passkey, &result, now)? {
            Ok(verified) => verified,
            Err(refused) => return Ok(Err(refused)),
        };
        let Some(user) = store::user_by_id(c, &stored.user_id)?.filter(|user| !user.disabled)
        else {
            return Ok(Err(refused_user(&stored.user_id, "disabled")));
        };
        // Someone who came through an upstream provider signs in there, so that the
        // provider's offboarding holds; their passkeys still prove their decisions.
        if store::has_upstream_link(c, &user.id)? {
            return Ok(Err(refused_user(&user.id, "signs in through an upstream")));
        }
        Ok(Ok((user, verified.synced)))
    }
}

fn refused_user(user_id: &UserId, why: &'static str) -> PasskeyError {
    tracing::info!(%user_id, why, "a passkey sign-in was refused for its user");
    PasskeyError::Refused(NOT_VERIFIED)
}
