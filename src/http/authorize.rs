//! `GET|POST /authorize`, `GET /authorize/continue`, `GET|POST /consent`
//! (RFC 6749 §4.1, OIDC Core §3.1.2). Handlers extract, make one domain call, and map
//! the outcome: a page, a 303, or the client's response.

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::cookies;
use super::pages::{self, ConsentPage, FormPostPage, ScopeItem};
use super::AppState;
use crate::oidc::authorize::{
    AuthResponse, AuthorizeError, ClientInfo, ConsentDecision, ConsentPrompt, Outcome, ResponseMode,
};
use crate::oidc::params::Params;

/// `GET /authorize`.
#[tracing::instrument(skip_all)]
pub async fn get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let raw = req.query_string().as_bytes().to_vec();
    start(state, req, raw).await
}

/// `POST /authorize` (form-encoded body, OIDC Core §3.1.2.1).
#[tracing::instrument(skip_all)]
pub async fn post(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if !super::is_form(&req) {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "The authorization request must be form-encoded.",
            Some("invalid_request"),
        );
    }
    start(state, req, body.to_vec()).await
}

async fn start(state: web::Data<AppState>, req: HttpRequest, raw: Vec<u8>) -> HttpResponse {
    let (provider, cookie, now) = (
        state.provider.clone(),
        cookies::session(&req),
        state.clock.now(),
    );
    let info = client_info(&state, &req);
    let outcome =
        super::blocking(move || provider.authorize(&raw, cookie.as_ref(), &info, now)).await;
    respond(&state, &req, outcome)
}

/// `GET /authorize/continue?request=…`: back from the login page.
pub async fn resume(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(request_id) = request_param(&req) else {
        return missing_request();
    };
    let (provider, cookie, now) = (
        state.provider.clone(),
        cookies::session(&req),
        state.clock.now(),
    );
    let info = client_info(&state, &req);
    let outcome =
        super::blocking(move || provider.resume(&request_id, cookie.as_ref(), &info, now)).await;
    respond(&state, &req, outcome)
}

/// `GET /consent?request=…`: shows the consent page (reloadable).
pub async fn consent_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    resume(state, req).await
}

/// `POST /consent`: `request`, `decision=allow|deny`, `csrf_token`.
pub async fn consent_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let form = match super::read_form(&body) {
        Ok(form) => form,
        Err(bad) => return bad.page(),
    };
    if !state.cookies.csrf_valid(&req, form.get("csrf_token")) {
        return super::csrf_failed();
    }
    let decision = match form.get("decision") {
        Some("allow") => ConsentDecision::Allow {
            justification: form.get("justification").map(str::to_owned),
        },
        Some("deny") => ConsentDecision::Deny,
        _ => {
            return pages::error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Choose allow or deny",
                "The form did not say whether you allow the request.",
                None,
            )
        }
    };
    let Some(request_id) = form.get("request").map(str::to_owned) else {
        return missing_request();
    };
    let (provider, cookie, now) = (
        state.provider.clone(),
        cookies::session(&req),
        state.clock.now(),
    );
    let info = client_info(&state, &req);
    // Decision hooks are asked outside any transaction, before the allow is recorded.
    let verdicts = match &decision {
        ConsentDecision::Deny => Vec::new(),
        ConsentDecision::Allow { .. } => {
            let (asking, id, token) = (provider.clone(), request_id.clone(), cookie.clone());
            let calls = web::block(move || asking.consent_hook_calls(&id, token.as_ref(), now))
                .await
                .unwrap_or_default();
            state.hooks.consult(calls, now).await
        }
    };
    let outcome = super::blocking(move || {
        provider.decide_consent(
            &request_id,
            cookie.as_ref(),
            (decision, verdicts),
            &info,
            now,
        )
    })
    .await;
    respond(&state, &req, outcome)
}

/// The browser's address and user agent, recorded with an approval.
pub fn client_info(state: &AppState, req: &HttpRequest) -> ClientInfo {
    ClientInfo {
        ip: Some(state.cookies.client_ip(req)),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(300).collect()),
    }
}

fn request_param(req: &HttpRequest) -> Option<String> {
    Params::parse(req.query_string().as_bytes())
        .ok()?
        .get("request")
        .map(str::to_owned)
}

fn missing_request() -> HttpResponse {
    pages::error_page(
        StatusCode::BAD_REQUEST,
        "Invalid request",
        "The link does not name an authorization request.",
        Some("invalid_request"),
    )
}

/// Maps an authorization outcome to HTTP.
fn respond(
    state: &AppState,
    req: &HttpRequest,
    outcome: Result<Outcome, AuthorizeError>,
) -> HttpResponse {
    match outcome {
        Ok(Outcome::Login { request_id, .. }) => {
            super::see_other(&format!("/login?request={request_id}"))
        }
        Ok(Outcome::Consent(prompt))
            if req.path() == "/consent" && matches!(*req.method(), Method::GET | Method::HEAD) =>
        {
            consent(state, req, prompt)
        }
        Ok(Outcome::Consent(prompt)) => {
            super::see_other(&format!("/consent?request={}", prompt.request_id))
        }
        Ok(Outcome::AwaitingApproval { approval_id }) => {
            super::see_other(&format!("/approvals/{approval_id}/waiting"))
        }
        Ok(Outcome::Respond(response)) => to_client(response),
        Err(AuthorizeError::Render(error)) => {
            let status = super::server_fault_status(error.code).unwrap_or(StatusCode::BAD_REQUEST);
            pages::error_page(
                status,
                "This sign-in request cannot be processed",
                &error.description,
                Some(error.code.as_str()),
            )
        }
        Err(AuthorizeError::Redirect(target, error)) => to_client(AuthResponse::to_target(
            target.redirect_uri,
            target.response_mode,
            target.state,
            &error,
            &state.provider.issuer,
        )),
    }
}

fn consent(state: &AppState, req: &HttpRequest, prompt: ConsentPrompt) -> HttpResponse {
    let csrf = state.cookies.csrf_token(req);
    let page = ConsentPage {
        csrf_token: csrf.token,
        request: prompt.request_id.into_string(),
        client_name: prompt.client_name,
        username: prompt.username,
        scopes: prompt
            .scopes
            .into_iter()
            .map(|s| ScopeItem {
                name: s.name,
                description: s.description,
                countersigned_by: s.countersigned_by,
            })
            .collect(),
        justification_required: prompt.justification_required,
        actions: prompt.actions,
    };
    let mut response = pages::render(StatusCode::OK, &page);
    if let Some(cookie) = csrf.cookie {
        let _ = response.add_cookie(&cookie);
    }
    response
}

/// Delivers an authorization response: a 303 with the query, or a form post page.
fn to_client(response: AuthResponse) -> HttpResponse {
    match response.mode {
        ResponseMode::Query => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, response.location()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        ResponseMode::FormPost => {
            let fields = response
                .params
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            let mut page = pages::render(
                StatusCode::OK,
                &FormPostPage {
                    action: response.redirect_uri,
                    fields,
                },
            );
            // The form posts to the client's origin, which `default-src 'self'` alone would not allow.
            page.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                header::HeaderValue::from_static(
                    "default-src 'self'; form-action *; frame-ancestors 'none'",
                ),
            );
            page
        }
    }
}
