//! What every request handler shares (`web::Data<AppState>`): built once at startup
//! (`startup.rs`), cheap to clone.

use std::sync::Arc;

use crate::approval::Desk;
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::KeyRing;
use crate::oidc::Provider;
use crate::store::Store;

/// Shared state of every request handler.
#[derive(Clone)]
pub struct AppState {
    /// Validated configuration.
    pub config: Arc<Config>,
    /// The database.
    pub store: Store,
    /// Signing keys.
    pub keys: KeyRing,
    /// The protocol core.
    pub provider: Arc<Provider>,
    /// The approval desk (countersignature pages).
    pub desk: Arc<Desk>,
    /// The demo relying party, when serving with `--demo`.
    pub demo: Option<crate::demo::Demo>,
    /// Key of the CSRF tokens (derived from the secret key).
    pub csrf_key: [u8; 32],
    /// Time.
    pub clock: Arc<dyn Clock>,
}
