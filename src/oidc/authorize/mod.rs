//! The authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2): validate, store the
//! request, then advance it through login, consent and the countersignature until a
//! code or an error goes back to the client. The request is stored so the browser can
//! come back to it after each page; oxide-auth's code-grant flow issues the code.

mod code;
mod countersignature;
mod flow;
mod response;
mod state;
mod stored;
mod validate;

pub use response::{AuthResponse, ResponseMode};
pub use state::{IllegalRequestTransition, RequestEvent, RequestState};
pub use validate::{is_pkce_string, ValidRequest};

use super::error::OAuthError;
use super::params::Params;
use super::rar;
use super::Provider;
use crate::accounts::consent;
use crate::approval::hooks::{HookCall, HookVerdict};
use crate::crypto;
use crate::ids::{ApprovalId, RequestId, SessionToken};
use crate::store::{self, RequestRow};

/// Where an error goes once client and redirect_uri are verified.
#[derive(Debug, Clone)]
pub struct ErrorTarget {
    /// The verified redirect URI.
    pub redirect_uri: String,
    /// How to deliver it.
    pub response_mode: ResponseMode,
    /// The client's state.
    pub state: Option<String>,
}

/// An authorization error and its channel (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone)]
pub enum AuthorizeError {
    /// Client or redirect_uri not verified: show an error page, never redirect.
    Render(OAuthError),
    /// Send the error to the client.
    Redirect(ErrorTarget, OAuthError),
}

impl From<OAuthError> for AuthorizeError {
    fn from(error: OAuthError) -> Self {
        AuthorizeError::Render(error)
    }
}

impl From<crate::store::StoreError> for AuthorizeError {
    fn from(error: crate::store::StoreError) -> Self {
        AuthorizeError::Render(error.into())
    }
}

/// A scope as the consent page shows it.
#[derive(Debug, Clone)]
pub struct ScopeLine {
    /// Scope name.
    pub name: String,
    /// What it allows, in words.
    pub description: String,
    /// Who must countersign it ("1 approval from approvers"), for sensitive scopes.
    pub countersigned_by: Option<String>,
}

/// What the consent page needs.
#[derive(Debug, Clone)]
pub struct ConsentPrompt {
    /// The stored request.
    pub request_id: RequestId,
    /// Client display name.
    pub client_name: String,
    /// Requested scopes.
    pub scopes: Vec<ScopeLine>,
    /// Who is signed in.
    pub username: String,
    /// The requester must justify the request (a sensitive scope's policy).
    pub justification_required: bool,
    /// The RFC 9396 `authorization_details` asked for, field by field.
    pub actions: Vec<crate::approval::details::DetailLines>,
}

/// Where an authorization request goes next.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The user must sign in (again) first.
    Login {
        /// The stored request to come back to.
        request_id: RequestId,
        /// Username to prefill.
        login_hint: Option<String>,
    },
    /// The user must consent.
    Consent(ConsentPrompt),
    /// Waiting for the countersignature: show the waiting page of this approval.
    AwaitingApproval {
        /// The approval.
        approval_id: ApprovalId,
    },
    /// Done: send this to the client.
    Respond(AuthResponse),
}

/// Where the browser's request came from (recorded with an approval).
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// IP address.
    pub ip: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
}

/// A consent decision from the consent page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentDecision {
    /// Allowed, with the justification the page asked for (if any).
    Allow {
        /// Why, in the requester's words.
        justification: Option<String>,
    },
    /// Denied.
    Deny,
}

impl Provider {
    /// `GET|POST /authorize`: validates `raw` (query string or form body), stores the
    /// request and advances it with the browser's session, if any.
    pub fn authorize(
        &self,
        raw: &[u8],
        cookie: Option<&SessionToken>,
        info: &ClientInfo,
        now: i64,
    ) -> Result<Outcome, AuthorizeError> {
        let (params, broken) = match Params::parse(raw) {
            Ok(params) => (params, None),
            Err((error, partial)) => (partial, Some(error)),
        };
        self.store.write(|c| {
            let valid = validate::validate(c, &params, broken.as_ref())?;
            let valid = self.check_id_token_hint(c, valid, now)?;
            let pairs: std::collections::BTreeMap<_, _> = params.pairs().collect();
            let row = RequestRow {
                id: RequestId::new(crypto::random_token(24)),
                client_id: valid.client.client_id.clone(),
                user_id: None,
                params: serde_json::to_string(&pairs).map_err(|e| OAuthError::server_error(&e))?,
                state: RequestState::Open,
                login_at: None,
                created_at: now,
                expires_at: now + self.request_ttl,
            };
            store::insert_request(c, &row)?;
            let session = self.session(c, cookie, now)?;
            let step = flow::Step::new(&row, &params, &valid, info);
            self.advance(c, step, session, now)
        })
    }

