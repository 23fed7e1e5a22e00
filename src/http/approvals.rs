//! The countersignature's pages (DESIGN.md §5.1, §8 "Approval pages"): the approver
//! inbox `GET /approvals`, the review page `GET /approvals/{id}` with its decision
//! `POST`, revoke and cancel, the requester's waiting page and its status JSON (pushed
//! by `approval_events`).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::cookies;
use super::pages::{self, InboxItem, InboxPage, ReviewPage, ReviewScope, ReviewVote, WaitingPage};
use super::AppState;
use crate::approval::sentence;
use crate::approval::step_up::StepUpRefusal;
use crate::approval::ApproverFactor;
use crate::approval::{ApprovalError, ApprovalView, Decision, Desk, DeskError, Presented, Vote};
use crate::ids::SessionToken;
use crate::oidc::params::Params;
use crate::store::ApprovalRow;

/// Maps a refusal to its page: 303 to sign in, 404, 403, 409, 422.
pub(super) fn refused(error: DeskError, req: &HttpRequest, id: Option<&str>) -> HttpResponse {
    let return_to =
        || url::form_urlencoded::byte_serialize(req.path().as_bytes()).collect::<String>();
    match error {
        DeskError::SignIn => super::see_other(&format!("/login?return_to={}", return_to())),
        DeskError::Approval(ApprovalError::NeedsFreshLogin) => {
            let path = format!("/approvals/{}", id.unwrap_or_default());
            let encoded: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
            super::see_other(&format!("/login?return_to={encoded}&fresh=1"))
        }
        DeskError::Approval(ApprovalError::NotFound) => pages::error_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such approval request for you.",
            None,
        ),
        DeskError::Approval(ApprovalError::Forbidden(why)) => {
            pages::error_page(StatusCode::FORBIDDEN, "Not allowed", why, None)
        }
        DeskError::Approval(ApprovalError::Conflict(why)) => {
            pages::error_page(StatusCode::CONFLICT, "Already decided", &why, None)
        }
        DeskError::Approval(ApprovalError::Unprocessable(why)) => pages::error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Something is missing",
            why,
            None,
        ),
        DeskError::Approval(ApprovalError::StepUp(why)) => {
            let back = format!("/approvals/{}", id.unwrap_or_default());
            let status = match why {
                StepUpRefusal::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::FORBIDDEN,
            };
            pages::message(
                status,
                "Second factor needed",
                &sentence(&why.to_string()),
                Some((back.as_str(), "Back to the request")),
            )
        }
        DeskError::Approval(ApprovalError::Store(error)) => super::server_error_page(&error),
    }
}

/// Renders a page with the CSRF token of this browser (setting its cookie if new).
pub(super) fn with_csrf(
    state: &AppState,
    req: &HttpRequest,
    render: impl FnOnce(String) -> HttpResponse,
) -> HttpResponse {
    let csrf = state.cookies.csrf_token(req);
    let mut response = render(csrf.token);
    if let Some(cookie) = csrf.cookie {
        let _ = response.add_cookie(&cookie);
    }
    response
}

/// `GET /approvals[?page=N]`: what the signed-in user may decide (maybe nothing),
/// oldest first, a page at a time.
pub async fn inbox(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let (desk, cookie, now) = (
        state.desk.clone(),
        cookies::session(&req),
        state.clock.now(),
    );
    let query = Params::parse(req.query_string().as_bytes()).unwrap_or_default();
    let page: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p <= 10_000)
        .unwrap_or(0);
    match super::blocking(move || desk.inbox(cookie.as_ref(), now, page)).await {
        Ok((username, views, more)) => {
            let items = views
                .into_iter()
                .map(|v| InboxItem {
                    requester: if v.requester_name.is_empty() {
                        v.requester_username.clone()
                    } else {
                        v.requester_name.clone()
                    },
                    client: v.client_name.clone(),
                    scopes: v
                        .scopes
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                    time_left: pages::time_left(v.expires_at, now),
                    id: v.id.into_string(),
                })
                .collect();
            let page_link = |n: usize| format!("/approvals?page={n}");
            pages::render(
                StatusCode::OK,
                &InboxPage {
                    username,
                    items,
                    newer: (page > 0).then(|| page_link(page - 1)),
                    older: more.then(|| page_link(page + 1)),
                },
            )
        }
        Err(error) => refused(error, &req, None),
    }
}

