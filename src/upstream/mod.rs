//! Identity brokering (issue 22): users sign in through an upstream OpenID Connect
//! provider. [`Broker::start`] sends the browser there with `state`, `nonce` and PKCE
//! S256 (OIDC Core §3.1.2.1, RFC 7636), remembering them in `upstream_logins` so any
//! instance can take the callback; [`Broker::finish`] checks the `state` (bound to the
//! browser by a cookie, single use, unexpired) and the RFC 9207 `iss`, lets
//! [`protocol`] exchange the code and validate the ID token, then signs the user in
//! ([`crate::accounts::upstream`]).

mod logout;
mod protocol;

pub use protocol::Identity;

use secrecy::SecretString;

use crate::accounts::sessions::SessionPolicy;
use crate::accounts::upstream::{self as accounts, Brokered, BrokeredOutcome};
use crate::crypto::{self, Sealer};
use crate::http::blocking;
use crate::ids::SessionToken;
use crate::manage::{group_map, UPSTREAM_SECRET_PURPOSE};
use crate::store::{self, Store, StoreError, UpstreamLoginRow, UpstreamRow};

/// How long a browser may take at the upstream before its login expires (seconds).
const LOGIN_TTL: i64 = 600;

/// Why a brokered sign-in stopped. Nothing is changed by any of them (the `state` is
/// spent once taken).
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// No upstream has that name.
    #[error("unknown upstream")]
    Unknown,
    /// The callback's `state` is missing or not this browser's.
    #[error("state does not match this browser")]
    StateMismatch,
    /// The `state` was already used, or its login expired.
    #[error("state already used or expired")]
    StateUsed,
    /// The upstream answered with an error (its `error` code).
    #[error("the upstream refused: {0}")]
    Refused(String),
    /// Discovery or its JWKS failed.
    #[error("discovery failed: {0}")]
    Discovery(String),
    /// The code exchange (or userinfo) failed.
    #[error("code exchange failed: {0}")]
    Exchange(String),
    /// The ID token is not valid for us (signature, iss, aud, exp or nonce).
    #[error("ID token refused: {0}")]
    IdToken(String),
    /// The linked local user is disabled.
    #[error("the local user is disabled")]
    Disabled,
    /// The sealed client secret does not open.
    #[error("sealed secret: {0}")]
    Sealed(String),
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where the browser goes after signing in (as the password login keeps it).
#[derive(Debug, Clone, Default)]
pub struct Next {
    /// The stored authorization request to continue.
    pub request: Option<String>,
    /// A same-origin path.
    pub return_to: Option<String>,
}

/// What the upstream's redirect back carried, and the browser's state cookie.
#[derive(Debug, Clone, Default)]
pub struct Callback {
    /// `state` in the query.
    pub state: Option<String>,
    /// The state cookie set by [`Broker::start`].
    pub cookie_state: Option<String>,
    /// `code`.
    pub code: Option<String>,
    /// `error`.
    pub error: Option<String>,
    /// `iss` (RFC 9207).
    pub iss: Option<String>,
}

/// A finished sign-in: the session cookie and where to go.
#[derive(Debug)]
pub struct SignedIn {
    /// The new session's cookie value.
    pub cookie: SessionToken,
    /// Where to continue.
    pub next: Next,
}

/// The brokering service (in `AppState`).
pub struct Broker {
    store: Store,
    sealer: Sealer,
    http: reqwest::Client,
    sessions: SessionPolicy,
    issuer: String,
    /// MACs the redirect carried through an upstream logout.
    logout_key: [u8; 32],
    /// False when the deployment turned local passwords off (`local_passwords`).
    pub local_passwords: bool,
}

