//! What every request handler shares (`web::Data<AppState>`): built once at startup
//! (`startup.rs`), cheap to clone.

use std::sync::Arc;

use super::cookies::CookiePolicy;
use crate::approval::Desk;
use crate::clock::Clock;
use crate::oidc::Provider;

/// Shared state of every request handler: the two domain entry points, the clock and
/// the cookie policy. Handlers reach the store and the configuration only through
/// these.
#[derive(Clone)]
pub struct AppState {
    /// The protocol core.
    pub provider: Arc<Provider>,
    /// The approval desk (countersignature pages).
    pub desk: Arc<Desk>,
    /// The admin console's gate.
    pub console: Arc<crate::admin::Console>,
    /// The account page: a user's own second factors.
    pub account: Arc<crate::accounts::factors::Account>,
    /// The demo relying party, when serving with `--demo`.
    pub demo: Option<crate::demo::Demo>,
    /// Cookies, CSRF and the client address.
    pub cookies: CookiePolicy,
    /// The inbound Slack and Teams integrations.
    pub chat: Arc<crate::chat::Chat>,
    /// Sign-in through upstream OpenID Connect providers.
    pub upstreams: Arc<crate::upstream::Broker>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// The decision hooks' HTTP client (issue 20).
    pub hooks: Arc<crate::decision_hooks::HookClient>,
}
