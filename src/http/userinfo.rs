//! `GET|POST /userinfo` (OIDC Core §5.3): Bearer token in the header or the form body
//! (RFC 6750 §2.1-2.2); failures carry a `WWW-Authenticate: Bearer` challenge (§3).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::AppState;
use crate::oidc::error::ErrorCode;
use crate::oidc::params::Params;
use crate::oidc::userinfo::{bearer_token, UserinfoError};

/// `GET /userinfo`.
pub async fn get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    answer(state, &req, None).await
}

/// `POST /userinfo`.
pub async fn post(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = if super::is_form(&req) {
        Params::parse(&body).ok()
    } else {
        None
    };
    answer(state, &req, form).await
}

async fn answer(
    state: web::Data<AppState>,
    req: &HttpRequest,
    form: Option<Params>,
) -> HttpResponse {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or(""));
    let token = bearer_token(authorization, form.as_ref());
    let (provider, now) = (state.provider.clone(), state.clock.now());
    // It only reads: inline when the store allows it.
    let store = &state.provider.store;
    let result =
        super::inline_or_blocking(store, move || provider.userinfo(token.clone(), now)).await;
    match result {
        Ok(Ok(claims)) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(claims),
        Ok(Err(UserinfoError::NoToken)) => challenge(
            StatusCode::UNAUTHORIZED,
            r#"Bearer realm="countersign""#.into(),
            None,
        ),
        Ok(Err(UserinfoError::Refused(error))) => {
            if let Some(status) = super::server_fault_status(error.code) {
                // Our fault, not the token's: no Bearer challenge (RFC 6750 §3's codes
                // are about the request), a JSON error the RP can log.
                let body =
                    json!({"error": error.code.as_str(), "error_description": error.description});
                return super::client_endpoints::json_no_store(status, &body);
            }
            let status = match error.code {
                ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
                ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
                _ => StatusCode::UNAUTHORIZED,
            };
            let value = format!(
                r#"Bearer realm="countersign", error="{}", error_description="{}""#,
                error.code.as_str(),
                error.description
            );
            challenge(
                status,
                value,
                Some(json!({"error": error.code.as_str(), "error_description": error.description})),
            )
        }
        Err(error) => {
            tracing::error!(%error, "userinfo: the blocking pool refused the call");
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}

fn challenge(status: StatusCode, value: String, body: Option<serde_json::Value>) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    if let Ok(value) = header::HeaderValue::from_str(&value) {
        response.insert_header((header::WWW_AUTHENTICATE, value));
    }
    match body {
        Some(body) => response.json(body),
        None => response.finish(),
    }
}
