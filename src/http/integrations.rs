//! `POST /integrations/slack/interactions` (Slack's interactivity requests: Approve and
//! Deny clicks, the deny-reason modal) and `GET|POST /integrations/slack/link` (an
//! approver confirming, while signed in, that a Slack account is theirs). The checks
//! and the decisions are [`crate::chat`]'s; this file maps them to HTTP.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::pages::{self, SlackLinkPage};
use super::AppState;
use crate::chat::slack::{SlackRefused, SlackReply};
use crate::oidc::params::Params;
use crate::store::StoreError;

fn header<'a>(req: &'a HttpRequest, name: &str) -> &'a str {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// `POST /integrations/slack/interactions`.
pub async fn slack_interactions(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let (chat, desk, now) = (state.chat.clone(), state.desk.clone(), state.clock.now());
    let timestamp = header(&req, "x-slack-request-timestamp").to_owned();
    let signature = header(&req, "x-slack-signature").to_owned();
    let answered = super::blocking(move || {
        let interaction = chat.slack_interaction(&timestamp, &signature, &body, now)?;
        Ok::<_, SlackRefused>(chat.slack_act(&desk, interaction, now))
    })
    .await;
    let reply = match answered {
        Ok(reply) => reply,
        Err(refused) => {
            let status = match &refused {
                SlackRefused::Off => StatusCode::NOT_FOUND,
                SlackRefused::Unauthorized(_) => StatusCode::UNAUTHORIZED,
                SlackRefused::BadRequest(_) => StatusCode::BAD_REQUEST,
                SlackRefused::Store(error) => {
                    tracing::error!(%error, "Slack interaction failed");
                    StatusCode::SERVICE_UNAVAILABLE
                }
            };
            if status != StatusCode::SERVICE_UNAVAILABLE {
                tracing::warn!(reason = %refused, "Slack interaction refused");
            }
            return HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body(format!("{refused}\n"));
        }
    };
    let response = match &reply {
        SlackReply::Json(body) => HttpResponse::Ok().json(body),
        _ => HttpResponse::Ok().finish(),
    };
    // Slack wants its answer within 3 s; the modal and the private message follow it.
    let chat = state.chat.clone();
    actix_web::rt::spawn(async move { chat.slack_follow_up(&reply).await });
    response
}

fn link_refused() -> HttpResponse {
    pages::error_page(
        StatusCode::BAD_REQUEST,
        "This link does not work",
        "The link is invalid, expired or already used. Click a countersign button in Slack again to get a new one.",
        None,
    )
}

/// `GET /integrations/slack/link?token=…`: asks the signed-in user to confirm.
pub async fn slack_link_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let query = Params::parse(req.query_string().as_bytes()).unwrap_or_default();
    let token = query.get("token").unwrap_or_default().to_owned();
    let Some(cookie) = super::cookies::session(&req) else {
        return sign_in_first(&req);
    };
    let (provider, chat, now) = (
        state.provider.clone(),
        state.chat.clone(),
        state.clock.now(),
    );
    let checked = super::blocking(move || {
        let session = provider.session_of(&cookie, now)?;
        Ok::<_, StoreError>(session.map(|s| (s, chat.read_link_token(&token, now), token)))
    })
    .await;
    match checked {
        Ok(None) => sign_in_first(&req),
        Ok(Some((_, None, _))) => link_refused(),
        Ok(Some((session, Some(slack_user_id), token))) => {
            let csrf = state.cookies.csrf_token(&req);
            let mut response = pages::render(
                StatusCode::OK,
                &SlackLinkPage {
                    csrf_token: csrf.token,
                    token,
                    slack_user_id,
                    username: session.user.username,
                },
            );
            if let Some(cookie) = csrf.cookie {
                let _ = response.add_cookie(&cookie);
            }
            response
        }
        Err(error) => super::server_error_page(&error),
    }
}

/// `POST /integrations/slack/link`: links the Slack account (CSRF-checked, single use).
pub async fn slack_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let Ok(form) = Params::parse(&body) else {
        return link_refused();
    };
    if !state.cookies.csrf_valid(&req, form.get("csrf_token")) {
        return super::csrf_failed();
    }
    let Some(cookie) = super::cookies::session(&req) else {
        return sign_in_first(&req);
    };
    let token = form.get("token").unwrap_or_default().to_owned();
    let (provider, chat, now) = (
        state.provider.clone(),
        state.chat.clone(),
        state.clock.now(),
    );
    let linked = super::blocking(move || {
        let Some(session) = provider.session_of(&cookie, now)? else {
            return Ok(None);
        };
        let linked = chat.link_slack(&session.user, &token, now);
        Ok::<_, StoreError>(Some(linked))
    })
    .await;
    match linked {
        Ok(None) => sign_in_first(&req),
        Ok(Some(Ok(Some(slack_user_id)))) => pages::message(
            StatusCode::OK,
            "Slack account linked",
            &format!("Slack user {slack_user_id} now acts as you in countersign."),
            Some(("/approvals", "Open your approval inbox")),
        ),
        Ok(Some(Ok(None))) => link_refused(),
        Ok(Some(Err(crate::manage::ManageError::Conflict(message)))) => {
            pages::error_page(StatusCode::CONFLICT, "Not linked", &message, None)
        }
        Ok(Some(Err(error))) => super::server_error_page(&error),
        Err(error) => super::server_error_page(&error),
    }
}

fn sign_in_first(req: &HttpRequest) -> HttpResponse {
    let here = format!("{}?{}", req.path(), req.query_string());
    let encoded: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
    super::see_other(&format!("/login?return_to={encoded}"))
}
