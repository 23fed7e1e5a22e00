//! The built-in demo relying party's pages (`serve --demo`): `/demo`, `/demo/start`
//! and `/demo/callback`. The protocol work is [`crate::demo::Demo`]'s; this file keeps
//! its state (state, nonce, verifier) in a cookie scoped to `/demo` and renders.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::pages::{self, DemoPage, DemoResultPage};
use super::AppState;
use crate::demo::Finished;
use crate::oidc::params::Params;

const COOKIE: &str = "cs_demo_rp";

/// `GET /demo`.
pub async fn index(state: web::Data<AppState>) -> HttpResponse {
    match state.demo {
        Some(_) => pages::render(StatusCode::OK, &DemoPage),
        None => HttpResponse::NotFound().finish(),
    }
}

/// `GET /demo/start?scope=…`: begins the code flow.
pub async fn start(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(demo) = &state.demo else {
        return HttpResponse::NotFound().finish();
    };
    let query = Params::parse(req.query_string().as_bytes()).unwrap_or_default();
    let scope = query.get("scope").unwrap_or("openid profile email");
    let started = match demo.start(&state.provider.issuer, scope) {
        Ok(started) => started,
        Err(error) => return super::server_error_page(&error),
    };
    let cookie = Cookie::build(COOKIE, started.saved)
        .path("/demo")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.cookies.secure)
        .finish();
    let mut response = super::see_other(&started.location);
    let _ = response.add_cookie(&cookie);
    response
}

fn failed(message: String) -> HttpResponse {
    result_error(StatusCode::BAD_REQUEST, message)
}

fn result_error(status: StatusCode, message: String) -> HttpResponse {
    let page = DemoResultPage {
        error: Some(message),
        subject_name: String::new(),
        approvers: vec![],
        access_until: None,
        id_token_claims: String::new(),
        access_token_claims: String::new(),
        logout_url: None,
    };
    pages::render(status, &page)
}

/// `GET /demo/callback`: finishes the flow this browser began and shows the verified
/// ID token.
pub async fn callback(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(demo) = state.demo.clone() else {
        return HttpResponse::NotFound().finish();
    };
    let query = Params::parse(req.query_string().as_bytes()).unwrap_or_default();
    if let Some(error) = query.get("error") {
        // A denial (or any error the provider sends back) is an outcome the demo shows,
        // not a failed request of its own.
        let description = query.get("error_description").unwrap_or("");
        return result_error(StatusCode::OK, format!("{error}: {description}"));
    }
    let saved = req
        .cookie(COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let (provider, now) = (state.provider.clone(), state.clock.now());
    let finished: Finished =
        match super::blocking(move || demo.finish(&provider, &saved, &query, now)).await {
            Ok(finished) => finished,
            Err(failure) => return failed(failure.0),
        };
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let page = DemoResultPage {
        error: None,
        subject_name: finished.subject_name,
        approvers: finished.approvers,
        access_until: finished.access_until.map(pages::time),
        id_token_claims: pretty(&finished.id_token_claims),
        access_token_claims: pretty(&finished.access_token_claims),
        logout_url: finished.logout_url,
    };
    let mut response = pages::render(StatusCode::OK, &page);
    let mut gone = Cookie::build(COOKIE, "").path("/demo").finish();
    gone.make_removal();
    let _ = response.add_cookie(&gone);
    response
}
