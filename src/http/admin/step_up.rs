//! `GET|POST /admin/step-up`: where an admin proves the second factor that console
//! changes need (`admin_factor`; [`crate::admin::Console::elevate`]). The page offers
//! what the admin has: a code from the authenticator app (typed here), or a sign-in
//! with a passkey (a link to `/login`), or, with neither enrolled, the way to the
//! account page. A change refused for want of the factor is sent here.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::super::{cookies, pages, AppState};
use crate::admin::Elevation;
use crate::approval::step_up::StepUpRefusal;

#[derive(Template)]
#[template(path = "admin/step_up.html")]
struct StepUpPage {
    csrf_token: String,
    needs: String,
    done: bool,
    code: bool,
    passkey: bool,
    error: Option<String>,
}

/// `GET /admin/step-up`.
pub async fn step_up_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    page(&state, &req, None, StatusCode::OK).await
}

/// `POST /admin/step-up`: `code`.
pub async fn step_up(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let form = match super::super::approvals::checked_form(&state, &req, &body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let code = form.get("code").unwrap_or_default().to_owned();
    let (console, cookie, now) = (
        state.console.clone(),
        cookies::session(&req),
        state.clock.now(),
    );
    let elevated = super::super::blocking(move || console.elevate(cookie.as_ref(), &code, now));
    match elevated.await {
        Ok(Ok(())) => super::super::see_other("/admin"),
        Ok(Err(refused)) => {
            let status = match refused {
                StepUpRefusal::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::FORBIDDEN,
            };
            let why = crate::approval::sentence(&refused.to_string());
            page(&state, &req, Some(why), status).await
        }
        Err(refusal) => super::refusal_page(&req, refusal),
    }
}

async fn page(
    state: &AppState,
    req: &HttpRequest,
    error: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let (console, cookie, now) = (
        state.console.clone(),
        cookies::session(req),
        state.clock.now(),
    );
    let elevation = super::super::blocking(move || console.elevation(cookie.as_ref(), now));
    match elevation.await {
        Ok(Elevation {
            needs,
            done,
            code,
            passkey,
        }) => super::super::approvals::with_csrf(state, req, |csrf_token| {
            pages::render(
                status,
                &StepUpPage {
                    csrf_token,
                    needs: needs.describe().to_owned(),
                    done,
                    code,
                    passkey,
                    error,
                },
            )
        }),
        Err(refusal) => super::refusal_page(req, refusal),
    }
}
