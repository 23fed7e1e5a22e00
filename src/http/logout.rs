//! `GET|POST /logout` (OpenID Connect RP-Initiated Logout 1.0).

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
        Ok(LogoutOutcome::SignedOut { redirect }) => {
            let mut response = match redirect {
                Some(location) => super::see_other(&location),
                None => pages::message(
                    StatusCode::OK,
                    "Signed out",
                    "You are signed out.",
                    Some(("/login", "Sign in again")),
                ),
            };
            let _ = response.add_cookie(&state.cookies.removal(cookies::SESSION));
            response
        }
        Err(error) if super::server_fault_status(error.code).is_some() => {
            super::server_error_page(&error)
        }
        Err(error) => bad_request(&error.description),
    }
}
