//! Deciding with a passkey (issue 18; WebAuthn L2 §7.2), called by
//! `static/passkeys.js` from the review page: `POST /approvals/{id}/ceremony`
//! (`decision`, `comment`) returns `{ceremony_id, options}` for
//! `navigator.credentials.get`; `POST /approvals/{id}/ceremony/{ceremony}`
//! (`credential`) records the decision the ceremony was started for and returns
//! `{state, location}`. CSRF-checked forms, JSON answers (`{error}` when refused).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::passkeys::{credential, error, ok};
use super::{cookies, AppState};
use crate::approval::{ApprovalError, Decision, Desk, DeskError};
use crate::ids::SessionToken;

/// `POST /approvals/{id}/ceremony`: `decision`, `comment`.
pub async fn start_vote(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let form = match super::approvals::checked_form(&state, &req, &body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let Some(decision) = form.get("decision").and_then(Decision::parse) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "choose approve or deny");
    };
    let comment = form.get("comment").map(str::to_owned);
    let started = desk_call(&state, &req, move |desk, cookie, now| {
        desk.start_passkey_vote(&id, cookie, decision, comment.as_deref(), now)
    });
    match started.await {
        Ok((ceremony_id, options)) => ok(json!({"ceremony_id": ceremony_id, "options": options})),
        Err(error) => desk_refused(&error),
    }
}

/// `POST /approvals/{id}/ceremony/{ceremony}`: the assertion; records the decision.
pub async fn finish_vote(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let credential = match credential(&state, &req, &body) {
        Ok(credential) => credential,
        Err(refused) => return *refused,
    };
    let (id, ceremony) = path.into_inner();
    let location = format!("/approvals/{id}");
    let decided = desk_call(&state, &req, move |desk, cookie, now| {
        desk.decide_with_passkey(&id, cookie, &ceremony, credential, now)
    });
    match decided.await {
        Ok(row) => ok(json!({"state": row.state.as_str(), "location": location})),
        Err(error) => desk_refused(&error),
    }
}

async fn desk_call<T: Send + 'static>(
    state: &AppState,
    req: &HttpRequest,
    call: impl FnOnce(&Desk, Option<&SessionToken>, i64) -> Result<T, DeskError> + Send + 'static,
) -> Result<T, DeskError> {
    let (desk, cookie, now) = (state.desk.clone(), cookies::session(req), state.clock.now());
    super::blocking(move || call(&desk, cookie.as_ref(), now)).await
}

fn desk_refused(refusal: &DeskError) -> HttpResponse {
    let status = match refusal {
        DeskError::SignIn => StatusCode::UNAUTHORIZED,
        DeskError::Approval(ApprovalError::Store(cause)) => return super::server_error_page(cause),
        DeskError::Approval(ApprovalError::NotFound) => StatusCode::NOT_FOUND,
        DeskError::Approval(ApprovalError::Conflict(_)) => StatusCode::CONFLICT,
        DeskError::Approval(ApprovalError::Unprocessable(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        // Sign in again first: the page's link says so.
        DeskError::Approval(ApprovalError::NeedsFreshLogin) => StatusCode::UNAUTHORIZED,
        _ => StatusCode::FORBIDDEN,
    };
    error(status, &refusal.to_string())
}