impl Broker {
    /// The broker for this server; its HTTP client follows no redirects (the code and
    /// tokens must come from the endpoints discovery named).
    pub fn new(
        store: Store,
        secret: &SecretString,
        sessions: SessionPolicy,
        issuer: String,
        local_passwords: bool,
    ) -> Result<Self, String> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Broker {
            store,
            sealer: Sealer::for_purpose(secret, UPSTREAM_SECRET_PURPOSE),
            http,
            sessions,
            issuer,
            logout_key: crypto::derive_key(secret, "countersign/upstream-logout"),
            local_passwords,
        })
    }

    /// The names of the upstreams, for the login page.
    pub fn names(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .store
            .read(store::list_upstreams)?
            .into_iter()
            .map(|u| u.name)
            .collect())
    }

    /// Starts a sign-in at upstream `name`: the authorization URL and the `state` to
    /// bind to the browser.
    #[tracing::instrument(skip_all, fields(upstream = name))]
    pub async fn start(
        &self,
        name: &str,
        next: Next,
        now: i64,
    ) -> Result<(url::Url, String), UpstreamError> {
        let row = self.upstream(name).await?;
        let request = protocol::start(&self.http, &self.registration(&row, None)).await?;
        // Sealed at rest: with a code stolen in flight, a readable verifier would
        // undo PKCE (RFC 7636 §1).
        let verifier = self
            .sealer
            .seal(&request.verifier)
            .map_err(UpstreamError::Sealed)?;
        let login = UpstreamLoginRow {
            state_hash: crypto::sha256_hex(request.state.as_bytes()),
            upstream: row.name,
            nonce: request.nonce,
            pkce_verifier: verifier,
            request_id: next.request,
            return_to: next.return_to,
            expires_at: now + LOGIN_TTL,
        };
        let store = self.store.clone();
        blocking(move || store.write(|c| store::insert_upstream_login(c, &login, now))).await?;
        Ok((request.url, request.state))
    }

    /// Finishes a sign-in at upstream `name` from its callback.
    #[tracing::instrument(skip_all, fields(upstream = name))]
    pub async fn finish(
        &self,
        name: &str,
        callback: Callback,
        ip: String,
        previous: Option<SessionToken>,
        now: i64,
    ) -> Result<SignedIn, UpstreamError> {
        let state = callback.state.clone().unwrap_or_default();
        // Login CSRF (RFC 6749 §10.12): the state must be the one this browser was
        // sent with, not merely one that exists.
        let bound = callback.cookie_state.as_deref().is_some_and(|cookie| {
            !state.is_empty() && crypto::constant_time_eq(cookie.as_bytes(), state.as_bytes())
        });
        if !bound {
            return Err(UpstreamError::StateMismatch);
        }
        let (login, row) = self.take(name, &state, now).await?;
        if let Some(error) = callback.error {
            return Err(UpstreamError::Refused(error));
        }
        // RFC 9207 §2.4: an `iss` that is not this upstream's means a mix-up.
        if callback.iss.as_deref().is_some_and(|iss| iss != row.issuer) {
            return Err(UpstreamError::IdToken(
                "the response names another issuer".into(),
            ));
        }
        let code = callback
            .code
            .ok_or_else(|| UpstreamError::Refused("no code".into()))?;
        let secret = self
            .sealer
            .open(&row.client_secret)
            .map_err(UpstreamError::Sealed)?;
        let registration = self.registration(&row, Some(SecretString::from(secret)));
        let groups_claim = row.groups_claim.as_deref().unwrap_or("groups");
        let verifier = self.unseal(&login.pkce_verifier)?;
        let expected = protocol::Expected {
            nonce: &login.nonce,
            verifier: &verifier,
            groups_claim,
        };
        let identity = protocol::finish(&self.http, &registration, &code, expected, now).await?;
        self.sign_in(row, identity, login, ip, previous, now).await
    }

    async fn sign_in(
        &self,
        row: UpstreamRow,
        identity: Identity,
        login: UpstreamLoginRow,
        ip: String,
        previous: Option<SessionToken>,
        now: i64,
    ) -> Result<SignedIn, UpstreamError> {
        let (store, policy) = (self.store.clone(), self.sessions);
        let request = login.request_id.clone();
        // Kept for the upstream logout's id_token_hint, sealed: it carries the
        // person's claims.
        let mut identity = identity;
        identity.id_token = self
            .sealer
            .seal(&identity.id_token)
            .map_err(UpstreamError::Sealed)?;
        let outcome = blocking(move || {
            let map = group_map(&row);
            let brokered = Brokered {
                upstream: &row.name,
                group_map: &map,
                identity: &identity,
                ip: &ip,
                previous_session: previous.as_ref(),
                request: request.as_deref(),
            };
            store.write(|c| accounts::sign_in(c, &brokered, policy, now))
        })
        .await?;
        match outcome {
            BrokeredOutcome::Success(cookie) => Ok(SignedIn {
                cookie,
                next: Next {
                    request: login.request_id,
                    return_to: login.return_to,
                },
            }),
            BrokeredOutcome::Disabled => Err(UpstreamError::Disabled),
        }
    }

    /// Opens a value this broker sealed; one stored before values were sealed (no
    /// `v1:` prefix, which neither a JWT nor a PKCE verifier can start with) is
    /// taken as it is.
    fn unseal(&self, stored: &str) -> Result<String, UpstreamError> {
        match stored.starts_with(crypto::SEALED_PREFIX) {
            true => self.sealer.open(stored).map_err(UpstreamError::Sealed),
            false => Ok(stored.to_owned()),
        }
    }

    async fn upstream(&self, name: &str) -> Result<UpstreamRow, UpstreamError> {
        let (store, name) = (self.store.clone(), name.to_owned());
        blocking(move || store.read(|c| store::upstream_by_name(c, &name)))
            .await?
            .ok_or(UpstreamError::Unknown)
    }

    /// Takes (deletes) the login behind `state`, with its upstream.
    async fn take(
        &self,
        name: &str,
        state: &str,
        now: i64,
    ) -> Result<(UpstreamLoginRow, UpstreamRow), UpstreamError> {
        let (store, name) = (self.store.clone(), name.to_owned());
        let hash = crypto::sha256_hex(state.as_bytes());
        blocking(move || {
            store.write(|c| {
                let login =
                    store::take_upstream_login(c, &hash, now)?.ok_or(UpstreamError::StateUsed)?;
                if login.upstream != name {
                    return Err(UpstreamError::StateMismatch);
                }
                let row = store::upstream_by_name(c, &name)?.ok_or(UpstreamError::Unknown)?;
                Ok((login, row))
            })
        })
        .await
    }

    fn registration(
        &self,
        row: &UpstreamRow,
        client_secret: Option<SecretString>,
    ) -> protocol::Registration {
        protocol::Registration {
            issuer: row.issuer.clone(),
            client_id: row.client_id.clone(),
            client_secret,
            redirect_uri: format!("{}/login/upstream/{}/callback", self.issuer, row.name),
            scope: row.scope.clone(),
        }
    }
}
