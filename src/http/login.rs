//! `GET|POST /login`: the username and password form (CSRF-protected), throttled per
//! account and per client IP (429 + Retry-After), session id rotated at login; the
//! "Sign in with a passkey" button (`passkey_login.rs`, when the browser has
//! WebAuthn); and the "Sign in with NAME" links of the upstream providers
//! (`local_passwords = false` leaves only those).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;

use super::cookies;
use super::pages::{self, LoginPage};
use super::AppState;
use crate::accounts::login::{Attempt, LoginOutcome};
use crate::ids::RequestId;
use crate::oidc::params::Params;

/// Where to go after signing in.
#[derive(Debug, Clone, Default)]
pub(super) struct Next {
    pub(super) request: Option<String>,
    pub(super) return_to: Option<String>,
}

impl Next {
    pub(super) fn from(params: &Params) -> Self {
        Next {
            // Parsed at the edge: only a well-formed request id ever reaches `Location`.
            request: params
                .get("request")
                .and_then(|id| RequestId::parse(id).ok())
                .map(RequestId::into_string),
            return_to: params
                .get("return_to")
                .filter(|p| is_local_path(p))
                .map(str::to_owned),
        }
    }

    pub(super) fn location(&self) -> String {
        match (&self.request, &self.return_to) {
            (Some(request), _) => format!("/authorize/continue?request={request}"),
            (None, Some(path)) => path.clone(),
            (None, None) => "/approvals".into(),
        }
    }
}

/// Only same-origin paths: `/x`, never `//host` or `/\host`.
fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
}

/// `GET /login`.
pub async fn get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let query = Params::parse(req.query_string().as_bytes()).unwrap_or_default();
    let next = Next::from(&query);
    let (client_name, hint) = match next.request.clone() {
        Some(id) => {
            let (provider, now) = (state.provider.clone(), state.clock.now());
            match super::blocking(move || provider.login_context(&id, now)).await {
                Ok(Some((name, hint))) => (Some(name), hint),
                _ => (None, None),
            }
        }
        None => (None, None),
    };
    let notice = query
        .has("fresh")
        .then(|| "Sign in again: deciding on approvals needs a recent sign-in.".to_owned());
    form(
        &state,
        &req,
        next,
        hint.unwrap_or_default(),
        client_name,
        notice,
        StatusCode::OK,
    )
    .await
}

/// Each upstream's "Sign in with NAME" link, keeping where to go afterwards.
async fn upstream_links(state: &AppState, next: &Next) -> Vec<(String, String)> {
    let broker = state.upstreams.clone();
    let names = super::blocking(move || broker.names())
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(%error, "cannot list the upstream providers");
            Vec::new()
        });
    let query = match (&next.request, &next.return_to) {
        (Some(request), _) => format!("?request={request}"),
        (None, Some(path)) => format!("?return_to={}", super::upstream::encode(path)),
        (None, None) => String::new(),
    };
    names
        .into_iter()
        .map(|name| {
            let href = format!("/login/upstream/{name}{query}");
            (name, href)
        })
        .collect()
}

async fn form(
    state: &AppState,
    req: &HttpRequest,
    next: Next,
    username: String,
    client_name: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let csrf = state.cookies.csrf_token(req);
    let upstreams = upstream_links(state, &next).await;
    let page = LoginPage {
        csrf_token: csrf.token,
        request: next.request,
        return_to: next.return_to,
        username,
        client_name,
        error,
        upstreams,
        passwords: state.upstreams.local_passwords,
        passkeys: state.upstreams.local_passwords && state.account.passkeys.available(),
    };
    let mut response = pages::render(status, &page);
    if let Some(cookie) = csrf.cookie {
        let _ = response.add_cookie(&cookie);
    }
    response
}

/// `POST /login`: `username`, `password`, `csrf_token`, and `request` or `return_to`.
#[tracing::instrument(skip_all)]
pub async fn post(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if !state.upstreams.local_passwords {
        return pages::error_page(
            StatusCode::FORBIDDEN,
            "Passwords are turned off",
            "This server signs people in only through their identity provider. Go back and choose it.",
            None,
        );
    }
    let params = match super::read_form(&body) {
        Ok(params) => params,
        Err(bad) => return bad.page(),
    };
    if !state.cookies.csrf_valid(&req, params.get("csrf_token")) {
        return super::csrf_failed();
    }
    let next = Next::from(&params);
    let username = params.get("username").unwrap_or_default().to_owned();
    let password = SecretString::from(params.get("password").unwrap_or_default().to_owned());
    let ip = state.cookies.client_ip(&req);
    let previous = cookies::session(&req);
    let (provider, now) = (state.provider.clone(), state.clock.now());
    let (name, pw, request) = (username.clone(), password, next.request.clone());
    let outcome = super::blocking(move || {
        let attempt = Attempt {
            username: &name,
            password: &pw,
            ip: &ip,
            previous_session: previous.as_ref(),
        };
        provider.sign_in(&attempt, request.as_deref(), now)
    })
    .await;
    match outcome {
        Ok(LoginOutcome::Success { cookie, .. }) => {
            let mut response = super::see_other(&next.location());
            let _ = response.add_cookie(
                &state
                    .cookies
                    .build(cookies::SESSION, cookie.expose().to_owned()),
            );
            response
        }
        Ok(LoginOutcome::Invalid) => {
            form(
                &state,
                &req,
                next,
                username,
                None,
                Some("Wrong username or password.".into()),
                StatusCode::OK,
            )
            .await
        }
        Ok(LoginOutcome::Throttled { retry_after }) => {
            let message = format!(
                "Too many failed sign-in attempts. Try again in {} minutes.",
                (retry_after + 59) / 60
            );
            let mut response = form(
                &state,
                &req,
                next,
                username,
                None,
                Some(message),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await;
            if let Ok(value) = header::HeaderValue::from_str(&retry_after.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Err(error) => super::server_error_page(&error),
    }
}
