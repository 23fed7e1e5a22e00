//! Validation of an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1-2,
//! RFC 7636 §4.3). Client and redirect_uri come first: until both are verified an error
//! is rendered, never redirected (RFC 6749 §4.1.2.1); after that, errors go back to
//! the client with `state` and `iss`.

use super::{AuthorizeError, ErrorTarget, ResponseMode};
use crate::ids::{ClientId, UserId};
use crate::oidc::clients::Client;
use crate::oidc::error::{ErrorCode, OAuthError};
use crate::oidc::grant_type::GrantType;
use crate::oidc::params::{ParamError, Params};
use crate::oidc::rar::{self, RequestedDetails};
use crate::scope_set::ScopeSet;
use crate::store::DbConn;

/// A validated authorization request.
#[derive(Debug, Clone)]
pub struct ValidRequest {
    /// The client.
    pub client: Client,
    /// The registered redirect URI, exactly as registered.
    pub redirect_uri: String,
    /// How the response is delivered.
    pub response_mode: ResponseMode,
    /// Requested scopes, in request order, without duplicates.
    pub scopes: ScopeSet,
    /// Opaque client state.
    pub state: Option<String>,
    /// Replay protection for the ID token.
    pub nonce: Option<String>,
    /// `prompt=none`.
    pub prompt_none: bool,
    /// `prompt=login`.
    pub prompt_login: bool,
    /// `prompt=consent`.
    pub prompt_consent: bool,
    /// Maximum authentication age in seconds.
    pub max_age: Option<i64>,
    /// Username to prefill.
    pub login_hint: Option<String>,
    /// A previously issued ID token, as sent.
    pub id_token_hint: Option<String>,
    /// The `sub` that `id_token_hint` names, once its signature was checked.
    pub hint_subject: Option<UserId>,
    /// RFC 9396 `authorization_details`, checked against their action types.
    pub details: Option<RequestedDetails>,
}

const KNOWN_PARAMS: [&str; 20] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "prompt",
    "max_age",
    "login_hint",
    "id_token_hint",
    "code_challenge",
    "code_challenge_method",
    "display",
    "ui_locales",
    "claims_locales",
    "acr_values",
    "request",
    "request_uri",
    "authorization_details",
];

/// Validates client and redirect_uri, then every other parameter.
pub fn validate(
    c: &mut DbConn,
    params: &Params,
    broken: Option<&ParamError>,
) -> Result<ValidRequest, AuthorizeError> {
    let render = |d: &'static str| AuthorizeError::Render(OAuthError::invalid_request(d));
    if let Some(ParamError::Repeated(name) | ParamError::Undecodable(name)) = broken {
        if name == "client_id" || name == "redirect_uri" {
            return Err(render(
                "client_id or redirect_uri is repeated or not valid UTF-8",
            ));
        }
    }
    let client_id = params
        .get("client_id")
        .ok_or_else(|| render("client_id is missing"))?;
    let client = match ClientId::parse(client_id) {
        Ok(client_id) => Client::load(c, &client_id).map_err(AuthorizeError::Render)?,
        Err(_) => None,
    }
    .ok_or_else(|| render("the client is not registered"))?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| render("redirect_uri is missing (OIDC Core 3.1.2.1 requires it)"))?;
    if !client.has_redirect_uri(redirect_uri) {
        return Err(render("redirect_uri is not registered for this client"));
    }
    if !client.may_use(GrantType::AuthorizationCode) {
        return Err(render(
            "the client is not registered for the authorization code flow",
        ));
    }
    let response_mode = match params.get("response_mode") {
        Some("form_post") => ResponseMode::FormPost,
        _ => ResponseMode::Query,
    };
    let target = ErrorTarget {
        redirect_uri: redirect_uri.to_owned(),
        response_mode,
        state: params.get("state").map(str::to_owned),
    };
    let fail = |error: OAuthError| AuthorizeError::Redirect(target.clone(), error);
    check_rest(params, broken, &client).map_err(fail)?;
    let details =
        rar::requested_details(c, &client, params.get("authorization_details")).map_err(fail)?;
    let prompt: Vec<&str> = params
        .get("prompt")
        .unwrap_or_default()
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect();
    Ok(ValidRequest {
        redirect_uri: redirect_uri.to_owned(),
        response_mode,
        scopes: ScopeSet::parse(params.get("scope").unwrap_or_default()),
        state: target.state.clone(),
        nonce: params.get("nonce").map(str::to_owned),
        prompt_none: prompt.contains(&"none"),
        prompt_login: prompt.contains(&"login"),
        prompt_consent: prompt.contains(&"consent"),
        max_age: params.get("max_age").and_then(|m| m.parse().ok()),
        login_hint: params.get("login_hint").map(str::to_owned),
        id_token_hint: params.get("id_token_hint").map(str::to_owned),
        hint_subject: None,
        details,
        client,
    })
}

