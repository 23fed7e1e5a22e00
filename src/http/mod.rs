//! HTTP: the only module that knows actix-web. One file per endpoint group; handlers
//! extract, make one domain call (through [`blocking`]) and map its outcome.

pub mod account;
pub mod admin;
pub mod approval_events;
pub mod approvals;
pub mod authorize;
pub mod client_endpoints;
pub mod cookies;
pub mod demo;
pub mod discovery;
pub mod health;
pub mod home;
pub mod integrations;
pub mod limits;
pub mod login;
pub mod logout;
pub mod pages;
pub mod passkey_login;
pub mod passkey_votes;
pub mod passkeys;
mod state;
pub mod step_up;
pub mod teams_bot;
pub mod upstream;
pub mod userinfo;

pub use state::AppState;

use actix_cors::Cors;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, Route};

use crate::oidc::error::ErrorCode;
use crate::store::StoreError;

/// CORS for the endpoints browser-based clients call directly (discovery, JWKS, token,
/// userinfo, revocation): any origin, no cookies, so no ambient authority is exposed.
fn cors() -> Cors {
    Cors::default()
        .allow_any_origin()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .max_age(3600)
}

/// Registers every route. Every GET route answers HEAD too (RFC 9110 §9.1).
pub fn routes(config: &mut web::ServiceConfig) {
    fn get_and_head<F, Args>(handler: F) -> [Route; 2]
    where
        F: actix_web::Handler<Args> + Clone,
        Args: actix_web::FromRequest + 'static,
        F::Output: actix_web::Responder + 'static,
    {
        [web::get().to(handler.clone()), web::head().to(handler)]
    }
    let [get, head] = get_and_head(health::healthz);
    config.service(web::resource("/healthz").route(get).route(head));
    let [get, head] = get_and_head(health::readyz);
    config.service(web::resource("/readyz").route(get).route(head));
    let [get, head] = get_and_head(health::metrics);
    config.service(web::resource("/metrics").route(get).route(head));
    let [get, head] = get_and_head(discovery::metadata);
    config.service(
        web::resource("/.well-known/openid-configuration")
            .wrap(cors())
            .route(get)
            .route(head),
    );
    let [get, head] = get_and_head(discovery::metadata);
    config.service(
        web::resource("/.well-known/oauth-authorization-server")
            .wrap(cors())
            .route(get)
            .route(head),
    );
    let [get, head] = get_and_head(discovery::jwks);
    config.service(
        web::resource("/jwks.json")
            .wrap(cors())
            .route(get)
            .route(head),
    );
    // The machine endpoints before any path with a `{segment}`: actix tries resources in
    // order, and each templated one costs a regex match per request that passes it.
    let [get, head] = get_and_head(userinfo::get);
    config.service(
        web::resource("/userinfo")
            .wrap(cors())
            .route(get)
            .route(head)
            .route(web::post().to(userinfo::post)),
    );
    config.service(
        web::resource("/token")
            .wrap(cors())
            .route(web::post().to(client_endpoints::token)),
    );
    config
        .service(web::resource("/introspect").route(web::post().to(client_endpoints::introspect)));
    config.service(
        web::resource("/bc-authorize")
            .route(web::post().to(client_endpoints::backchannel_authorize)),
    );
    config.service(
        web::resource("/revoke")
            .wrap(cors())
            .route(web::post().to(client_endpoints::revoke)),
    );
    let [get, head] = get_and_head(authorize::get);
    config.service(
        web::resource("/authorize")
            .route(get)
            .route(head)
            .route(web::post().to(authorize::post)),
    );
    let [get, head] = get_and_head(authorize::resume);
    config.service(web::resource("/authorize/continue").route(get).route(head));
    let [get, head] = get_and_head(authorize::consent_page);
    config.service(
        web::resource("/consent")
            .route(get)
            .route(head)
            .route(web::post().to(authorize::consent_post)),
    );
    let [get, head] = get_and_head(login::get);
    config.service(
        web::resource("/login")
            .route(get)
            .route(head)
            .route(web::post().to(login::post)),
    );
    config.service(web::resource("/login/passkey").route(web::post().to(passkey_login::start)));
    config.service(
        web::resource("/login/passkey/{ceremony}").route(web::post().to(passkey_login::finish)),
    );
    admin_routes(config);
    config.service(web::resource("/login/upstream/{name}").route(web::get().to(upstream::start)));
    config.service(
        web::resource("/login/upstream/{name}/callback").route(web::get().to(upstream::callback)),
    );
    let [get, head] = get_and_head(account::get);
    config.service(web::resource("/account").route(get).route(head));
    config.service(web::resource("/account/totp").route(web::post().to(account::start_totp)));
    config.service(web::resource("/account/step-up").route(web::post().to(step_up::with_code)));
    config.service(
        web::resource("/account/step-up/passkey").route(web::post().to(step_up::start_passkey)),
    );
    config.service(
        web::resource("/account/step-up/passkey/{ceremony}")
            .route(web::post().to(step_up::finish_passkey)),
    );
    config.service(
        web::resource("/account/totp/confirm").route(web::post().to(account::confirm_totp)),
    );
    config
        .service(web::resource("/account/totp/remove").route(web::post().to(account::remove_totp)));
    config.service(
        web::resource("/account/passkeys").route(web::post().to(passkeys::start_registration)),
    );
    // Before `/account/passkeys/{ceremony}`, which would take `remove` for a ceremony.
    config
        .service(web::resource("/account/passkeys/remove").route(web::post().to(passkeys::remove)));
    config.service(
        web::resource("/account/passkeys/{ceremony}")
            .route(web::post().to(passkeys::finish_registration)),
    );
    let [get, head] = get_and_head(logout::get);
    config.service(
        web::resource("/logout")
            .route(get)
            .route(head)
            .route(web::post().to(logout::post)),
    );
    let [get, head] = get_and_head(logout::upstream_done);
    config.service(
        web::resource("/logout/upstream/done")
            .route(get)
            .route(head),
    );
    let [get, head] = get_and_head(approvals::inbox);
    config.service(web::resource("/approvals").route(get).route(head));
    // Before `/approvals/{id}/…`, which would take `inbox` for an id.
    let [get, head] = get_and_head(approval_events::inbox);
    config.service(
        web::resource("/approvals/inbox/events")
            .route(get)
            .route(head),
    );
    let [get, head] = get_and_head(approvals::review);
    config.service(
        web::resource("/approvals/{id}")
            .route(get)
            .route(head)
            .route(web::post().to(approvals::decide)),
    );
    config
        .service(web::resource("/approvals/{id}/revoke").route(web::post().to(approvals::revoke)));
    config
        .service(web::resource("/approvals/{id}/cancel").route(web::post().to(approvals::cancel)));
    config.service(
        web::resource("/approvals/{id}/ceremony").route(web::post().to(passkey_votes::start_vote)),
    );
    config.service(
        web::resource("/approvals/{id}/ceremony/{ceremony}")
            .route(web::post().to(passkey_votes::finish_vote)),
    );
    let [get, head] = get_and_head(approvals::waiting);
    config.service(
        web::resource("/approvals/{id}/waiting")
            .route(get)
            .route(head),
    );
    config.service(
        web::resource("/integrations/slack/interactions")
            .route(web::post().to(integrations::slack_interactions)),
    );
    let [get, head] = get_and_head(integrations::slack_link_page);
    config.service(
        web::resource("/integrations/slack/link")
            .route(get)
            .route(head)
            .route(web::post().to(integrations::slack_link)),
    );
    let [get, head] = get_and_head(approvals::status);
    config.service(
        web::resource("/approvals/{id}/status")
            .route(get)
            .route(head),
    );
    let [get, head] = get_and_head(approval_events::status);
    config.service(
        web::resource("/approvals/{id}/events")
            .route(get)
            .route(head),
    );
    config.service(
        web::resource("/integrations/teams/messages").route(web::post().to(teams_bot::post)),
    );
    let [get, head] = get_and_head(demo::index);
    config.service(web::resource("/demo").route(get).route(head));
    let [get, head] = get_and_head(demo::start);
    config.service(web::resource("/demo/start").route(get).route(head));
    let [get, head] = get_and_head(demo::callback);
    config.service(web::resource("/demo/callback").route(get).route(head));
    let [get, head] = get_and_head(home::get);
    config.service(web::resource("/").route(get).route(head));
    let [get, head] = get_and_head(home::static_file);
    config.service(web::resource("/static/{file}").route(get).route(head));
}

