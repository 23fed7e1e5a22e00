//! `POST /integrations/teams/messages`: the Teams bot's messaging endpoint (Bot
//! Framework "Authenticate requests from the Bot Connector service"; Universal Actions
//! for Adaptive Cards). An approver's Approve or Deny click arrives as an
//! `adaptiveCard/action` invoke; the answer is HTTP 200 with the invoke response (the
//! updated card, or an error Teams shows the clicker) in the body.
//!
//! | case | answer |
//! |---|---|
//! | `notify.teams_app_id` unset (bot off) | 404 |
//! | no `Authorization: Bearer` token, or a token refused | 401 + `WWW-Authenticate` |
//! | not a Bot Framework activity | 400 |
//! | the Bot Framework's keys cannot be fetched | 503 |
//! | another activity (a message, an install) | 200, empty |
//! | a click, voted or refused | 200, invoke response |

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{blocking, AppState};
use crate::chat::teams::{self, BotCallError, Click};

/// `POST /integrations/teams/messages`.
#[tracing::instrument(skip_all)]
pub async fn post(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let now = state.clock.now();
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or(""));
    let click = match state.chat.teams_click(authorization, &body, now).await {
        Ok(Click::Action(click)) => click,
        Ok(Click::Ignored) => return HttpResponse::Ok().finish(),
        Ok(Click::Invalid(answer)) => return invoke(answer),
        Err(error) => return refused(&error),
    };
    let (desk, issuer) = (state.desk.clone(), state.chat.issuer.clone());
    match blocking(move || teams::decide(&desk, &issuer, &click, now)).await {
        Ok(answer) => invoke(answer),
        Err(error @ crate::store::StoreError::Pool(_)) => {
            tracing::warn!(%error, "Teams decision failed: database unavailable");
            error_json(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
        }
        Err(error) => {
            tracing::error!(%error, "Teams decision failed");
            error_json(StatusCode::INTERNAL_SERVER_ERROR, "server_error")
        }
    }
}

fn invoke(answer: Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(answer)
}

fn refused(error: &BotCallError) -> HttpResponse {
    match error {
        BotCallError::Off => error_json(StatusCode::NOT_FOUND, "not_found"),
        BotCallError::BadActivity => error_json(StatusCode::BAD_REQUEST, "bad_request"),
        BotCallError::NoToken | BotCallError::Token(_) => {
            tracing::warn!(%error, "Teams bot call refused");
            let mut response = error_json(StatusCode::UNAUTHORIZED, "unauthorized");
            // RFC 9110 §15.5.2: every 401 carries a challenge.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static(r#"Bearer realm="countersign""#),
            );
            response
        }
        BotCallError::Keys(_) => {
            tracing::error!(%error, "Teams bot call not checked");
            error_json(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
        }
    }
}

fn error_json(status: StatusCode, error: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "error": error }))
}
