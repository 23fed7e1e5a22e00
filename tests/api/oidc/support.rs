//! Fixtures of the OIDC suites: the shared [`TestApp`] (clock at the real time: the
//! `openidconnect` RP library checks `iat`/`exp` against the system clock) seeded with
//! [`OidcSeed`], PKCE pairs and authorization requests. The browser hops live in
//! `browser.rs`, the RP back-channel calls in `back_channel.rs`; both are re-exported
//! here so suites import one module.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use countersign::manage::{ClientSpec, ScopeChanges};
use sha2::{Digest, Sha256};

pub use crate::helpers::{TestApp, TestClient, User};

pub use super::back_channel::*;
pub use super::browser::*;
/// Alice's password, the redirect URI every test client registers, and the post-logout
/// redirect URI the confidential client registers.
pub use crate::helpers::{PASSWORD, POST_LOGOUT_URI, REDIRECT_URI};

/// The `state` the hand-made authorization requests send.
pub const STATE: &str = "state-8d1f";
/// The `nonce` the hand-made authorization requests send.
pub const NONCE: &str = "nonce-42a7";
/// The scopes the clients may ask for, and what the requests ask by default.
pub const SCOPES: &str = crate::helpers::CLIENT_SCOPES;
/// A scope without a user, for client_credentials.
pub const SERVICE_SCOPE: &str = "reports.read";

/// What the OIDC suites seed: alice, a confidential and a public client.
pub struct OidcSeed {
    /// A user with a password and a display name.
    pub alice: User,
    /// A confidential client (client_secret_basic) for `SCOPES`, with a post-logout URI.
    pub rp: TestClient,
    /// A public client (auth method none, PKCE required) for `SCOPES`.
    pub spa: TestClient,
}

impl OidcSeed {
    /// Seeds alice, the confidential client `rp` and the public client `spa`.
    pub fn seed(app: &TestApp) -> OidcSeed {
        OidcSeed {
            alice: app.add_user("alice", Some("Alice Liddell"), &[]),
            rp: app.add_client(ClientSpec {
                name: "Relying Party".into(),
                post_logout_redirect_uris: vec![POST_LOGOUT_URI.into()],
                ..ClientSpec::default()
            }),
            spa: app.add_client(ClientSpec {
                name: "Single Page App".into(),
                public: true,
                ..ClientSpec::default()
            }),
        }
    }
}

impl TestApp<OidcSeed> {
    /// Creates the non-user scope `SERVICE_SCOPE`.
    pub fn add_service_scope(&self) {
        let changes = ScopeChanges {
            description: Some("Read reports".into()),
            ..ScopeChanges::default()
        };
        self.add_scope(SERVICE_SCOPE, changes);
    }
}

/// A fresh database and the app on it (clock at the real time), seeded with
/// [`OidcSeed`].
pub async fn oidc_app() -> TestApp<OidcSeed> {
    TestApp::builder().spawn().await.seeded(OidcSeed::seed)
}

/// A PKCE pair (RFC 7636 §4.1-4.2, S256).
pub struct Pkce {
    /// The secret the client keeps.
    pub verifier: String,
    /// `BASE64URL(SHA256(verifier))`.
    pub challenge: String,
}

impl Pkce {
    /// A fresh random pair.
    pub fn new() -> Pkce {
        let verifier = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Pkce {
            verifier,
            challenge,
        }
    }
}

/// Authorization request parameters, in order, duplicates allowed.
#[derive(Clone, Debug)]
pub struct AuthRequest(Vec<(String, String)>);

impl AuthRequest {
    /// `response_type=code`, `client_id`, `redirect_uri`, `scope=SCOPES`, `state`, `nonce`.
    pub fn new(client: &TestClient) -> AuthRequest {
        AuthRequest(
            [
                ("response_type", "code"),
                ("client_id", client.client_id.as_str()),
                ("redirect_uri", REDIRECT_URI),
                ("scope", SCOPES),
                ("state", STATE),
                ("nonce", NONCE),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        )
    }

    /// Replaces every `name` with one `name=value` (or appends it).
    pub fn set(mut self, name: &str, value: &str) -> AuthRequest {
        self = self.remove(name);
        self.0.push((name.into(), value.into()));
        self
    }

    /// Appends `name=value`, even if `name` is already there.
    pub fn add(mut self, name: &str, value: &str) -> AuthRequest {
        self.0.push((name.into(), value.into()));
        self
    }

    /// Drops every `name`.
    pub fn remove(mut self, name: &str) -> AuthRequest {
        self.0.retain(|(k, _)| k != name);
        self
    }

    /// Adds an S256 challenge.
    pub fn pkce(self, pkce: &Pkce) -> AuthRequest {
        self.set("code_challenge", &pkce.challenge)
            .set("code_challenge_method", "S256")
    }

    /// The request as `/authorize?…`.
    pub fn path(&self) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.0)
            .finish();
        format!("/authorize?{query}")
    }
}
