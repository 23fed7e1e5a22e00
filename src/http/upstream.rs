//! `GET /login/upstream/{name}` and `GET /login/upstream/{name}/callback`: signing in
//! through an upstream OpenID Connect provider (issue 22; OIDC Core §3.1, RFC 7636,
//! RFC 9207). The `state` travels in a cookie too, so only the browser that started a
//! sign-in can finish it. GET only: a HEAD would spend a login.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::cookies;
use super::login::Next;
use super::pages;
use super::AppState;
use crate::oidc::params::Params;
use crate::upstream::{self, Callback, UpstreamError};

/// Percent-encodes a query value.
pub(super) fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// `GET /login/upstream/{name}?request=…|return_to=…`: 303 to the upstream.
#[tracing::instrument(skip_all)]
pub async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
) -> HttpResponse {
    let query = Params::parse(req.query_string().as_bytes()).unwrap_or_default();
    let next = Next::from(&query);
    let next = upstream::Next {
        request: next.request,
        return_to: next.return_to,
    };
    match state.upstreams.start(&name, next, state.clock.now()).await {
        Ok((location, login_state)) => {
            let mut response = super::see_other(location.as_str());
            let cookie = state.cookies.build(cookies::UPSTREAM_STATE, login_state);
            let _ = response.add_cookie(&cookie);
            response
        }
        Err(error) => page(&error),
    }
}

/// `GET /login/upstream/{name}/callback?code&state[&iss]` (or `error`): signs in, then
/// continues as a password login would.
#[tracing::instrument(skip_all)]
pub async fn callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
) -> HttpResponse {
    // A repeated parameter reads as none: the state check then refuses it.
    let query = Params::parse(req.query_string().as_bytes()).unwrap_or_default();
    let param = |key: &str| query.get(key).map(str::to_owned);
    let callback = Callback {
        state: param("state"),
        cookie_state: req
            .cookie(cookies::UPSTREAM_STATE)
            .map(|c| c.value().to_owned()),
        code: param("code"),
        error: param("error"),
        iss: param("iss"),
    };
    let (ip, previous) = (state.cookies.client_ip(&req), cookies::session(&req));
    let finished = state
        .upstreams
        .finish(&name, callback, ip, previous, state.clock.now())
        .await;
    let mut response = match finished {
        Ok(signed_in) => {
            let next = Next {
                request: signed_in.next.request,
                return_to: signed_in.next.return_to,
            };
            let mut response = super::see_other(&next.location());
            let session = cookies::SESSION;
            let cookie = state
                .cookies
                .build(session, signed_in.cookie.expose().to_owned());
            let _ = response.add_cookie(&cookie);
            response
        }
        Err(error) => page(&error),
    };
    let _ = response.add_cookie(&state.cookies.removal(cookies::UPSTREAM_STATE));
    response
}

/// The page for a sign-in that stopped: what happened in a sentence, the cause logged.
fn page(error: &UpstreamError) -> HttpResponse {
    let (status, title, message) = match error {
        UpstreamError::Store(store) => return super::server_error_page(store),
        UpstreamError::Unknown => (
            StatusCode::NOT_FOUND,
            "Unknown sign-in provider",
            "There is no sign-in provider by that name here.",
        ),
        UpstreamError::StateMismatch => (
            StatusCode::BAD_REQUEST,
            "Sign-in refused",
            "This sign-in did not start in this browser. Start again from the sign-in page.",
        ),
        UpstreamError::StateUsed => (
            StatusCode::BAD_REQUEST,
            "Sign-in refused",
            "This sign-in link was already used or has expired. Start again from the sign-in page.",
        ),
        UpstreamError::Refused(_) | UpstreamError::Exchange(_) => (
            StatusCode::BAD_REQUEST,
            "Sign-in refused",
            "Your identity provider did not complete the sign-in. Start again from the sign-in page.",
        ),
        UpstreamError::IdToken(_) => (
            StatusCode::BAD_REQUEST,
            "Sign-in refused",
            "The answer of your identity provider could not be verified. Start again from the sign-in page.",
        ),
        UpstreamError::Disabled => (
            StatusCode::FORBIDDEN,
            "Account disabled",
            "Your account here is disabled. Ask an administrator.",
        ),
        UpstreamError::Discovery(_) | UpstreamError::Sealed(_) => (
            StatusCode::BAD_GATEWAY,
            "Sign-in provider unavailable",
            "Your identity provider cannot be reached right now. Try again in a moment.",
        ),
    };
    tracing::warn!(%error, "upstream sign-in stopped");
    pages::error_page(status, title, message, None)
}
