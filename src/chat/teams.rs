//! The Teams bot's inbound side: the Bot Framework's signing keys (fetched from the
//! configured OpenID metadata, cached). To be completed.

/// The Bot Framework keys last fetched, and when.
#[derive(Default)]
pub struct KeyCache {
    /// `(keys, fetched_at)`.
    pub keys: tokio::sync::RwLock<Option<(crate::notify::BotJwks, i64)>>,
}
