//! A user's own second factors, behind the account page (issue 18): what is enrolled,
//! TOTP enrolment (start, then confirm with a first code, which issues the recovery
//! codes), and removal. Who may change factors is `factor_changes.rs` (a recent
//! sign-in, and a factor already held). Each change is audited in its transaction.
//! Passkeys are registered and removed in `passkey_account.rs`.

use serde_json::json;

use super::factor_changes::{ProofNeeded, CONFIRM_WITH_PASSKEY, FRESH_SIGN_IN};
use super::login::ThrottlePolicy;
use super::passkeys::{PasskeyError, PasskeyFactor};
use super::sessions::{self, Session, SessionPolicy};
use super::totp::{CodeRefused, Enrolment, TotpError, TotpFactor};
use crate::audit::{self, Actor, AuditAction};
use crate::ids::SessionToken;
use crate::store::{self, DbConn, Store, StoreError};

/// The account service over a store.
#[derive(Debug, Clone)]
pub struct Account {
    /// Storage.
    pub store: Store,
    /// Session timeouts.
    pub sessions: SessionPolicy,
    /// TOTP secrets and checks.
    pub totp: TotpFactor,
    /// Wrong codes are throttled like passwords.
    pub throttle: ThrottlePolicy,
    /// The WebAuthn relying party.
    pub passkeys: PasskeyFactor,
}

/// What the account page shows.
#[derive(Debug, Clone)]
pub struct FactorsView {
    /// The signed-in user's username.
    pub username: String,
    /// An authenticator app is enrolled and confirmed.
    pub totp: bool,
    /// Unused recovery codes left.
    pub recovery_codes_left: i64,
    /// Whether this server can register passkeys.
    pub passkeys_available: bool,
    /// The registered passkeys, oldest first.
    pub passkeys: Vec<store::PasskeyRow>,
    /// What a change of factors needs beyond a recent sign-in.
    pub proof_needed: ProofNeeded,
}

