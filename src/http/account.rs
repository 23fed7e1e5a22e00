//! The account page (issue 18): `GET /account` lists the signed-in user's second
//! factors; `POST /account/totp` starts enrolling an authenticator app (QR code and
//! key), `POST /account/totp/confirm` confirms it with a first code and shows the
//! recovery codes once, `POST /account/totp/remove` removes it given a current code.
//! Once a factor is held, changes need it (`accounts/factor_changes.rs`): the forms
//! then ask for a code, or the page asks to confirm with a passkey first
//! (`step_up.rs`).
//! It also lists passkeys, registered through `passkeys.rs` and `static/passkeys.js`.
//! Every form is CSRF-checked; nobody signed in is sent to sign in first.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::{cookies, pages, AppState};
use crate::accounts::factor_changes::ProofNeeded;
use crate::accounts::factors::{Account, AccountError};
use crate::accounts::totp::TotpError;
use crate::ids::SessionToken;

#[derive(Template)]
#[template(path = "account/factors.html")]
struct FactorsPage {
    csrf_token: String,
    username: String,
    totp: bool,
    recovery_codes_left: i64,
    passkeys_available: bool,
    passkeys: Vec<PasskeyItem>,
    /// Changes need a current authenticator code in the form.
    code_needed: bool,
    /// Changes need a passkey confirmed in the session first (the account holds only
    /// passkeys).
    passkey_needed: bool,
}

/// One registered passkey, as the account page lists it.
struct PasskeyItem {
    credential_id: String,
    name: String,
    created_at: String,
    last_used_at: Option<String>,
}

#[derive(Template)]
#[template(path = "account/totp_enrol.html")]
struct EnrolPage {
    csrf_token: String,
    qr_svg: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "account/recovery_codes.html")]
struct RecoveryCodesPage {
    codes: Vec<String>,
}

/// `GET /account`.
pub async fn get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let viewed = call(&state, &req, |account, cookie, now| {
        account.view(cookie, now)
    })
    .await;
    match viewed {
        Ok(view) => super::approvals::with_csrf(&state, &req, |csrf_token| {
            pages::render(
                StatusCode::OK,
                &FactorsPage {
                    csrf_token,
                    username: view.username,
                    totp: view.totp,
                    recovery_codes_left: view.recovery_codes_left,
                    passkeys_available: view.passkeys_available,
                    passkeys: view
                        .passkeys
                        .into_iter()
                        .map(|key| PasskeyItem {
                            credential_id: key.credential_id,
                            name: key.name,
                            created_at: pages::time(key.created_at),
                            last_used_at: key.last_used_at.map(pages::time),
                        })
                        .collect(),
                    code_needed: view.proof_needed == ProofNeeded::Code,
                    passkey_needed: view.proof_needed == ProofNeeded::Passkey,
                },
            )
        }),
        Err(error) => refused(&error),
    }
}

/// `POST /account/totp`: a new secret to scan.
pub async fn start_totp(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if let Err(refusal) = checked_code(&state, &req, &body) {
        return *refusal;
    }
    let started = call(&state, &req, |account, cookie, now| {
        account.start_totp(cookie, now)
    })
    .await;
    match started {
        Ok(enrolment) => super::approvals::with_csrf(&state, &req, |csrf_token| {
            pages::render(
                StatusCode::OK,
                &EnrolPage {
                    csrf_token,
                    qr_svg: enrolment.qr_svg,
                    secret: enrolment.secret,
                },
            )
        }),
        Err(error) => refused(&error),
    }
}

/// `POST /account/totp/confirm`: `code`.
pub async fn confirm_totp(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let code = match checked_code(&state, &req, &body) {
        Ok(code) => code,
        Err(refusal) => return *refusal,
    };
    let confirmed = call(&state, &req, move |account, cookie, now| {
        account.confirm_totp(cookie, &code, now)
    });
    match confirmed.await {
        Ok(codes) => pages::render(StatusCode::OK, &RecoveryCodesPage { codes }),
        Err(error) => refused(&error),
    }
}

/// `POST /account/totp/remove`: `code`.
pub async fn remove_totp(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let code = match checked_code(&state, &req, &body) {
        Ok(code) => code,
        Err(refusal) => return *refusal,
    };
    let removed = call(&state, &req, move |account, cookie, now| {
        account.remove_totp(cookie, &code, now)
    });
    match removed.await {
        Ok(()) => super::see_other("/account"),
        Err(error) => refused(&error),
    }
}

/// The form's `code` (empty when absent), once its CSRF token checks out.
fn checked_code(
    state: &AppState,
    req: &HttpRequest,
    body: &[u8],
) -> Result<String, Box<HttpResponse>> {
    let form = super::approvals::checked_form(state, req, body)?;
    Ok(form.get("code").unwrap_or_default().trim().to_owned())
}

async fn call<T: Send + 'static>(
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

pub(super) fn refused(error: &AccountError) -> HttpResponse {
    let back = Some(("/account", "Back to your account"));
    match error {
        AccountError::SignIn => super::see_other("/login?return_to=%2Faccount"),
        AccountError::FreshSignIn => super::see_other("/login?return_to=%2Faccount&fresh=1"),
        AccountError::Throttled(retry_after) => {
            let mut page = pages::message(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many wrong codes",
                &crate::approval::sentence(&error.to_string()),
                back,
            );
            if let Ok(value) = header::HeaderValue::from_str(&retry_after.to_string()) {
                page.headers_mut().insert(header::RETRY_AFTER, value);
            }
            page
        }
        AccountError::Totp(TotpError::Store(_))
        | AccountError::Passkey(crate::accounts::passkeys::PasskeyError::Store(_)) => {
            super::server_error_page(error)
        }
        AccountError::ProveFactor(why) => pages::message(
            StatusCode::FORBIDDEN,
            "Not done",
            &crate::approval::sentence(why),
            back,
        ),
        AccountError::Passkey(refusal) => pages::message(
            StatusCode::FORBIDDEN,
            "Not done",
            &format!("{refusal}."),
            back,
        ),
        AccountError::Totp(refusal) => pages::message(
            StatusCode::FORBIDDEN,
            "Not done",
            &crate::approval::sentence(&refusal.to_string()),
            back,
        ),
    }
}
