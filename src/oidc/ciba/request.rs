//! `POST /bc-authorize` (CIBA Core §7): a client-authenticated request naming the
//! subject (`login_hint` or `id_token_hint`, §7.1), what it wants (`scope` and/or
//! RFC 9396 `authorization_details`), what the subject's device shows
//! (`binding_message`) and how long it may wait (`requested_expiry`). The stored
//! request, its approval (with the outbox rows that reach the approvers) and the poll
//! record are written in one transaction, after the decision hooks of its action types
//! were asked outside it; the answer is the §7.3 acknowledgement.

use serde_json::json;

use super::{BackchannelState, DeliveryMode, POLL_INTERVAL};
use crate::approval::hooks::{HookCall, HookVerdict};
use crate::approval::notices::{self, Notice};
use crate::approval::{service, NewApproval, Requirements};
use crate::crypto::{self, Sealer};
use crate::ids::{ClientId, RequestId, UserId};
use crate::oidc::authorize::{ClientInfo, RequestState};
use crate::oidc::client_requests::TokenError;
use crate::oidc::clients::Client;
use crate::oidc::error::{ErrorCode, OAuthError};
use crate::oidc::grant_type::GrantType;
use crate::oidc::params::Params;
use crate::oidc::rar::{self, RequestedDetails};
use crate::oidc::Provider;
use crate::scope_set::ScopeSet;
use crate::store::{self, BackchannelRow, DbConn, RequestRow};

/// The acknowledgement of a backchannel request (CIBA §7.3).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Acknowledgement {
    /// The handle the client polls with (and a ping names).
    pub auth_req_id: String,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// Seconds the client waits between polls.
    pub interval: i64,
}

/// Longest `binding_message`, in characters: it must fit a phone's screen and a chat
/// card line (CIBA §7.1 leaves the limit to the OP).
const MAX_BINDING_MESSAGE: usize = 120;
/// Longest `client_notification_token` (CIBA §7.1 sets no bound; 1 KiB is generous).
const MAX_NOTIFICATION_TOKEN: usize = 1024;
/// Longest justification.
const MAX_JUSTIFICATION: usize = 1000;

/// What the ping needs, sealed at rest (CIBA §10.2).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct PingSecrets {
    /// The request's handle.
    pub auth_req_id: String,
    /// The client's bearer token for its notification endpoint.
    pub client_notification_token: String,
}

/// A checked backchannel request, to be stored once its decision hooks answered.
pub struct Prepared {
    client_id: ClientId,
    subject: UserId,
    scopes: ScopeSet,
    details: Option<RequestedDetails>,
    binding_message: Option<String>,
    justification: Option<String>,
    mode: DeliveryMode,
    ping: Option<String>,
    requirements: Requirements,
    /// The decision hooks to ask (outside any transaction) before storing it.
    pub hook_calls: Vec<HookCall>,
}

/// CIBA §13: `invalid_client` is a 401 whichever way the client authenticated (the
/// challenge only ever changes the status of `invalid_client`).
const CHALLENGE: bool = true;

impl Provider {
    /// `POST /bc-authorize`, first half: authenticates the client and checks the
    /// request, reading only. The hooks it names are asked next, then [`commit`].
    ///
    /// [`commit`]: Provider::commit_backchannel
    pub fn prepare_backchannel(
        &self,
        authorization: Option<&str>,
        form: bool,
        body: &[u8],
        now: i64,
    ) -> Result<Prepared, TokenError> {
        self.with_client(authorization, form, body, false, |c, client, params| {
            self.check_backchannel(c, &client, params, now)
        })
        .map_err(|refused| TokenError {
            challenge: CHALLENGE,
            ..refused
        })
    }

    /// Second half: stores the request, its approval (with the outbox rows that reach
    /// the approvers, and the hooks' verdicts) and the poll record in one transaction.
    pub fn commit_backchannel(
        &self,
        prepared: Prepared,
        verdicts: Vec<HookVerdict>,
        info: &ClientInfo,
        now: i64,
    ) -> Result<Acknowledgement, TokenError> {
        // Any refusal rolls the whole request back: nothing half-stored, nobody told.
        self.store
            .write(|c| self.store_backchannel(c, prepared, verdicts, info, now))
            .map_err(|error| TokenError {
                error,
                challenge: CHALLENGE,
            })
    }

