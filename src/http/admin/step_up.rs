//! `GET /admin/step-up`: where an admin proves the second factor that console changes
//! need (`admin_factor`). The page offers what the factor takes and the admin has: a
//! code from the authenticator app, or a passkey (both proven by the account's session
//! step-up, `http/step_up.rs`, and back to `/admin`), or, with neither enrolled, the
//! way to the account page. A change refused for want of the factor is sent here.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::super::{cookies, pages, AppState};
use crate::admin::Elevation;

#[derive(Template)]
#[template(path = "admin/step_up.html")]
struct StepUpPage {
    csrf_token: String,
    needs: String,
    done: bool,
    code: bool,
    passkey: bool,
}

/// `GET /admin/step-up`.
pub async fn step_up_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let (console, cookie, now) = (
        state.console.clone(),
        cookies::session(&req),
        state.clock.now(),
    );
    let elevation = super::super::blocking(move || console.elevation(cookie.as_ref(), now));
    match elevation.await {
        Ok(Elevation {
            needs,
            done,
            code,
            passkey,
        }) => super::super::approvals::with_csrf(&state, &req, |csrf_token| {
            pages::render(
                StatusCode::OK,
                &StepUpPage {
                    csrf_token,
                    needs: needs.describe().to_owned(),
                    done,
                    code,
                    passkey,
                },
            )
        }),
        Err(refusal) => super::refusal_page(&req, refusal),
    }
}