    /// `GET /authorize/continue?request=…`: picks a stored request up again after
    /// login or once its approval is decided.
    pub fn resume(
        &self,
        request_id: &str,
        cookie: Option<&SessionToken>,
        info: &ClientInfo,
        now: i64,
    ) -> Result<Outcome, AuthorizeError> {
        self.store.write(|c| {
            let session = self.session(c, cookie, now)?;
            let (row, params, valid) = self.load_request(c, request_id, session.as_ref(), now)?;
            let step = flow::Step::new(&row, &params, &valid, info);
            self.advance(c, step, session, now)
        })
    }

    /// The decision hooks to ask before the consent page's allow is recorded: one per
    /// `authorization_details` entry whose action type has a hook. Reads only; a
    /// request that cannot go on asks nothing (the decision itself then says why).
    pub fn consent_hook_calls(
        &self,
        request_id: &str,
        cookie: Option<&SessionToken>,
        now: i64,
    ) -> Vec<HookCall> {
        let read: Result<Vec<HookCall>, crate::store::StoreError> = self.store.read(|c| {
            let Some(session) = self.session(c, cookie, now).ok().flatten() else {
                return Ok(Vec::new());
            };
            let Ok((row, _, valid)) = self.load_request(c, request_id, Some(&session), now) else {
                return Ok(Vec::new());
            };
            // Asked once: an allow posted again for a request already waiting asks nothing.
            if row.state == RequestState::AwaitingApproval {
                return Ok(Vec::new());
            }
            let Some(details) = &valid.details else {
                return Ok(Vec::new());
            };
            let client_id = valid.client.client_id.as_str();
            Ok(
                rar::hook_calls(c, details, &session.user.id, client_id, ("front", None))
                    .unwrap_or_default(),
            )
        });
        read.unwrap_or_default()
    }

    /// `POST /consent`: records the user's decision and advances the request, with
    /// what the decision hooks said (see [`Provider::consent_hook_calls`]).
    pub fn decide_consent(
        &self,
        request_id: &str,
        cookie: Option<&SessionToken>,
        (decision, hook_verdicts): (ConsentDecision, Vec<HookVerdict>),
        info: &ClientInfo,
        now: i64,
    ) -> Result<Outcome, AuthorizeError> {
        self.store.write(|c| {
            let session = self.session(c, cookie, now)?;
            let (row, params, valid) = self.load_request(c, request_id, session.as_ref(), now)?;
            let Some(session) = session else {
                return Ok(Outcome::Login {
                    request_id: row.id,
                    login_hint: valid.login_hint,
                });
            };
            let (user_id, client_id) = (&session.user.id, &valid.client.client_id);
            let (event, justification) = match decision {
                ConsentDecision::Deny => (RequestEvent::DenyConsent, None),
                ConsentDecision::Allow { justification } => (RequestEvent::Consent, justification),
            };
            let to = stored::move_request(c, &row, event, user_id)?;
            if event == RequestEvent::DenyConsent {
                consent::record_denial(c, user_id, client_id, &valid.scopes, now)?;
                let denied = OAuthError::access_denied("the user denied the request");
                let response = AuthResponse::error(&valid, &denied, &self.issuer);
                return Ok(Outcome::Respond(response));
            }
            consent::remember(c, user_id, client_id, &valid.scopes, now)?;
            let row = RequestRow {
                state: to,
                user_id: Some(user_id.clone()),
                ..row
            };
            let step = flow::Step {
                justification,
                hook_verdicts,
                ..flow::Step::new(&row, &params, &valid, info)
            };
            self.advance(c, step, Some(session), now)
        })
    }

    /// Records that the user just signed in on this request's login page, which is what
    /// `prompt=login` asks for (OIDC Core §3.1.2.1). An id that names no request
    /// records nothing.
    pub fn note_login(&self, request_id: &str, now: i64) -> Result<(), crate::store::StoreError> {
        let Ok(request_id) = RequestId::parse(request_id) else {
            return Ok(());
        };
        self.store
            .write(|c| store::note_request_login(c, &request_id, now))
    }

    /// The client name and `login_hint` of a stored request, for the login page.
    pub fn login_context(
        &self,
        request_id: &str,
        now: i64,
    ) -> Result<Option<(String, Option<String>)>, OAuthError> {
        self.store.read(|c| {
            let Ok((_, _, valid)) = self.load_request(c, request_id, None, now) else {
                return Ok(None);
            };
            Ok(Some((valid.client.name, valid.login_hint)))
        })
    }
}

fn already_handled() -> OAuthError {
    OAuthError::invalid_request(
        "this authorization request was already handled; start again from the application",
    )
}

fn valid_target(valid: &ValidRequest) -> ErrorTarget {
    ErrorTarget {
        redirect_uri: valid.redirect_uri.clone(),
        response_mode: valid.response_mode,
        state: valid.state.clone(),
    }
}
