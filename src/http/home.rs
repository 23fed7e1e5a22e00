//! `GET /`: who is signed in, with links to sign in or out; and the static files.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::AppState;
use super::{cookies, pages};

/// `GET /`.
pub async fn get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(cookie) = cookies::session(&req) else {
        return pages::message(
            StatusCode::OK,
            "countersign",
            "You are not signed in.",
            Some(("/login", "Sign in")),
        );
    };
    let (provider, now) = (state.provider.clone(), state.clock.now());
    match super::blocking(move || provider.session_of(&cookie, now)).await {
        Ok(Some(session)) => {
            let text = format!("You are signed in as {}.", session.user.username);
            pages::message(
                StatusCode::OK,
                "countersign",
                &text,
                Some(("/approvals", "Open your approval inbox")),
            )
        }
        _ => pages::message(
            StatusCode::OK,
            "countersign",
            "You are not signed in.",
            Some(("/login", "Sign in")),
        ),
    }
}

/// `GET /static/{file}`: the few static files, compiled in.
pub async fn static_file(path: web::Path<String>) -> HttpResponse {
    let (body, content_type): (&'static str, &str) = match path.as_str() {
        "style.css" => (
            include_str!("../../static/style.css"),
            "text/css; charset=utf-8",
        ),
        "waiting.js" => (
            include_str!("../../static/waiting.js"),
            "text/javascript; charset=utf-8",
        ),
        "inbox.js" => (
            include_str!("../../static/inbox.js"),
            "text/javascript; charset=utf-8",
        ),
        "passkeys.js" => (
            include_str!("../../static/passkeys.js"),
            "text/javascript; charset=utf-8",
        ),
        "form_post.js" => (
            include_str!("../../static/form_post.js"),
            "text/javascript; charset=utf-8",
        ),
        "favicon.svg" => (include_str!("../../static/favicon.svg"), "image/svg+xml"),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}