    fn check_backchannel(
        &self,
        c: &mut DbConn,
        client: &Client,
        params: &Params,
        now: i64,
    ) -> Result<Prepared, OAuthError> {
        if client.is_public() || !client.may_use(GrantType::Ciba) {
            return Err(OAuthError::unauthorized_client(
                "the client is not registered for CIBA",
            ));
        }
        if params.has("request") {
            return Err(OAuthError::invalid_request(
                "signed authentication requests (request) are not supported",
            ));
        }
        let subject = self.subject(c, params, now)?;
        let scopes = requested_scopes(client, params.get("scope"))?;
        let details = rar::requested_details(c, client, params.get("authorization_details"))?;
        let binding_message =
            bounded(params.get("binding_message"), MAX_BINDING_MESSAGE).map_err(|()| {
                OAuthError::new(
                    ErrorCode::InvalidBindingMessage,
                    "binding_message must be at most 120 printable characters",
                )
            })?;
        let justification = bounded(params.get("justification"), MAX_JUSTIFICATION)
            .map_err(|()| OAuthError::invalid_request("justification is too long"))?;
        let mode = client.backchannel_mode.unwrap_or(DeliveryMode::Poll);
        let ping = match mode {
            DeliveryMode::Poll => None,
            DeliveryMode::Ping => Some(notification_token(params)?.to_owned()),
        };
        let mut requirements = policy(c, &scopes, details.as_ref())?;
        if requirements.require_justification && justification.is_none() {
            return Err(OAuthError::invalid_request(
                "a justification is required for this request",
            ));
        }
        if let Some(asked) = requested_expiry(params)? {
            requirements.pending_ttl = requirements.pending_ttl.min(asked);
        }
        let hook_calls = match &details {
            None => Vec::new(),
            Some(details) => rar::hook_calls(
                c,
                details,
                &subject,
                client.client_id.as_str(),
                ("back", binding_message.as_deref()),
            )?,
        };
        Ok(Prepared {
            client_id: client.client_id.clone(),
            subject,
            scopes,
            details,
            binding_message,
            justification,
            mode,
            ping,
            requirements,
            hook_calls,
        })
    }

    fn store_backchannel(
        &self,
        c: &mut DbConn,
        prepared: Prepared,
        hook_verdicts: Vec<HookVerdict>,
        info: &ClientInfo,
        now: i64,
    ) -> Result<Acknowledgement, OAuthError> {
        let Prepared {
            client_id,
            subject,
            scopes,
            details,
            binding_message,
            justification,
            mode,
            ping,
            requirements,
            ..
        } = prepared;
        // What was checked may have changed while the hooks were asked.
        let still_ciba = Client::load(c, &client_id)?.is_some_and(|k| k.may_use(GrantType::Ciba));
        if !still_ciba {
            return Err(OAuthError::unauthorized_client(
                "the client is not registered for CIBA",
            ));
        }
        if store::user_by_id(c, &subject)?.is_none_or(|u| u.disabled) {
            return Err(OAuthError::new(ErrorCode::UnknownUserId, "no such user"));
        }
        let auth_req_id = crypto::random_token(32);
        let request = RequestRow {
            id: RequestId::new(crypto::random_token(24)),
            client_id: client_id.clone(),
            user_id: Some(subject.clone()),
            // What was asked, for the record: never the client's credentials.
            params: json!({"flow": store::BACKCHANNEL_FLOW, "scope": scopes.to_string(),
                "binding_message": binding_message.clone().unwrap_or_default()})
            .to_string(),
            state: RequestState::AwaitingApproval,
            login_at: None,
            created_at: now,
            expires_at: now + requirements.pending_ttl,
        };
        store::insert_request(c, &request)?;
        let expires_in = requirements.pending_ttl;
        let remind_at = self.remind_before.map(|before| now + expires_in - before);
        let approval = service::create(
            c,
            NewApproval {
                request_id: request.id.clone(),
                requester_id: subject.clone(),
                client_id: client_id.clone(),
                scopes,
                redirect_uri: String::new(),
                justification,
                ip: info.ip.clone(),
                user_agent: info.user_agent.clone(),
                requirements,
                remind_at,
                continue_after_approval: self.continue_after_approval,
                details: details.map(|d| d.details),
                binding_message,
                backchannel: true,
                hook_verdicts,
            },
            now,
        )?;
        let ping_sealed = match ping {
            None => None,
            Some(token) => Some(seal_ping(&self.ciba_sealer, &auth_req_id, &token)?),
        };
        store::insert_backchannel(
            c,
            &BackchannelRow {
                request_id: request.id,
                auth_req_hash: crypto::sha256_hex(auth_req_id.as_bytes()),
                client_id,
                user_id: subject,
                approval_id: approval.id.clone(),
                delivery_mode: mode,
                ping_sealed,
                poll_interval: POLL_INTERVAL,
                next_poll_at: now,
                state: BackchannelState::Waiting,
                created_at: now,
                expires_at: approval.expires_at,
            },
        )?;
        // Decided by rules or hooks at creation, before this row existed to be pinged.
        if let Some(notice) = Notice::for_state(approval.state) {
            notices::enqueue_ping(c, &approval, notice, now)?;
        }
        Ok(Acknowledgement {
            auth_req_id,
            expires_in,
            interval: POLL_INTERVAL,
        })
    }

