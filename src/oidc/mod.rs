//! The OpenID Provider's protocol core (no actix, no askama): parameter parsing,
//! validation, the authorization, token, userinfo, introspection, revocation and
//! logout logic, discovery, and the oxide-auth adapters (DESIGN.md §5.1, §8).

pub mod adapters;
pub mod authorize;
pub mod ciba;
pub mod claims;
pub mod client_requests;
pub mod clients;
pub mod discovery;
pub mod error;
pub mod grant_type;
pub mod grants;
pub mod introspection;
pub mod logout;
pub mod memo;
pub mod minting;
pub mod params;
pub mod rar;
pub mod revocation;
pub mod sign_in;
pub mod token_verification;
pub mod userinfo;

use crate::accounts::login::ThrottlePolicy;
use crate::accounts::sessions::SessionPolicy;
use crate::config::Config;
use secrecy::SecretString;
use std::sync::Arc;

use crate::crypto::{KeyRing, KeySet};
use crate::store::{DbConn, Store};
use clients::Client;
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
    /// The discovery document, serialized (rebuilt when a scope changes).
    pub metadata: memo::Memo,
    /// Seals what a CIBA ping needs (its `auth_req_id` and the client's bearer token).
    pub ciba_sealer: crate::crypto::Sealer,
}

/// The sealing purpose of CIBA ping secrets (the outbox worker opens them).
pub const CIBA_PING_PURPOSE: &str = "countersign/ciba-ping";

fn seconds(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

impl Provider {
    /// A provider for `config`.
    pub fn new(config: &Config, store: Store, keys: KeyRing, secret: &SecretString) -> Self {
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
            metadata: memo::Memo::default(),
            ciba_sealer: crate::crypto::Sealer::for_purpose(secret, CIBA_PING_PURPOSE),
        }
    }

    /// The keys in memory and a minter signing with the active ones of the client's
    /// algorithms: RS256 access tokens unless the client registered ES256 or EdDSA ones
    /// (what its resource servers accept), and ID tokens of its registered algorithm.
    fn minter(
        &self,
        c: &mut DbConn,
        now: i64,
        client: &Client,
    ) -> Result<(Arc<KeySet>, Minter<'_>), OAuthError> {
        // No retiring here: a retiring key past its time only verifies tokens that have
        // expired anyway, and this path must not write (userinfo is a read).
        let keys = self.keys.current(c, now)?;
        let active = |alg| keys.active(alg).map_err(|e| OAuthError::server_error(&e));
        let (key, id_key) = (
            active(client.access_token_alg)?,
            active(client.id_token_alg)?,
        );
        Ok((
            keys,
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