/// Runs a desk call for approval `id` with the browser's session, on the blocking pool.
async fn desk_call<T: Send + 'static>(
    state: &AppState,
    req: &HttpRequest,
    id: &str,
    call: impl FnOnce(&Desk, &str, Option<&SessionToken>, i64) -> Result<T, DeskError> + Send + 'static,
) -> Result<T, DeskError> {
    let (desk, cookie, now, id) = (
        state.desk.clone(),
        cookies::session(req),
        state.clock.now(),
        id.to_owned(),
    );
    super::blocking(move || call(&desk, &id, cookie.as_ref(), now)).await
}

/// Maps a desk call's outcome: `done` on success, the refusal page otherwise.
fn outcome<T>(
    result: Result<T, DeskError>,
    req: &HttpRequest,
    id: &str,
    done: impl FnOnce(T) -> HttpResponse,
) -> HttpResponse {
    match result {
        Ok(value) => done(value),
        Err(error) => refused(error, req, Some(id)),
    }
}

/// `GET /approvals/{id}`: the review page (the requester is sent to the waiting page).
pub async fn review(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let now = state.clock.now();
    let result = desk_call(&state, &req, &id, |desk, id, cookie, now| {
        desk.view(id, cookie, now)
    })
    .await;
    outcome(result, &req, &id, |view| {
        // A backchannel request has no waiting page: its client is told (CIBA).
        if view.viewer_is_requester && !view.backchannel {
            return super::see_other(&format!("/approvals/{id}/waiting"));
        }
        with_csrf(&state, &req, |csrf_token| {
            pages::render(StatusCode::OK, &review_page(view, csrf_token, now))
        })
    })
}

fn review_page(view: ApprovalView, csrf_token: String, now: i64) -> ReviewPage {
    let actions = view.detail_lines();
    ReviewPage {
        actions,
        details_intact: view.details_intact,
        binding_message: view.binding_message.clone(),
        backchannel: view.backchannel,
        csrf_token,
        state: view.state.as_str().into(),
        requester: if view.requester_name.is_empty() {
            view.requester_username.clone()
        } else {
            format!("{} ({})", view.requester_name, view.requester_username)
        },
        requester_email: view.requester_email,
        client_name: view.client_name,
        required: view.required,
        created_at: pages::time(view.created_at),
        time_left: pages::time_left(view.expires_at, now),
        access_until: view.access_until.map(pages::time),
        ip: view.ip.unwrap_or_else(|| "unknown address".into()),
        user_agent: view.user_agent.unwrap_or_else(|| "unknown browser".into()),
        justification: view.justification,
        scopes: view
            .scopes
            .into_iter()
            .map(|s| ReviewScope {
                name: s.name,
                description: s.description,
                sensitive: s.sensitive,
            })
            .collect(),
        votes: view
            .votes
            .into_iter()
            .map(|v| ReviewVote {
                approver: v.approver,
                decision: v.decision.to_string(),
                comment: v.comment,
                at: pages::time(v.at),
            })
            .collect(),
        cannot_decide: view.cannot_decide,
        factor: (view.approver_factor != ApproverFactor::None)
            .then(|| view.approver_factor.describe().to_owned()),
        asks_code: matches!(
            view.approver_factor,
            ApproverFactor::Totp | ApproverFactor::Any
        ),
        asks_passkey: matches!(
            view.approver_factor,
            ApproverFactor::Passkey | ApproverFactor::Any
        ),
        can_revoke: view.can_revoke,
        id: view.id.into_string(),
    }
}

/// Reads a form whose CSRF token is valid; else the page that says what is wrong.
pub(super) fn checked_form(
    state: &AppState,
    req: &HttpRequest,
    body: &[u8],
) -> Result<Params, Box<HttpResponse>> {
    let form = super::read_form(body).map_err(|bad| Box::new(bad.page()))?;
    if state.cookies.csrf_valid(req, form.get("csrf_token")) {
        Ok(form)
    } else {
        Err(Box::new(super::csrf_failed()))
    }
}