/// Why an account call was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Nobody is signed in.
    #[error("sign in first")]
    SignIn,
    /// The TOTP step refused.
    #[error("{0}")]
    Totp(#[from] TotpError),
    /// Too many wrong codes: wait this many seconds.
    #[error("too many wrong codes: try again in {0} seconds")]
    Throttled(i64),
    /// A passkey ceremony refused.
    #[error("{0}")]
    Passkey(#[from] PasskeyError),
    /// The sign-in is too old for this change: sign in again first.
    #[error("sign in again first: changing your second factors needs a recent sign-in")]
    FreshSignIn,
    /// The account holds a factor, and this change needs it: the text says how.
    #[error("{0}")]
    ProveFactor(&'static str),
}

impl From<CodeRefused> for AccountError {
    fn from(refused: CodeRefused) -> Self {
        match refused {
            CodeRefused::NotEnrolled => AccountError::Totp(TotpError::NotEnrolled),
            CodeRefused::Wrong => AccountError::Totp(TotpError::Wrong),
            CodeRefused::Throttled { retry_after } => AccountError::Throttled(retry_after),
        }
    }
}

impl From<StoreError> for AccountError {
    fn from(error: StoreError) -> Self {
        AccountError::Totp(TotpError::Store(error))
    }
}

impl Account {
    /// The signed-in user's factors.
    pub fn view(
        &self,
        cookie: Option<&SessionToken>,
        now: i64,
    ) -> Result<FactorsView, AccountError> {
        self.store.read(|c| {
            let session = self.session(c, cookie, now)?;
            self.view_of(c, &session)
        })
    }

    /// Starts TOTP enrolment (a new secret each time until confirmed), after
    /// [`Account::may_change`].
    pub fn start_totp(
        &self,
        cookie: Option<&SessionToken>,
        now: i64,
    ) -> Result<Enrolment, AccountError> {
        self.store.write(
            |c| -> Result<Result<Enrolment, AccountError>, AccountError> {
                let session = self.session(c, cookie, now)?;
                if TotpFactor::is_enrolled(c, &session.user.id)? {
                    return Ok(Err(TotpError::AlreadyEnrolled.into()));
                }
                if let Err(refused) = self.may_change(c, &session, None, now)? {
                    return Ok(Err(refused));
                }
                let user = &session.user;
                Ok(Ok(self.totp.enrol(c, &user.id, &user.username, now)?))
            },
        )?
    }

    /// Confirms TOTP enrolment with a first code; returns the recovery codes.
    pub fn confirm_totp(
        &self,
        cookie: Option<&SessionToken>,
        code: &str,
        now: i64,
    ) -> Result<Vec<String>, AccountError> {
        self.store.write(|c| {
            let session = self.session(c, cookie, now)?;
            // The enrolment was started under `may_change`; its confirmation needs the
            // same recent sign-in, an enrolment started within it, and still no other
            // factor to prove (one added since, a passkey, must not be outflanked by
            // an enrolment begun before it).
            if now - session.auth_time > FRESH_SIGN_IN {
                return Err(AccountError::FreshSignIn);
            }
            let started = store::totp_of(c, &session.user.id)?.map(|row| row.created_at);
            if started.is_some_and(|at| now - at > FRESH_SIGN_IN) {
                return Err(AccountError::ProveFactor(
                    "this enrolment is too old: start it again",
                ));
            }
            if self.proof_needed(c, &session)? != ProofNeeded::Nothing {
                return Err(AccountError::ProveFactor(CONFIRM_WITH_PASSKEY));
            }
            let codes = self.totp.confirm(c, &session.user.id, code, now)?;
            audit::record(
                c,
                &Actor::User(session.user.id.clone()),
                AuditAction::FactorEnrolled,
                &format!("user:{}", session.user.id),
                json!({"factor": "totp", "recovery_codes": codes.len()}),
                now,
            )?;
            Ok(codes)
        })
    }

    /// Removes the authenticator app and recovery codes, given a current code (or
    /// after a passkey sign-in: [`Account::may_change`]).
    pub fn remove_totp(
        &self,
        cookie: Option<&SessionToken>,
        code: &str,
        now: i64,
    ) -> Result<(), AccountError> {
        self.store
            .write(|c| -> Result<Result<(), AccountError>, AccountError> {
                let session = self.session(c, cookie, now)?;
                if !TotpFactor::is_enrolled(c, &session.user.id)? {
                    return Ok(Err(AccountError::Totp(TotpError::NotEnrolled)));
                }
                if let Err(refused) = self.may_change(c, &session, Some(code), now)? {
                    // Committed: a wrong code's count must stay.
                    return Ok(Err(refused));
                }
                store::delete_factors(c, &session.user.id)?;
                audit::record(
                    c,
                    &Actor::User(session.user.id.clone()),
                    AuditAction::FactorRemoved,
                    &format!("user:{}", session.user.id),
                    json!({"factor": "totp"}),
                    now,
                )?;
                Ok(Ok(()))
            })?
    }

    pub(super) fn session(
        &self,
        c: &mut DbConn,
        cookie: Option<&SessionToken>,
        now: i64,
    ) -> Result<Session, AccountError> {
        let Some(cookie) = cookie else {
            return Err(AccountError::SignIn);
        };
        sessions::find(c, cookie, now, self.sessions)?.ok_or(AccountError::SignIn)
    }

    fn view_of(&self, c: &mut DbConn, session: &Session) -> Result<FactorsView, AccountError> {
        let user = &session.user;
        Ok(FactorsView {
            proof_needed: self.proof_needed(c, session)?,
            passkeys_available: self.passkeys.available(),
            passkeys: store::passkeys_of(c, &user.id)?,
            username: user.username.clone(),
            totp: TotpFactor::is_enrolled(c, &user.id)?,
            recovery_codes_left: store::unused_recovery_codes(c, &user.id)?,
        })
    }
}
