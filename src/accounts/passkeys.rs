//! Passkeys (issue 18): the WebAuthn relying party (WebAuthn L2 §7, through
//! kanidm's webauthn-rs) for registration (§7.1) and assertion (§7.2). The relying
//! party is the issuer: its host is the RP ID (§5.1.3 step 7 wants a domain, so an
//! issuer on a bare IP address has no passkeys), its origin the only origin accepted.
//! User verification is required both ways (webauthn-rs's passkey defaults).
//!
//! Each ceremony's state is a `webauthn_ceremonies` row, consumed once, never memory
//! (any instance may finish it) nor a cookie (a client-held state could be replayed).
//! Every failed ceremony answers the same sentence, as kanidm does: the cause goes to
//! the log, not to whoever is probing.

use std::sync::Arc;

use webauthn_rs::prelude::{
    AuthenticationResult, CreationChallengeResponse, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url, Uuid, Webauthn, WebauthnBuilder,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use crate::crypto;
use crate::ids::UserId;
use crate::store::{self, CeremonyRow, DbConn, PasskeyRow, StoreError, UserRow};

/// Seconds a ceremony may take (webauthn-rs's authenticator timeout, WebAuthn L3
/// §15.1's recommended 300 s).
pub const CEREMONY_SECONDS: i64 = 300;

/// The sentence for every failed assertion or registration.
pub const NOT_VERIFIED: &str = "the passkey could not be verified";

/// The WebAuthn relying party, when the issuer can be one.
#[derive(Debug, Clone)]
pub struct PasskeyFactor {
    webauthn: Option<Arc<Webauthn>>,
}

/// Why a passkey call was refused.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The issuer is not a domain name, so there is no RP ID.
    #[error("passkeys are not available on this server (its issuer is not a domain name)")]
    Unavailable,
    /// The ceremony failed; the text says why, in words fit for anyone.
    #[error("{0}")]
    Refused(&'static str),
    /// Storage failed.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// What an approval ceremony binds its assertion to (stored with the state).
#[derive(Debug, Clone)]
pub struct Binding {
    /// The approval.
    pub approval_id: crate::ids::ApprovalId,
    /// SHA-256 of what the approver was shown.
    pub digest: String,
    /// `approve` or `deny`.
    pub decision: String,
    /// The approver's comment.
    pub comment: Option<String>,
}

impl PasskeyFactor {
    /// The relying party for `issuer`, or none (logged) when its host is no domain.
    pub fn new(issuer: &str) -> Self {
        let webauthn = Url::parse(issuer)
            .ok()
            .and_then(|origin| relying_party(&origin))
            .map(Arc::new);
        if webauthn.is_none() {
            tracing::warn!(
                issuer,
                "passkeys are off: the issuer's host is not a domain"
            );
        }
        PasskeyFactor { webauthn }
    }

    /// Whether this server can register and check passkeys.
    pub fn available(&self) -> bool {
        self.webauthn.is_some()
    }

    pub(super) fn webauthn(&self) -> Result<&Webauthn, PasskeyError> {
        self.webauthn.as_deref().ok_or(PasskeyError::Unavailable)
    }

    /// Starts registering a passkey named `name` for `user` (its existing passkeys
    /// excluded, WebAuthn L2 §5.4 `excludeCredentials`); the ceremony id and the
    /// options for `navigator.credentials.create`.
    pub fn start_registration(
        &self,
        c: &mut DbConn,
        user: &UserRow,
        name: &str,
        now: i64,
    ) -> Result<(String, CreationChallengeResponse), PasskeyError> {
        let webauthn = self.webauthn()?;
        let existing = stored_passkeys(c, &user.id)?;
        let exclude = existing.iter().map(|p| p.cred_id().clone()).collect();
        let display = user.name.as_deref().unwrap_or(&user.username);
        let (options, state) = webauthn
            .start_passkey_registration(
                user_handle(&user.id),
                &user.username,
                display,
                Some(exclude),
            )
            .map_err(|error| refused("registration start", &error))?;
        let options = discoverable(options);
        let mut row = ceremony(Some(&user.id), "register", to_json(&state)?, now);
        row.name = Some(name.to_owned());
        store::insert_ceremony(c, &row, now)?;
        Ok((row.id, options))
    }

    /// Finishes a registration; the stored passkey. The ceremony is consumed even
    /// when the answer is refused (the caller commits `Ok(Err(..))`).
    pub fn finish_registration(
        &self,
        c: &mut DbConn,
        user_id: &UserId,
        ceremony_id: &str,
        credential: &RegisterPublicKeyCredential,
        now: i64,
    ) -> Result<Result<PasskeyRow, PasskeyError>, StoreError> {
        let Ok(webauthn) = self.webauthn() else {
            return Ok(Err(PasskeyError::Unavailable));
        };
        let Some(row) = consume(c, ceremony_id, "register", user_id, now)? else {
            return Ok(Err(PasskeyError::Refused(EXPIRED)));
        };
        let Ok(state) = serde_json::from_str::<PasskeyRegistration>(&row.state) else {
            return Err(StoreError::Corrupt("unreadable registration state".into()));
        };
        let passkey = match webauthn.finish_passkey_registration(credential, &state) {
            Ok(passkey) => passkey,
            Err(error) => return Ok(Err(refused("registration", &error))),
        };
        let stored = PasskeyRow {
            credential_id: credential_id(&passkey),
            user_id: user_id.clone(),
            name: row.name.unwrap_or_else(|| "passkey".into()),
            passkey: to_json(&passkey)?,
            sign_count: 0,
            created_at: now,
            last_used_at: None,
        };
        match store::insert_passkey(c, &stored) {
            Ok(()) => Ok(Ok(stored)),
            Err(StoreError::Conflict) => Ok(Err(PasskeyError::Refused(
                "this passkey is already registered",
            ))),
            Err(error) => Err(error),
        }
    }

    /// Starts an assertion by one of `user_id`'s passkeys, for the approval decision
    /// `binding`; the ceremony id and the options for `navigator.credentials.get`.
    /// The challenge stays random (webauthn-rs will not take a chosen one, WebAuthn L2
    /// §13.4.3): the binding is this row, checked again when the answer comes.
    pub fn start_assertion(
        &self,
        c: &mut DbConn,
        user_id: &UserId,
        binding: Binding,
        now: i64,
    ) -> Result<(String, RequestChallengeResponse), PasskeyError> {
        let (mut row, options) = self.assertion_ceremony(c, user_id, "approve", now)?;
        row.approval_id = Some(binding.approval_id);
        row.approval_digest = Some(binding.digest);
        row.decision = Some(binding.decision);
        row.comment = binding.comment;
        store::insert_ceremony(c, &row, now)?;
        Ok((row.id, options))
    }

    /// Starts an assertion by one of `user_id`'s passkeys for `purpose` (a step-up
    /// in the user's own session, bound to nothing else); the ceremony id and the
    /// options.
    pub fn start_user_assertion(
        &self,
        c: &mut DbConn,
        user_id: &UserId,
        purpose: &str,
        now: i64,
    ) -> Result<(String, RequestChallengeResponse), PasskeyError> {
        let (row, options) = self.assertion_ceremony(c, user_id, purpose, now)?;
        store::insert_ceremony(c, &row, now)?;
        Ok((row.id, options))
    }

    /// A ceremony row (not yet stored) and the options for an assertion by one of
    /// `user_id`'s passkeys.
    fn assertion_ceremony(
        &self,
        c: &mut DbConn,
        user_id: &UserId,
        purpose: &str,
        now: i64,
    ) -> Result<(CeremonyRow, RequestChallengeResponse), PasskeyError> {
        let webauthn = self.webauthn()?;
        let passkeys = stored_passkeys(c, user_id)?;
        if passkeys.is_empty() {
            return Err(PasskeyError::Refused(NONE_REGISTERED));
        }
        let (options, state) = webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(|error| refused("assertion start", &error))?;
        Ok((
            ceremony(Some(user_id), purpose, to_json(&state)?, now),
            options,
        ))
    }

    /// Checks an assertion against a consumed ceremony's `state`: the signature, the
    /// challenge, the origin and RP ID, user verification (WebAuthn L2 §7.2), that the
    /// credential is `user_id`'s, and that its counter rose; then stores it.
    /// The key that answered on success.
    pub fn verify_assertion(
        &self,
        c: &mut DbConn,
        user_id: &UserId,
        state: &str,
        credential: &PublicKeyCredential,
        now: i64,
    ) -> Result<Result<Verified, PasskeyError>, StoreError> {
        let Ok(webauthn) = self.webauthn() else {
            return Ok(Err(PasskeyError::Unavailable));
        };
        let Ok(state) = serde_json::from_str::<PasskeyAuthentication>(state) else {
            return Err(StoreError::Corrupt("unreadable assertion state".into()));
        };
        let result = match webauthn.finish_passkey_authentication(credential, &state) {
            Ok(result) => result,
            Err(error) => return Ok(Err(refused("assertion", &error))),
        };
        let id = crypto::b64url(result.cred_id().as_ref());
        // The state allowed only this user's credentials; the row's owner is checked
        // anyway, so a mix-up in the allow list can never let another's key vote.
        let Some(row) = store::passkey_by_id(c, &id)?.filter(|row| row.user_id == *user_id) else {
            tracing::warn!("a passkey assertion named a credential of someone else");
            return Ok(Err(PasskeyError::Refused(NOT_VERIFIED)));
        };
        let passkey = parse_passkey(&row)?;
        record_use(c, passkey, &result, now)
    }
}

/// A stored passkey, parsed.
pub(super) fn parse_passkey(row: &PasskeyRow) -> Result<Passkey, StoreError> {
    serde_json::from_str(&row.passkey)
        .map_err(|_| StoreError::Corrupt(format!("unreadable passkey {}", row.credential_id)))
}

/// Records an assertion `passkey` made (`result`, already verified): its counter must
/// rise, compared and raised here in the caller's transaction, since a ceremony's state
/// holds the counters as they were when it began and webauthn-rs's own check cannot see
/// an assertion counted since; then the backup flags (WebAuthn L2 §6.1.3) and
/// webauthn-rs's copy of the counter are stored.
pub(super) fn record_use(
    c: &mut DbConn,
    mut passkey: Passkey,
    result: &AuthenticationResult,
    now: i64,
) -> Result<Result<Verified, PasskeyError>, StoreError> {
    let id = credential_id(&passkey);
    if !store::advance_sign_count(c, &id, i64::from(result.counter()))? {
        tracing::warn!(credential_id = %id, "passkey counter did not rise: a cloned key?");
        return Ok(Err(PasskeyError::Refused(NOT_VERIFIED)));
    }
    passkey.update_credential(result);
    store::update_passkey(c, &id, &to_json(&passkey)?, now)?;
    Ok(Ok(Verified {
        credential_id: id,
        synced: result.backup_eligible(),
    }))
}

/// A passkey that answered an assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Its credential id (base64url).
    pub credential_id: String,
    /// Backup eligible (WebAuthn L2 §6.1.3 BE flag): a synced passkey, whose key may
    /// live outside any one device's hardware.
    pub synced: bool,
}

impl Verified {
    /// Its RFC 8176 method: `hwk` for a key bound to one authenticator, `swk` for a
    /// synced one.
    pub fn method(&self) -> &'static str {
        key_method(self.synced)
    }
}