/// Every rule after client and redirect_uri, one per check, in the order a developer
/// would want to hear about them.
fn check_rest(
    params: &Params,
    broken: Option<&ParamError>,
    client: &Client,
) -> Result<(), OAuthError> {
    if let Some(ParamError::Repeated(name) | ParamError::Undecodable(name)) = broken {
        return Err(OAuthError::invalid_request(
            match KNOWN_PARAMS.iter().find(|k| *k == name) {
                Some(known) => format!("parameter {known} is repeated or not valid UTF-8"),
                None => "a parameter is repeated or not valid UTF-8".into(),
            },
        ));
    }
    if params.has("request") {
        return Err(OAuthError::new(
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        ));
    }
    if params.has("request_uri") {
        return Err(OAuthError::new(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        ));
    }
    if params.has("registration") {
        return Err(OAuthError::new(
            ErrorCode::RegistrationNotSupported,
            "the registration parameter is not supported",
        ));
    }
    match params.get("response_type") {
        None => return Err(OAuthError::invalid_request("response_type is missing")),
        Some("code") => {}
        Some(_) => {
            return Err(OAuthError::unsupported_response_type(
                "only response_type=code is supported",
            ))
        }
    }
    if !matches!(
        params.get("response_mode"),
        None | Some("query" | "form_post")
    ) {
        return Err(OAuthError::invalid_request(
            "response_mode must be query or form_post",
        ));
    }
    check_scope(params.get("scope"), client)?;
    check_pkce(params, client)?;
    check_prompt(params.get("prompt"))?;
    if let Some(max_age) = params.get("max_age") {
        if max_age.parse::<u32>().is_err() {
            return Err(OAuthError::invalid_request(
                "max_age must be a non-negative integer",
            ));
        }
    }
    if params.get("nonce").is_some_and(|n| n.len() > 512)
        || params.get("state").is_some_and(|s| s.len() > 2048)
    {
        return Err(OAuthError::invalid_request("nonce or state is too long"));
    }
    Ok(())
}

fn check_scope(scope: Option<&str>, client: &Client) -> Result<(), OAuthError> {
    let Some(scope) = scope else {
        return Err(OAuthError::invalid_request(
            "scope is missing (OpenID Connect requests need openid)",
        ));
    };
    for name in ScopeSet::parse(scope).iter() {
        if !client.allowed_scopes.contains(name) {
            return Err(OAuthError::invalid_scope(
                "a requested scope is unknown or not allowed for this client",
            ));
        }
    }
    Ok(())
}

/// RFC 7636 §4.3 with the stricter rules of DESIGN.md §8: S256 only, no implicit
/// `plain`, required for public clients.
fn check_pkce(params: &Params, client: &Client) -> Result<(), OAuthError> {
    match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (None, Some(_)) => Err(OAuthError::invalid_request(
            "code_challenge_method was sent without code_challenge",
        )),
        (None, None) if client.require_pkce => Err(OAuthError::invalid_request(
            "this client must use PKCE: send code_challenge with code_challenge_method=S256",
        )),
        (None, None) => Ok(()),
        (Some(_), None) => Err(OAuthError::invalid_request(
            "code_challenge_method is missing; plain is not supported, use S256",
        )),
        (Some(_), Some(method)) if method != "S256" => Err(OAuthError::invalid_request(
            "code_challenge_method must be S256",
        )),
        (Some(challenge), Some(_)) if !is_pkce_string(challenge) => Err(
            OAuthError::invalid_request("code_challenge must be 43-128 characters of base64url"),
        ),
        (Some(_), Some(_)) => Ok(()),
    }
}

/// RFC 7636 §4.1: 43-128 unreserved characters.
pub fn is_pkce_string(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// OIDC Core §3.1.2.1: `none` stands alone; `select_account` is accepted (one account
/// per session, so it is always satisfied).
fn check_prompt(prompt: Option<&str>) -> Result<(), OAuthError> {
    let values: Vec<&str> = prompt
        .unwrap_or_default()
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect();
    if values
        .iter()
        .any(|v| !matches!(*v, "none" | "login" | "consent" | "select_account"))
    {
        return Err(OAuthError::invalid_request(
            "prompt has an unsupported value",
        ));
    }
    if values.contains(&"none") && values.len() > 1 {
        return Err(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(())
}
