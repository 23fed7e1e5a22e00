//! The client-authenticated JSON endpoints: `POST /token` (RFC 6749 §3.2),
//! `POST /introspect` (RFC 7662), `POST /revoke` (RFC 7009). Errors are RFC 6749 §5.2
//! JSON with `Cache-Control: no-store`; `invalid_client` is a 401 with a Basic
//! challenge when the client tried the Authorization header.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::oidc::error::{ErrorCode, OAuthError};
use crate::oidc::token::TokenError;
use crate::startup::AppState;

fn authorization(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("").to_owned())
}

/// JSON with `no-store` (RFC 6749 §5.1).
pub fn json_no_store(status: StatusCode, body: &impl serde::Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}

/// An RFC 6749 §5.2 error response.
pub fn token_error(error: &TokenError) -> HttpResponse {
    let status = match error.error.code {
        ErrorCode::InvalidClient if error.used_auth_header => StatusCode::UNAUTHORIZED,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let body =
        json!({"error": error.error.code.as_str(), "error_description": error.error.description});
    let mut response = json_no_store(status, &body);
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static(r#"Basic realm="countersign""#),
        );
    }
    response
}

fn blocked(used_auth_header: bool) -> TokenError {
    TokenError {
        error: OAuthError::server_error(&"the server is overloaded"),
        used_auth_header,
    }
}

/// `POST /token`.
#[tracing::instrument(skip_all)]
pub async fn token(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let (provider, auth, form, now) = (
        state.provider.clone(),
        authorization(&req),
        super::is_form(&req),
        state.clock.now(),
    );
    let used = auth.is_some();
    match web::block(move || provider.token(auth.as_deref(), form, &body, now))
        .await
        .unwrap_or_else(|_| Err(blocked(used)))
    {
        Ok(tokens) => json_no_store(StatusCode::OK, &tokens),
        Err(error) => token_error(&error),
    }
}

/// `POST /introspect`.
#[tracing::instrument(skip_all)]
pub async fn introspect(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let (provider, auth, form, now) = (
        state.provider.clone(),
        authorization(&req),
        super::is_form(&req),
        state.clock.now(),
    );
    let used = auth.is_some();
    match web::block(move || provider.introspect(auth.as_deref(), form, &body, now))
        .await
        .unwrap_or_else(|_| Err(blocked(used)))
    {
        Ok(answer) => json_no_store(StatusCode::OK, &answer),
        Err(error) => token_error(&error),
    }
}

/// `POST /revoke`.
#[tracing::instrument(skip_all)]
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let (provider, auth, form, now) = (
        state.provider.clone(),
        authorization(&req),
        super::is_form(&req),
        state.clock.now(),
    );
    let used = auth.is_some();
    match web::block(move || provider.revoke(auth.as_deref(), form, &body, now))
        .await
        .unwrap_or_else(|_| Err(blocked(used)))
    {
        Ok(()) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(error) => token_error(&error),
    }
}