/// True when the body is `application/x-www-form-urlencoded` (parameters allowed).
pub fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The client's IP address: the TCP peer, or, when the peer is a trusted proxy, the
/// right-most `X-Forwarded-For` entry that is not one (entries further left could have
/// been written by the client itself).
pub fn client_ip(req: &HttpRequest, trusted: &[std::net::IpAddr]) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<std::net::IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|item| item.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .or(forwarded.first())
        .unwrap_or(&peer)
        .to_string()
}

/// A 303 See Other.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// Reads a submitted form; a repeated or undecodable field is a 400 page saying which
/// (not a CSRF failure: the browser did nothing wrong by its session).
pub fn read_form(body: &[u8]) -> Result<crate::oidc::params::Params, BadForm> {
    use crate::oidc::params::{ParamError, Params};
    Params::parse(body).map_err(|(error, _)| {
        BadForm(match error {
            ParamError::Repeated(name) => format!("the field {name:?} appears more than once"),
            ParamError::Undecodable(name) => format!("the field {name:?} is not valid text"),
        })
    })
}

/// What is wrong with a submitted form.
#[derive(Debug)]
pub struct BadForm(String);

impl BadForm {
    /// The 400 page saying it.
    pub fn page(&self) -> HttpResponse {
        pages::error_page(
            StatusCode::BAD_REQUEST,
            "This form could not be read",
            &format!(
                "The form was refused because {}. Go back, reload the page and try again.",
                self.0
            ),
            None,
        )
    }
}

/// The page for a failed CSRF check.
pub fn csrf_failed() -> HttpResponse {
    pages::error_page(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "The form was not submitted from this browser's current page. Go back, reload the page and try again.",
        None,
    )
}

