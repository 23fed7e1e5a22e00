//! Proving a second factor inside the session (issue 18 and 19;
//! [`crate::accounts::session_step_up`]), from the account page and the console's
//! step-up page. Each answer carries the session's new cookie (its id changes as it
//! gains rights). CSRF-checked forms:
//! - `POST /account/step-up` (`code`, `return_to`): a code from the authenticator app;
//!   on to `return_to` (a local path);
//! - `POST /account/step-up/passkey`: starts an assertion, `{ceremony_id, options}`;
//! - `POST /account/step-up/passkey/{ceremony}` (`credential`, `return_to`): finishes
//!   it, `{location}` (called by `static/passkeys.js`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use webauthn_rs::prelude::PublicKeyCredential;

use super::login::Next;
use super::passkeys::ok;
use super::{cookies, pages, AppState};
use crate::ids::SessionToken;

/// `POST /account/step-up`: `code`, `return_to`.
pub async fn with_code(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let form = match super::approvals::checked_form(&state, &req, &body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let next = Next::from(&form);
    let code = form.get("code").unwrap_or_default().to_owned();
    let (account, cookie, now) = (
        state.account.clone(),
        cookies::session(&req),
        state.clock.now(),
    );
    let proved =
        super::blocking(move || account.step_up_with_code(cookie.as_ref(), &code, now)).await;
    match proved {
        Ok(Ok(cookie)) => with_cookie(&state, super::see_other(&next.location()), &cookie),
        Ok(Err(refusal)) | Err(refusal) => super::account::refused(&refusal),
    }
}

/// `POST /account/step-up/passkey`: starts an assertion.
pub async fn start_passkey(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if let Err(refused) = super::approvals::checked_form(&state, &req, &body) {
        return *refused;
    }
    let (account, cookie, now) = (
        state.account.clone(),
        cookies::session(&req),
        state.clock.now(),
    );
    let started =
        super::blocking(move || account.start_step_up_passkey(cookie.as_ref(), now)).await;
    match started {
        Ok((ceremony_id, options)) => ok(json!({"ceremony_id": ceremony_id, "options": options})),
        Err(refusal) => super::passkeys::account_refused(&refusal),
    }
}

/// `POST /account/step-up/passkey/{ceremony}`: `credential`, `return_to`.
pub async fn finish_passkey(
    state: web::Data<AppState>,
    req: HttpRequest,
    ceremony: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let form = match super::approvals::checked_form(&state, &req, &body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let credential: PublicKeyCredential = match super::passkeys::credential_of(&form) {
        Ok(credential) => credential,
        Err(refused) => return *refused,
    };
    let next = Next::from(&form);
    let (account, cookie, now) = (
        state.account.clone(),
        cookies::session(&req),
        state.clock.now(),
    );
    let proved = super::blocking(move || {
        account.finish_step_up_passkey(cookie.as_ref(), &ceremony, &credential, now)
    })
    .await;
    match proved {
        Ok(Ok(cookie)) => with_cookie(&state, ok(json!({"location": next.location()})), &cookie),
        Ok(Err(refusal)) | Err(refusal) => super::passkeys::account_refused(&refusal),
    }
}

fn with_cookie(
    state: &AppState,
    mut response: HttpResponse,
    cookie: &SessionToken,
) -> HttpResponse {
    let cookie = state
        .cookies
        .build(cookies::SESSION, cookie.expose().to_owned());
    if response.add_cookie(&cookie).is_err() {
        return pages::error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The new session could not be set: sign in again.",
            None,
        );
    }
    response
}
