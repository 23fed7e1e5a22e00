//! The admin console's pages (issue 19): `/admin`, its clients and its scopes with their
//! approval policies. Server-rendered, no JavaScript; CSRF on every form; every change
//! goes through the same `manage` call as the CLI, which audits it. Who may enter and
//! when: [`crate::admin::Console`].

mod approvals;
mod clients;
mod notify;
mod operations;
mod scopes;
mod step_up;
mod users;

pub use approvals::approvals;
pub use clients::{
    client_form, clients, create_client, edit_form, remove_client, rotate_secret, update_client,
};
pub use notify::{link_chat, set_notify};
pub use operations::{audit, export, keys, rotate_keys};
pub use scopes::{create_scope, new_scope, scope_form, scopes, update_scope};
pub use step_up::step_up_page;
pub use users::{
    add_member, create_group, create_user, disable_user, remove_attribute, remove_member,
    reset_password, set_attribute, users,
};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::{cookies, pages, AppState};
use crate::admin::{Access, Admin, Refusal};
use crate::manage::{self, ManageError};

#[derive(Template)]
#[template(path = "admin/overview.html")]
struct OverviewPage {
    username: String,
    /// Changes would be refused now (the sign-in is old, or the factor unproven).
    must_confirm: bool,
    clients: usize,
    scopes: usize,
    sensitive: usize,
}

/// `GET /admin`.
pub async fn overview(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let admin = match gate(&state, &req, Access::Read).await {
        Ok(admin) => admin,
        Err(refused) => return *refused,
    };
    let must_confirm = !state.console.may_change(&admin, state.clock.now());
    let store = state.console.store.clone();
    let counts = super::blocking(move || -> Result<_, ManageError> {
        let scopes = manage::list_scopes(&store)?;
        let sensitive = scopes.iter().filter(|s| s.sensitive).count();
        Ok((manage::list_clients(&store)?.len(), scopes.len(), sensitive))
    });
    match counts.await {
        Ok((clients, scopes, sensitive)) => pages::render(
            StatusCode::OK,
            &OverviewPage {
                username: admin.session.user.username,
                must_confirm,
                clients,
                scopes,
                sensitive,
            },
        ),
        Err(error) => super::server_error_page(&error),
    }
}

/// The signed-in admin allowed `access`, or the answer for everyone else: sign in
/// (again, for a change), or 403.
async fn gate(
    state: &AppState,
    req: &HttpRequest,
    access: Access,
) -> Result<Admin, Box<HttpResponse>> {
    let (console, cookie, now) = (
        state.console.clone(),
        cookies::session(req),
        state.clock.now(),
    );
    let admitted = super::blocking(move || console.admin(cookie.as_ref(), access, now)).await;
    admitted.map_err(|refusal| Box::new(refusal_page(req, refusal)))
}

/// The answer to a refused admin: sign in (again, for a change), prove the second
/// factor first (then make the change again, from the console), or 403.
fn refusal_page(req: &HttpRequest, refusal: Refusal) -> HttpResponse {
    let back: String = url::form_urlencoded::byte_serialize(req.path().as_bytes()).collect();
    match refusal {
        Refusal::SignIn => super::see_other(&format!("/login?return_to={back}")),
        Refusal::Stale => super::see_other(&format!("/login?return_to={back}&fresh=1")),
        Refusal::Factor(_) => super::see_other("/admin/step-up"),
        Refusal::NotAdmin => pages::error_page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "Only admins may use the console.",
            None,
        ),
        Refusal::Store(error) => super::server_error_page(&error),
    }
}

/// The admin allowed to change, once the form's CSRF token checks out.
async fn gate_form(
    state: &AppState,
    req: &HttpRequest,
    body: &[u8],
) -> Result<(Admin, crate::oidc::params::Params), Box<HttpResponse>> {
    let form = super::approvals::checked_form(state, req, body)?;
    let admin = gate(state, req, Access::Change).await?;
    Ok((admin, form))
}

/// A `manage` refusal on a console page: what the admin typed was refused (400, the
/// form again with the reason), the thing is gone (404), or the server failed.
fn refused(error: &ManageError, form: impl FnOnce(String) -> HttpResponse) -> HttpResponse {
    match error {
        ManageError::Invalid(why) | ManageError::Conflict(why) => form(why.clone()),
        ManageError::NotFound(why) => {
            pages::error_page(StatusCode::NOT_FOUND, "Not found", why, None)
        }
        _ => super::server_error_page(error),
    }
}