/// Runs one domain call on the blocking pool (the store is synchronous). A pool that
/// is shut down or overloaded becomes the call's own storage error, so each handler
/// answers it exactly as it answers a database failure.
pub async fn blocking<T, E>(call: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    web::block(call)
        .await
        .unwrap_or_else(|error| Err(StoreError::Pool(error.to_string()).into()))
}

/// Runs a short read-only domain call on this thread when the store allows it without
/// waiting (store/inline.rs), else on the blocking pool as [`web::block`] does.
pub async fn inline_or_blocking<T: Send + 'static>(
    store: &crate::store::Store,
    call: impl Fn() -> T + Send + 'static,
) -> Result<T, actix_web::error::BlockingError> {
    match store.inline(&call) {
        Some(answer) => Ok(answer),
        None => web::block(call).await,
    }
}

/// The 5xx status of the error codes that are the server's fault, whatever the
/// endpoint; `None` for a client's mistake, whose status each endpoint chooses.
pub fn server_fault_status(code: ErrorCode) -> Option<StatusCode> {
    match code {
        ErrorCode::ServerError => Some(StatusCode::INTERNAL_SERVER_ERROR),
        ErrorCode::TemporarilyUnavailable => Some(StatusCode::SERVICE_UNAVAILABLE),
        _ => None,
    }
}

/// The page for a failed request: 503 "temporarily unavailable" when the database is
/// (somewhere in the error's chain of causes), else the generic 500 page. The cause is
/// logged, never shown.
pub fn server_error_page(error: &(dyn std::error::Error + 'static)) -> HttpResponse {
    if is_unavailable(error) {
        tracing::warn!(%error, "request failed: database unavailable");
        return pages::error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Temporarily unavailable",
            "The server cannot reach its database right now. Try again in a few seconds.",
            None,
        );
    }
    tracing::error!(%error, "request failed");
    pages::error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The server could not finish your request. Try again.",
        None,
    )
}

/// True when `error`, or any error it was caused by, is an unavailable database.
fn is_unavailable(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if matches!(
            error.downcast_ref::<StoreError>(),
            Some(StoreError::Pool(_))
        ) {
            return true;
        }
        if let Some(refusal) = error.downcast_ref::<crate::oidc::error::OAuthError>() {
            return refusal.code == ErrorCode::TemporarilyUnavailable;
        }
        next = error.source();
    }
    false
}

/// The admin console (`/admin`): pages are GET and HEAD, changes are POST forms.
fn admin_routes(config: &mut web::ServiceConfig) {
    macro_rules! page {
        ($path:literal, $handler:expr) => {
            web::resource($path)
                .route(web::get().to($handler))
                .route(web::head().to($handler))
        };
    }
    let post = web::post;
    config.service(page!("/admin", admin::overview));
    config.service(page!("/admin/step-up", admin::step_up_page));
    config.service(page!("/admin/approvals", admin::approvals));
    config.service(page!("/admin/users", admin::users).route(post().to(admin::create_user)));
    config.service(
        web::resource("/admin/users/{name}/password").route(post().to(admin::reset_password)),
    );
    config.service(
        web::resource("/admin/users/{name}/disable").route(post().to(admin::disable_user)),
    );
    config.service(web::resource("/admin/users/{name}/groups").route(post().to(admin::add_member)));
    config.service(
        web::resource("/admin/users/{name}/groups/remove").route(post().to(admin::remove_member)),
    );
    config.service(web::resource("/admin/groups").route(post().to(admin::create_group)));
    config
        .service(web::resource("/admin/groups/{name}/notify").route(post().to(admin::set_notify)));
    config.service(web::resource("/admin/users/{name}/chat").route(post().to(admin::link_chat)));
    config.service(
        web::resource("/admin/users/{name}/attributes").route(post().to(admin::set_attribute)),
    );
    config.service(
        web::resource("/admin/users/{name}/attributes/remove")
            .route(post().to(admin::remove_attribute)),
    );
    config.service(page!("/admin/keys", admin::keys));
    config.service(web::resource("/admin/keys/rotate").route(post().to(admin::rotate_keys)));
    config.service(page!("/admin/audit", admin::audit));
    config.service(page!("/admin/audit/export", admin::export));
    config.service(page!("/admin/clients", admin::clients).route(post().to(admin::create_client)));
    config.service(page!("/admin/clients/new", admin::client_form));
    config.service(
        page!("/admin/clients/{id}", admin::edit_form).route(post().to(admin::update_client)),
    );
    config.service(
        web::resource("/admin/clients/{id}/rotate-secret").route(post().to(admin::rotate_secret)),
    );
    config.service(
        web::resource("/admin/clients/{id}/remove").route(post().to(admin::remove_client)),
    );
    config.service(page!("/admin/scopes", admin::scopes).route(post().to(admin::create_scope)));
    config.service(page!("/admin/scopes/new", admin::new_scope));
    config.service(
        page!("/admin/scopes/{name}", admin::scope_form).route(post().to(admin::update_scope)),
    );
}
