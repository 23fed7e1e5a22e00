//! Passkey registration's endpoints (issue 18; WebAuthn L2 §7.1), called by
//! `static/passkeys.js`: the start returns `{ceremony_id, options}` for
//! `navigator.credentials.create`, the finish takes the browser's answer as the form
//! field `credential` (the credential as JSON, binary fields base64url). Every POST is
//! a CSRF-checked form; the answers are JSON (`{error}` when refused), but for the
//! plain removal form.
//!
//! - `POST /account/passkeys` (`name`, and `code` when the account holds an
//!   authenticator app), `POST /account/passkeys/{ceremony}`: register;
//! - `POST /account/passkeys/remove` (`credential_id`, `code` likewise): remove, back
//!   to `/account`.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{cookies, AppState};
use crate::accounts::factors::{Account, AccountError};
use crate::accounts::passkeys::PasskeyError;
use crate::accounts::totp::TotpError;
use crate::ids::SessionToken;
use crate::oidc::params::Params;

/// `POST /account/passkeys`: starts registering a passkey called `name`.
pub async fn start_registration(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let form = match super::approvals::checked_form(&state, &req, &body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let name = form.get("name").unwrap_or_default().to_owned();
    let code = form.get("code").map(str::to_owned);
    let started = account_call(&state, &req, move |account, cookie, now| {
        account.start_passkey(cookie, &name, code.as_deref(), now)
    });
    match started.await {
        Ok((ceremony_id, options)) => ok(json!({"ceremony_id": ceremony_id, "options": options})),
        Err(error) => account_refused(&error),
    }
}

/// `POST /account/passkeys/{ceremony}`: finishes a registration.
pub async fn finish_registration(
    state: web::Data<AppState>,
    req: HttpRequest,
    ceremony: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let credential = match credential(&state, &req, &body) {
        Ok(credential) => credential,
        Err(refused) => return *refused,
    };
    let finished = account_call(&state, &req, move |account, cookie, now| {
        account.finish_passkey(cookie, &ceremony, &credential, now)
    });
    match finished.await {
        Ok(name) => ok(json!({"name": name, "location": "/account"})),
        Err(error) => account_refused(&error),
    }
}

/// `POST /account/passkeys/remove`: `credential_id`.
pub async fn remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let form = match super::approvals::checked_form(&state, &req, &body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let id = form.get("credential_id").unwrap_or_default().to_owned();
    let code = form.get("code").map(str::to_owned);
    let removed = account_call(&state, &req, move |account, cookie, now| {
        account.remove_passkey(cookie, &id, code.as_deref(), now)
    });
    match removed.await {
        Ok(()) => super::see_other("/account"),
        Err(error) => super::account::refused(&error),
    }
}

/// The form's `credential` (JSON), once its CSRF token checks out.
pub(super) fn credential<T: serde::de::DeserializeOwned>(
    state: &AppState,
    req: &HttpRequest,
    body: &[u8],
) -> Result<T, Box<HttpResponse>> {
    let form: Params = super::approvals::checked_form(state, req, body)?;
    credential_of(&form)
}

/// The form's `credential`: the browser's WebAuthn answer as JSON (400 when it is not).
pub(super) fn credential_of<T: serde::de::DeserializeOwned>(
    form: &Params,
) -> Result<T, Box<HttpResponse>> {
    let text = form.get("credential").unwrap_or_default();
    serde_json::from_str(text).map_err(|_| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "the passkey's answer is not a WebAuthn credential",
        ))
    })
}

async fn account_call<T: Send + 'static>(
    state: &AppState,
    req: &HttpRequest,
    call: impl FnOnce(&Account, Option<&SessionToken>, i64) -> Result<T, AccountError> + Send + 'static,
) -> Result<T, AccountError> {
    let (account, cookie, now) = (
        state.account.clone(),
        cookies::session(req),
        state.clock.now(),
    );
    super::blocking(move || call(&account, cookie.as_ref(), now)).await
}

pub(super) fn ok(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

pub(super) fn error(status: StatusCode, why: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"error": why}))
}

pub(super) fn account_refused(refusal: &AccountError) -> HttpResponse {
    match refusal {
        AccountError::SignIn => error(StatusCode::UNAUTHORIZED, "sign in first"),
        AccountError::FreshSignIn => error(StatusCode::UNAUTHORIZED, &refusal.to_string()),
        AccountError::Passkey(PasskeyError::Store(cause))
        | AccountError::Totp(TotpError::Store(cause)) => super::server_error_page(cause),
        AccountError::Passkey(PasskeyError::Unavailable) => {
            error(StatusCode::NOT_FOUND, &refusal.to_string())
        }
        _ => error(StatusCode::FORBIDDEN, &refusal.to_string()),
    }
}
