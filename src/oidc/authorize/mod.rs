//! The authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2): validate, store the
//! request, then advance it through login, consent and the countersignature until a
//! code or an error goes back to the client. The request is stored so the browser can
//! come back to it after each page; oxide-auth's code-grant flow issues the code.

mod flow;
mod response;
mod validate;

pub use response::{AuthResponse, ResponseMode};
pub use validate::{is_pkce_string, ValidRequest};

use serde_json::Value;

use super::error::OAuthError;
use super::params::Params;
use super::Provider;
use crate::accounts::consent;
use crate::accounts::sessions::{self, Session};
use crate::crypto;
use crate::store::{self, DbConn, RequestRow};

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
    pub request_id: String,
    /// Client display name.
    pub client_name: String,
    /// Requested scopes.
    pub scopes: Vec<ScopeLine>,
    /// Who is signed in.
    pub username: String,
    /// The requester must justify the request (a sensitive scope's policy).
    pub justification_required: bool,
}

/// Where an authorization request goes next.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The user must sign in (again) first.
    Login {
        /// The stored request to come back to.
        request_id: String,
        /// Username to prefill.
        login_hint: Option<String>,
    },
    /// The user must consent.
    Consent(ConsentPrompt),
    /// Waiting for the countersignature: show the waiting page of this approval.
    AwaitingApproval {
        /// The approval.
        approval_id: String,
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
        cookie: Option<&str>,
        info: &ClientInfo,
        now: i64,
    ) -> Result<Outcome, AuthorizeError> {
        let (params, broken) = match Params::parse(raw) {
            Ok(params) => (params, None),
            Err((error, partial)) => (partial, Some(error)),
        };
        self.store.write(|c| {
            let valid = validate::validate(c, &params, broken.as_ref())?;
            let valid = self.check_id_token_hint(c, valid)?;
            let pairs: std::collections::BTreeMap<_, _> = params.pairs().collect();
            let row = RequestRow {
                id: crypto::random_token(24),
                client_id: valid.client.client_id.clone(),
                user_id: None,
                params: serde_json::to_string(&pairs).map_err(|e| OAuthError::server_error(&e))?,
                state: "open".into(),
                login_at: None,
                created_at: now,
                expires_at: now + self.request_ttl,
            };
            store::insert_request(c, &row)?;
            let session = self.session(c, cookie, now)?;
            self.advance(
                c,
                flow::Step {
                    row: &row,
                    params: &params,
                    valid: &valid,
                    info,
                    justification: None,
                },
                session,
                now,
            )
        })
    }

    /// `GET /authorize/continue?request=…`: picks a stored request up again after
    /// login or once its approval is decided.
    pub fn resume(
        &self,
        request_id: &str,
        cookie: Option<&str>,
        info: &ClientInfo,
        now: i64,
    ) -> Result<Outcome, AuthorizeError> {
        self.store.write(|c| {
            let (row, params, valid) = self.load_request(c, request_id, now)?;
            let session = self.session(c, cookie, now)?;
            self.advance(
                c,
                flow::Step {
                    row: &row,
                    params: &params,
                    valid: &valid,
                    info,
                    justification: None,
                },
                session,
                now,
            )
        })
    }

    /// `POST /consent`: records the user's decision and advances the request.
    pub fn decide_consent(
        &self,
        request_id: &str,
        cookie: Option<&str>,
        decision: ConsentDecision,
        info: &ClientInfo,
        now: i64,
    ) -> Result<Outcome, AuthorizeError> {
        self.store.write(|c| {
            let (row, params, valid) = self.load_request(c, request_id, now)?;
            let Some(session) = self.session(c, cookie, now)? else {
                return Ok(Outcome::Login {
                    request_id: row.id,
                    login_hint: valid.login_hint,
                });
            };
            if row.state == "awaiting_approval" {
                return Err(already_handled().into());
            }
            let user_id = session.user.id.clone();
            let client_id = valid.client.client_id.clone();
            let justification = match decision {
                ConsentDecision::Deny => {
                    consent::record_denial(c, &user_id, &client_id, &valid.scopes, now)?;
                    store::transition_request(c, &row.id, &row.state, "failed", &user_id)
                        .map_err(|_| already_handled())?;
                    let denied = OAuthError::access_denied("the user denied the request");
                    return Ok(Outcome::Respond(AuthResponse::error(
                        &valid,
                        &denied,
                        &self.issuer,
                    )));
                }
                ConsentDecision::Allow { justification } => justification,
            };
            consent::remember(c, &user_id, &client_id, &valid.scopes, now)?;
            store::transition_request(c, &row.id, &row.state, "consented", &user_id)
                .map_err(|_| already_handled())?;
            let row = RequestRow {
                state: "consented".into(),
                user_id: Some(user_id),
                ..row
            };
            let step = flow::Step {
                row: &row,
                params: &params,
                valid: &valid,
                info,
                justification,
            };
            self.advance(c, step, Some(session), now)
        })
    }

    /// Records that the user just signed in on this request's login page, which is what
    /// `prompt=login` asks for (OIDC Core §3.1.2.1).
    pub fn note_login(&self, request_id: &str, now: i64) -> Result<(), crate::store::StoreError> {
        self.store
            .write(|c| store::note_request_login(c, request_id, now))
    }

    /// The client name and `login_hint` of a stored request, for the login page.
    pub fn login_context(
        &self,
        request_id: &str,
        now: i64,
    ) -> Result<Option<(String, Option<String>)>, OAuthError> {
        self.store.read(|c| {
            let Ok((_, _, valid)) = self.load_request(c, request_id, now) else {
                return Ok(None);
            };
            Ok(Some((valid.client.name, valid.login_hint)))
        })
    }

    fn session(
        &self,
        c: &mut DbConn,
        cookie: Option<&str>,
        now: i64,
    ) -> Result<Option<Session>, OAuthError> {
        match cookie {
            Some(cookie) => Ok(sessions::find(c, cookie, now, self.sessions)?),
            None => Ok(None),
        }
    }

    fn load_request(
        &self,
        c: &mut DbConn,
        id: &str,
        now: i64,
    ) -> Result<(RequestRow, Params, ValidRequest), AuthorizeError> {
        let row = store::request_by_id(c, id)?.ok_or_else(|| {
            OAuthError::invalid_request(
                "the authorization request is unknown; start again from the application",
            )
        })?;
        if row.expires_at <= now {
            return Err(OAuthError::invalid_request(
                "the authorization request expired; start again from the application",
            )
            .into());
        }
        if !matches!(
            row.state.as_str(),
            "open" | "consented" | "awaiting_approval"
        ) {
            return Err(already_handled().into());
        }
        let pairs: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&row.params).map_err(|e| OAuthError::server_error(&e))?;
        let params = Params::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let valid = validate::validate(c, &params, None)?;
        let valid = self.check_id_token_hint(c, valid)?;
        Ok((row, params, valid))
    }

    /// Replaces a raw `id_token_hint` by the `sub` of the ID token, which must be one this
    /// provider issued (signature checked; expiry is not, as OIDC Core §3.1.2.1 allows
    /// expired hints).
    fn check_id_token_hint(
        &self,
        c: &mut DbConn,
        mut valid: ValidRequest,
    ) -> Result<ValidRequest, AuthorizeError> {
        let Some(hint) = valid.id_token_hint.take() else {
            return Ok(valid);
        };
        let keys = store::list_keys(c)?;
        let claims: Option<Value> = crypto::verify_id_token_hint(&keys, &hint, &self.issuer);
        match claims.as_ref().and_then(|claims| claims["sub"].as_str()) {
            Some(sub) => {
                valid.id_token_hint = Some(sub.to_owned());
                Ok(valid)
            }
            None => Err(AuthorizeError::Redirect(
                valid_target(&valid),
                OAuthError::invalid_request("id_token_hint is not an ID token issued here"),
            )),
        }
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