/// `POST /approvals/{id}`: `decision=approve|deny`, `comment`, `csrf_token`.
pub async fn decide(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let form = match checked_form(&state, &req, &body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let decision = match form.get("decision").and_then(Decision::parse) {
        Some(decision) => decision,
        None => {
            return pages::error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Choose approve or deny",
                "The form did not say how you decide.",
                None,
            )
        }
    };
    let comment = form.get("comment").map(str::to_owned);
    let presented = match form.get("code").map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => Presented::Code(code.to_owned()),
        None => Presented::Nothing,
    };
    let result = desk_call(&state, &req, &id, move |desk, id, cookie, now| {
        let vote = Vote {
            decision,
            comment: comment.as_deref(),
            presented: &presented,
        };
        desk.decide(id, cookie, vote, now)
    });
    outcome(result.await, &req, &id, |_| {
        super::see_other(&format!("/approvals/{id}"))
    })
}

/// A CSRF-checked POST that moves approval `id`, then returns to `then` (a path under
/// `/approvals/{id}`).
async fn move_approval(
    state: &AppState,
    req: &HttpRequest,
    id: &str,
    body: &[u8],
    action: fn(&Desk, &str, Option<&SessionToken>, i64) -> Result<ApprovalRow, DeskError>,
    then: &str,
) -> HttpResponse {
    if let Err(refused) = checked_form(state, req, body) {
        return *refused;
    }
    let result = desk_call(state, req, id, action).await;
    outcome(result, req, id, |_| {
        super::see_other(&format!("/approvals/{id}{then}"))
    })
}

/// `POST /approvals/{id}/revoke`.
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    move_approval(&state, &req, &id, &body, Desk::revoke, "").await
}

/// `POST /approvals/{id}/cancel` (the requester).
pub async fn cancel(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    move_approval(&state, &req, &id, &body, Desk::cancel, "/waiting").await
}

/// `GET /approvals/{id}/waiting`: the requester's page; once decided, it continues.
pub async fn waiting(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let now = state.clock.now();
    let result = desk_call(&state, &req, &id, |desk, id, cookie, now| {
        desk.requester_view(id, cookie, now)
    });
    outcome(result.await, &req, &id, |view| {
        if view.state.is_decided() {
            return super::see_other(&view.continue_url);
        }
        with_csrf(&state, &req, |csrf_token| {
            let page = WaitingPage {
                csrf_token,
                client_name: view.client_name,
                scopes: view
                    .scopes
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                required: view.required,
                decided: view.state.is_decided(),
                state: view.state.as_str().into(),
                time_left: pages::time_left(view.expires_at, now),
                expires_at_unix: view.expires_at,
                now_unix: now,
                continue_url: view.continue_url,
                id: view.id.into_string(),
            };
            pages::render(StatusCode::OK, &page)
        })
    })
}

/// `GET /approvals/{id}/status`: `{"state", "expires_at", "continue_url"?}` for the
/// requester; 404 for everyone else.
pub async fn status(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let (desk, cookie, now) = (
        state.desk.clone(),
        cookies::session(&req),
        state.clock.now(),
    );
    let id = id.into_inner();
    match super::blocking(move || desk.status(&id, cookie.as_ref(), now)).await {
        Ok(status) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(status.body),
        Err(error) => status_refused(error, &req),
    }
}

/// What `/status` (and its event stream) answers a caller it refuses: sign in first,
/// a server error, or 404 JSON for anyone but the requester.
pub(super) fn status_refused(error: DeskError, req: &HttpRequest) -> HttpResponse {
    match error {
        DeskError::Approval(ApprovalError::Store(error)) => super::server_error_page(&error),
        // Like every /approvals… route (DESIGN.md §8); the poll then simply retries.
        DeskError::SignIn => refused(DeskError::SignIn, req, None),
        _ => HttpResponse::NotFound()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({"error": "not_found"})),
    }
}
