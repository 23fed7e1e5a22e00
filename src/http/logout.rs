//! `GET|POST /logout` (OpenID Connect RP-Initiated Logout 1.0), which also ends the
//! upstream provider's session of a brokered sign-in, and `GET /logout/upstream/done`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::cookies;
use super::pages::{self, LogoutPage};
use super::AppState;
use crate::oidc::logout::LogoutOutcome;
use crate::oidc::params::Params;

/// `GET /logout`.
pub async fn get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match Params::parse(req.query_string().as_bytes()) {
        Ok(params) => handle(state, req, params, false).await,
        Err(_) => bad_request("A parameter is repeated or not valid UTF-8."),
    }
}

/// `POST /logout`: the RP's form post, or our confirmation form (`confirm=yes`).
pub async fn post(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let Ok(params) = Params::parse(&body) else {
        return bad_request("A parameter is repeated or not valid UTF-8.");
    };
    let confirmed = params.get("confirm") == Some("yes");
    if confirmed && !state.cookies.csrf_valid(&req, params.get("csrf_token")) {
        return super::csrf_failed();
    }
    handle(state, req, params, confirmed).await
}

fn bad_request(message: &str) -> HttpResponse {
    pages::error_page(
        StatusCode::BAD_REQUEST,
        "Cannot sign out",
        message,
        Some("invalid_request"),
    )
}

async fn handle(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: Params,
    confirmed: bool,
) -> HttpResponse {
    let (provider, cookie, now) = (
        state.provider.clone(),
        cookies::session(&req),
        state.clock.now(),
    );
    let outcome =
        super::blocking(move || provider.logout(&params, cookie.as_ref(), confirmed, now)).await;
    match outcome {
        Ok(LogoutOutcome::Confirm { client_name, carry }) => {
            let csrf = state.cookies.csrf_token(&req);
            let mut response = pages::render(
                StatusCode::OK,
                &LogoutPage {
                    csrf_token: csrf.token,
                    client_name,
                    carry,
                },
            );
            if let Some(cookie) = csrf.cookie {
                let _ = response.add_cookie(&cookie);
            }
            response
        }
        Ok(LogoutOutcome::SignedOut { redirect, upstream }) => {
            let upstream_end = match upstream {
                Some((name, id_token)) => {
                    let then = redirect.as_deref();
                    state.upstreams.end_session(&name, &id_token, then).await
                }
                None => None,
            };
            let mut response = signed_out(upstream_end.or(redirect));
            let _ = response.add_cookie(&state.cookies.removal(cookies::SESSION));
            response
        }
        Err(error) if super::server_fault_status(error.code).is_some() => {
            super::server_error_page(&error)
        }
        Err(error) => bad_request(&error.description),
    }
}

/// A 303 to `redirect`, or the signed-out page.
fn signed_out(redirect: Option<String>) -> HttpResponse {
    match redirect {
        Some(location) => super::see_other(&location),
        None => pages::message(
            StatusCode::OK,
            "Signed out",
            "You are signed out.",
            Some(("/login", "Sign in again")),
        ),
    }
}

/// `GET /logout/upstream/done?state=…`: back from the upstream's logout; on to the
/// client's post-logout redirect carried in `state`, or the signed-out page.
pub async fn upstream_done(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let params = Params::parse(req.query_string().as_bytes()).unwrap_or_default();
    signed_out(state.upstreams.after_end_session(params.get("state")))
}
