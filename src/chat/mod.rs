//! Deciding from chat (DESIGN.md §5.4): what the inbound integrations need besides the
//! desk. Slack's interactions are checked by their request signature (with replays
//! refused), Teams' bot calls by their Bot Framework token; both map the clicking chat
//! user to a linked account and vote through
//! [`Desk::decide_from_chat`](crate::approval::Desk::decide_from_chat), the same rules
//! as the page. The HTTP handlers are `http::integrations` (Slack) and
//! `http::teams_bot` (Teams).

pub mod slack;
pub mod teams;

use std::time::Duration;

use crate::config::NotifySettings;
use crate::store::Store;

/// Settings and clients of the inbound chat integrations.
pub struct Chat {
    /// `[notify]` settings (Slack secret and API, Teams app and metadata).
    pub settings: NotifySettings,
    /// The issuer (links back to the approval pages).
    pub issuer: String,
    /// Outbound calls made while answering (Slack `views.open`, `response_url`; the
    /// Bot Framework's keys).
    pub http: reqwest::Client,
    /// The Bot Framework's signing keys, fetched when needed.
    pub teams_keys: teams::KeyCache,
    /// Storage (replayed signatures, spent link tokens).
    pub store: Store,
    /// Key of the Slack account-link tokens (derived from the secret key).
    link_key: [u8; 32],
}

impl Chat {
    /// The integrations for `settings`.
    pub fn new(
        settings: NotifySettings,
        issuer: String,
        store: Store,
        link_key: [u8; 32],
    ) -> Result<Self, String> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Chat {
            settings,
            issuer,
            http,
            teams_keys: teams::KeyCache::default(),
            store,
            link_key,
        })
    }
}
