//! The OpenID Provider's protocol core (no actix, no askama): parameter parsing,
//! validation, the authorization, token, userinfo, introspection, revocation and
//! logout logic, discovery, and the oxide-auth adapters (DESIGN.md §5.1, §8).

pub mod adapters;
pub mod authorize;
pub mod claims;
pub mod client_requests;
pub mod clients;
pub mod discovery;
pub mod error;
pub mod grant_type;
pub mod grants;
pub mod introspection;
pub mod logout;
pub mod minting;
pub mod params;
pub mod revocation;
pub mod sign_in;
pub mod token_verification;
pub mod userinfo;

use crate::accounts::login::ThrottlePolicy;
use crate::accounts::sessions::SessionPolicy;
use crate::config::Config;
use crate::crypto::{KeyAlg, KeyRing};
use crate::store::{self, DbConn, KeyRow, Store};
use error::OAuthError;
use minting::{Lifetimes, Minter};

/// The provider: configuration, storage and keys that every protocol call needs.
#[derive(Debug, Clone)]
pub struct Provider {
    /// The issuer identifier, exactly as configured.
    pub issuer: String,
    /// Storage.
    pub store: Store,
    /// Signing keys.
    pub keys: KeyRing,
    /// Token lifetimes.
    pub lifetimes: Lifetimes,
    /// Session timeouts.
    pub sessions: SessionPolicy,
    /// Login throttling.
    pub throttle: ThrottlePolicy,
    /// How long a stored authorization request may wait for login and consent.
    pub request_ttl: i64,
    /// Seconds after an approval's waiting time its request may still be continued.
    pub continue_after_approval: i64,
    /// Seconds before a waiting approval expires when its approvers are reminded.
    pub remind_before: Option<i64>,
}

fn seconds(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

impl Provider {
    /// A provider for `config`.
    pub fn new(config: &Config, store: Store, keys: KeyRing) -> Self {
        Provider {
            issuer: config.issuer.clone(),
            store,
            keys,
            lifetimes: Lifetimes {
                access: seconds(config.access_token_ttl),
                id: seconds(config.id_token_ttl),
                refresh: seconds(config.refresh_token_ttl),
                code: seconds(config.code_ttl),
            },
            sessions: SessionPolicy {
                idle: seconds(config.session_idle_timeout),
                absolute: seconds(config.session_absolute_timeout),
            },
            throttle: ThrottlePolicy {
                max_failures: config.login_max_failures,
                lockout: seconds(config.login_lockout),
            },
            request_ttl: seconds(config.authorization_request_ttl),
            continue_after_approval: seconds(config.continue_after_approval),
            remind_before: config.notify.reminder_before.map(seconds),
        }
    }

    /// The published keys and a minter signing with the active ones.
    /// Access tokens are always RS256 (what resource servers expect); ID tokens use the
    /// client's registered algorithm.
    fn minter(
        &self,
        c: &mut DbConn,
        now: i64,
        id_token_alg: KeyAlg,
    ) -> Result<(Vec<KeyRow>, Minter<'_>), OAuthError> {
        // No retiring here: a retiring key past its time only verifies tokens that have
        // expired anyway, and this path must not write (userinfo is a read).
        let rows = store::list_keys(c)?;
        let active = |alg| {
            self.keys
                .active(&rows, alg)
                .map_err(|e| OAuthError::server_error(&e))
        };
        let (key, id_key) = (active(KeyAlg::RS256)?, active(id_token_alg)?);
        Ok((
            rows,
            Minter {
                issuer: &self.issuer,
                key,
                id_key,
                lifetimes: self.lifetimes,
                now,
            },
        ))
    }
}