/// RFC 8176's method for a passkey: `swk` when synced (backup eligible), else `hwk`.
pub fn key_method(synced: bool) -> &'static str {
    match synced {
        true => "swk",
        false => "hwk",
    }
}

/// Consumes ceremony `id` of `purpose` if it belongs to `user_id`.
pub fn consume(
    c: &mut DbConn,
    id: &str,
    purpose: &str,
    user_id: &UserId,
    now: i64,
) -> Result<Option<CeremonyRow>, StoreError> {
    store::consume_ceremony(c, id, purpose, user_id, now)
}

/// The refusal of an unknown, used or expired ceremony.
pub const EXPIRED: &str =
    "this passkey prompt is no longer valid (each works once, for five minutes): try again";

/// The refusal when the user has no passkey.
pub const NONE_REGISTERED: &str = "you have no passkey yet: register one on your account page";

fn relying_party(origin: &Url) -> Option<Webauthn> {
    let rp_id = origin.domain()?;
    let built = WebauthnBuilder::new(rp_id, origin)
        .and_then(|builder| builder.rp_name("countersign").build());
    built
        .inspect_err(|error| tracing::warn!(%error, "no WebAuthn relying party"))
        .ok()
}

fn stored_passkeys(c: &mut DbConn, user_id: &UserId) -> Result<Vec<Passkey>, StoreError> {
    store::passkeys_of(c, user_id)?
        .iter()
        .map(parse_passkey)
        .collect()
}