    /// The subject: exactly one hint (CIBA §7.1); an unknown or disabled user is
    /// `unknown_user_id` (§13), the same answer for both.
    fn subject(&self, c: &mut DbConn, params: &Params, now: i64) -> Result<UserId, OAuthError> {
        let hints = ["login_hint", "id_token_hint", "login_hint_token"];
        if hints.iter().filter(|h| params.has(h)).count() != 1 {
            return Err(OAuthError::invalid_request(
                "exactly one of login_hint and id_token_hint is required",
            ));
        }
        if params.has("login_hint_token") {
            return Err(OAuthError::invalid_request(
                "login_hint_token is not supported; send login_hint or id_token_hint",
            ));
        }
        let unknown = || OAuthError::new(ErrorCode::UnknownUserId, "no such user");
        let user = match (params.get("login_hint"), params.get("id_token_hint")) {
            (Some(username), _) => store::user_by_username(c, username)?,
            (None, Some(hint)) => {
                let keys = self.keys.for_token(c, hint, now)?;
                let claims: Option<serde_json::Value> =
                    crypto::verify_id_token_hint(&keys, hint, &self.issuer);
                let sub = claims
                    .as_ref()
                    .and_then(|claims| claims["sub"].as_str())
                    .ok_or_else(|| {
                        OAuthError::invalid_request("id_token_hint is not an ID token issued here")
                    })?;
                store::user_by_id(c, &UserId::new(sub))?
            }
            (None, None) => None,
        };
        user.filter(|u| !u.disabled)
            .map(|u| u.id)
            .ok_or_else(unknown)
    }
}

/// The scopes asked for: `openid` when none is sent (the request may consist of
/// `authorization_details` only); otherwise they must include `openid` (CIBA §7.1)
/// and be allowed to the client.
fn requested_scopes(client: &Client, requested: Option<&str>) -> Result<ScopeSet, OAuthError> {
    let scopes = ScopeSet::parse(requested.unwrap_or("openid"));
    if !scopes.contains("openid") {
        return Err(OAuthError::invalid_scope("scope must include openid"));
    }
    if scopes.iter().any(|s| !client.allowed_scopes.contains(s)) {
        return Err(OAuthError::invalid_scope(
            "a requested scope is unknown or not allowed for this client",
        ));
    }
    Ok(scopes)
}

/// The approval the request needs. A request that needs none is refused: this
/// server's backchannel exists to have someone other than the subject approve.
fn policy(
    c: &mut DbConn,
    scopes: &ScopeSet,
    details: Option<&RequestedDetails>,
) -> Result<Requirements, OAuthError> {
    rar::requirements_for(c, scopes, details)?.1.ok_or_else(|| {
        OAuthError::invalid_scope(
            "nothing in the request needs approval: ask for a sensitive scope or for authorization_details",
        )
    })
}

/// A free-text parameter of printable characters (no control characters), trimmed;
/// `Err` when it is longer than `max` characters.
fn bounded(value: Option<&str>, max: usize) -> Result<Option<String>, ()> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) if text.chars().count() <= max && !text.chars().any(char::is_control) => {
            Ok(Some(text.to_owned()))
        }
        Some(_) => Err(()),
    }
}

/// `requested_expiry` in seconds (CIBA §7.1): a positive integer.
fn requested_expiry(params: &Params) -> Result<Option<i64>, OAuthError> {
    params
        .get("requested_expiry")
        .map(|text| {
            text.parse::<i64>()
                .ok()
                .filter(|seconds| *seconds > 0)
                .ok_or_else(|| {
                    OAuthError::invalid_request("requested_expiry must be a positive integer")
                })
        })
        .transpose()
}

/// The ping client's bearer token (CIBA §7.1: required in ping mode).
fn notification_token(params: &Params) -> Result<&str, OAuthError> {
    let token = params.get("client_notification_token").ok_or_else(|| {
        OAuthError::invalid_request("client_notification_token is required in ping mode")
    })?;
    let fits = token.len() <= MAX_NOTIFICATION_TOKEN && token.chars().all(|c| c.is_ascii_graphic());
    if !fits {
        return Err(OAuthError::invalid_request(
            "client_notification_token must be at most 1024 printable ASCII characters",
        ));
    }
    Ok(token)
}

fn seal_ping(sealer: &Sealer, auth_req_id: &str, token: &str) -> Result<String, OAuthError> {
    let secrets = PingSecrets {
        auth_req_id: auth_req_id.to_owned(),
        client_notification_token: token.to_owned(),
    };
    let text = serde_json::to_string(&secrets).map_err(|e| OAuthError::server_error(&e))?;
    sealer.seal(&text).map_err(|e| OAuthError::server_error(&e))
}
