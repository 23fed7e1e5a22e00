//! The client-authenticated JSON endpoints: `POST /token` (RFC 6749 §3.2),
//! `POST /introspect` (RFC 7662), `POST /revoke` (RFC 7009), `POST /bc-authorize`
//! (CIBA Core §7). Errors are RFC 6749 §5.2
//! JSON with `Cache-Control: no-store`; `invalid_client` is a 401 with a Basic
//! challenge when the client tried the Authorization header.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::AppState;
use crate::oidc::client_requests::TokenError;
use crate::oidc::error::{ErrorCode, OAuthError};
use crate::oidc::Provider;

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
        ErrorCode::InvalidClient if error.challenge => StatusCode::UNAUTHORIZED,
        code => super::server_fault_status(code).unwrap_or(StatusCode::BAD_REQUEST),
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

/// The largest form body accepted: far above any legitimate token request.
const MAX_BODY: usize = 64 * 1024;

/// Reads the body; one that is too large is an RFC 6749 §5.2 JSON error like every
/// other malformed body (actix's own extractor would answer 413 in plain text).
async fn read_body(mut payload: web::Payload, challenge: bool) -> Result<web::Bytes, HttpResponse> {
    use futures_util::StreamExt;
    let refuse = |description: &'static str| {
        token_error(&TokenError {
            error: OAuthError::invalid_request(description),
            challenge,
        })
    };
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| refuse("the request body could not be read"))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(refuse("the request body is too large"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A client-authenticated form request as the domain takes it.
struct ClientRequest {
    authorization: Option<String>,
    form: bool,
    body: web::Bytes,
    now: i64,
}

/// Where a client call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runs {
    /// A short read-only call: inline when the store allows it (store/inline.rs).
    InlineIfIdle,
    /// Writes, or long work (JSON Schemas): on the blocking pool.
    Blocking,
}

/// Runs `call` (inline when it only reads and the store allows it, else on the
/// blocking pool) and maps its error to RFC 6749 §5.2 JSON.
async fn client_call<T: Send + 'static>(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    runs: Runs,
    call: impl Fn(&Provider, &ClientRequest) -> Result<T, TokenError> + Send + 'static,
) -> Result<T, HttpResponse> {
    let body = read_body(payload, req.headers().contains_key(header::AUTHORIZATION)).await?;
    let request = ClientRequest {
        authorization: authorization(req),
        form: super::is_form(req),
        body,
        now: state.clock.now(),
    };
    let used_auth_header = request.authorization.is_some();
    let provider = state.provider.clone();
    let run = move || call(&provider, &request);
    let answer = match runs {
        Runs::InlineIfIdle => super::inline_or_blocking(&state.provider.store, run).await,
        Runs::Blocking => web::block(run).await,
    };
    match answer {
        Ok(result) => result.map_err(|error| token_error(&error)),
        Err(_) => Err(token_error(&TokenError {
            error: OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "the server is overloaded; retry later",
            ),
            challenge: used_auth_header,
        })),
    }
}

/// `POST /token`.
#[tracing::instrument(skip_all)]
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let answer = client_call(&state, &req, body, Runs::Blocking, |p, r| {
        p.token(r.authorization.as_deref(), r.form, &r.body, r.now)
    });
    match answer.await {
        Ok(tokens) => json_no_store(StatusCode::OK, &tokens),
        Err(response) => response,
    }
}

/// `POST /bc-authorize` (CIBA Core §7): the acknowledgement, or a §13 error as
/// RFC 6749 §5.2 JSON.
#[tracing::instrument(skip_all)]
pub async fn backchannel_authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let info = super::authorize::client_info(&state, &req);
    let checked = client_call(&state, &req, body, Runs::Blocking, move |p, r| {
        p.prepare_backchannel(r.authorization.as_deref(), r.form, &r.body, r.now)
    });
    let mut prepared = match checked.await {
        Ok(prepared) => prepared,
        Err(response) => return response,
    };
    // The decision hooks are asked here, between the two transactions.
    let calls = std::mem::take(&mut prepared.hook_calls);
    let now = state.clock.now();
    let verdicts = state.hooks.consult(calls, now).await;
    let provider = state.provider.clone();
    let committed =
        web::block(move || provider.commit_backchannel(prepared, verdicts, &info, now)).await;
    match committed {
        Ok(Ok(acknowledgement)) => json_no_store(StatusCode::OK, &acknowledgement),
        Ok(Err(error)) => token_error(&error),
        Err(_) => token_error(&TokenError {
            error: OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "the server is overloaded; retry later",
            ),
            challenge: false,
        }),
    }
}

/// `POST /introspect`.
#[tracing::instrument(skip_all)]
pub async fn introspect(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let answer = client_call(&state, &req, body, Runs::InlineIfIdle, |p, r| {
        p.introspect(r.authorization.as_deref(), r.form, &r.body, r.now)
    });
    match answer.await {
        Ok(answer) => json_no_store(StatusCode::OK, &answer),
        Err(response) => response,
    }
}

/// `POST /revoke`.
#[tracing::instrument(skip_all)]
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let answer = client_call(&state, &req, body, Runs::Blocking, |p, r| {
        p.revoke(r.authorization.as_deref(), r.form, &r.body, r.now)
    });
    match answer.await {
        Ok(()) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(response) => response,
    }
}