/// The WebAuthn user handle (L2 §14.6.1: no personal data): the user id when it is a
/// UUID, which is how users are created; else a UUID derived from it.
pub(super) fn user_handle(user_id: &UserId) -> Uuid {
    Uuid::parse_str(user_id.as_str())
        .or_else(|_| {
            // 32 hex digits are a UUID's simple form.
            let digest = crypto::sha256_hex(user_id.as_str().as_bytes());
            Uuid::parse_str(digest.get(..32).unwrap_or_default())
        })
        .unwrap_or_default()
}

pub(super) fn ceremony(
    user_id: Option<&UserId>,
    purpose: &str,
    state: String,
    now: i64,
) -> CeremonyRow {
    CeremonyRow {
        id: crypto::random_id(16),
        user_id: user_id.cloned(),
        purpose: purpose.into(),
        approval_id: None,
        approval_digest: None,
        decision: None,
        comment: None,
        name: None,
        state,
        expires_at: now + CEREMONY_SECONDS,
        used_at: None,
    }
}

/// Registration options asking for a discoverable credential where the authenticator
/// can keep one (WebAuthn L2 §5.4.6 `residentKey: "preferred"`), so the passkey can
/// later sign its user in without a username. webauthn-rs's passkey defaults
/// discourage it (to spare CTAP 2.0 keys' few slots); "preferred" lets such a key
/// decline, and the server's own checks are unchanged (nothing at finish depends on
/// residency).
fn discoverable(mut options: CreationChallengeResponse) -> CreationChallengeResponse {
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Preferred);
    }
    options
}

/// The base64url credential id of a passkey.
pub fn credential_id(passkey: &Passkey) -> String {
    crypto::b64url(passkey.cred_id().as_ref())
}

pub(super) fn to_json(value: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("unserialisable: {e}")))
}

pub(super) fn refused(
    step: &'static str,
    error: &webauthn_rs::prelude::WebauthnError,
) -> PasskeyError {
    tracing::info!(step, %error, "passkey ceremony refused");
    PasskeyError::Refused(NOT_VERIFIED)
}
