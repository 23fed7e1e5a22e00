//! Signing in with a passkey (issue 18; WebAuthn L2 §7.2, discoverable credentials),
//! called by `static/passkeys.js` from the login page: `POST /login/passkey` returns
//! `{ceremony_id, options}` for `navigator.credentials.get`;
//! `POST /login/passkey/{ceremony}` (`credential`, and `request` or `return_to`)
//! starts the session and returns `{location}`. CSRF-checked forms, JSON answers
//! (`{error}` when refused). Off with `local_passwords = false`, like the password
//! form: such a server signs people in only through their identity provider.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use webauthn_rs::prelude::PublicKeyCredential;

use super::login::Next;
use super::passkeys::{error, ok};
use super::{cookies, AppState};
use crate::accounts::passkey_sign_in::PasskeyAttempt;
use crate::accounts::passkeys::PasskeyError;

/// `POST /login/passkey`: starts a sign-in ceremony.
pub async fn start(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if let Err(refused) = super::approvals::checked_form(&state, &req, &body) {
        return *refused;
    }
    if !state.upstreams.local_passwords {
        return error(StatusCode::FORBIDDEN, OFF);
    }
    let (account, now) = (state.account.clone(), state.clock.now());
    let started =
        super::blocking(move || account.passkeys.start_sign_in(&account.store, now)).await;
    match started {
        Ok((ceremony_id, options)) => ok(json!({"ceremony_id": ceremony_id, "options": options})),
        Err(refusal) => refused(&refusal),
    }
}

/// `POST /login/passkey/{ceremony}`: the authenticator's answer.
#[tracing::instrument(skip_all)]
pub async fn finish(
    state: web::Data<AppState>,
    req: HttpRequest,
    ceremony: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let form = match super::approvals::checked_form(&state, &req, &body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    if !state.upstreams.local_passwords {
        return error(StatusCode::FORBIDDEN, OFF);
    }
    let credential: PublicKeyCredential = match super::passkeys::credential_of(&form) {
        Ok(credential) => credential,
        Err(refused) => return *refused,
    };
    let next = Next::from(&form);
    let (account, now) = (state.account.clone(), state.clock.now());
    let (ip, previous, request) = (
        state.cookies.client_ip(&req),
        cookies::session(&req),
        next.request.clone(),
    );
    let finished = super::blocking(move || {
        let attempt = PasskeyAttempt {
            ceremony_id: &ceremony,
            credential: &credential,
            ip: &ip,
            previous_session: previous.as_ref(),
            request: request.as_deref(),
        };
        account
            .passkeys
            .finish_sign_in(&account.store, &attempt, account.sessions, now)
    })
    .await;
    match finished {
        Ok(Ok(signed_in)) => {
            let mut response = ok(json!({"location": next.location()}));
            let cookie = state
                .cookies
                .build(cookies::SESSION, signed_in.cookie.expose().to_owned());
            let _ = response.add_cookie(&cookie);
            response
        }
        Ok(Err(refusal)) => refused(&refusal),
        Err(cause) => super::server_error_page(&cause),
    }
}

const OFF: &str = "this server signs people in only through their identity provider";

fn refused(refusal: &PasskeyError) -> HttpResponse {
    match refusal {
        PasskeyError::Unavailable => error(StatusCode::NOT_FOUND, &refusal.to_string()),
        PasskeyError::Store(cause) => super::server_error_page(cause),
        PasskeyError::Refused(_) => error(StatusCode::FORBIDDEN, &refusal.to_string()),
    }
}
