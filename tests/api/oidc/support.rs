//! Fixtures of the OIDC suites: the real app on a [`FixedClock`] set to the real time
//! (the `openidconnect` RP library checks `iat`/`exp` against the system clock), seeded
//! through the admin library, and authorization requests. The browser hops live in
//! `browser.rs`, the RP back-channel calls in `back_channel.rs`; both are re-exported
//! here so suites import one module.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use countersign::audit::Actor;
use countersign::clock::{Clock, FixedClock};
use countersign::manage::{self, ClientSpec, NewUser, ScopeChanges};
use countersign::store::Store;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

use crate::helpers::{http_client, TestDb};
use crate::web::{url_on, Server};

pub use super::back_channel::*;
pub use super::browser::*;
/// Alice's password, the redirect URI every test client registers, and the post-logout
/// redirect URI the confidential client registers.
pub use crate::web::{PASSWORD, POST_LOGOUT_URI, REDIRECT_URI};

/// The `state` the hand-made authorization requests send.
pub const STATE: &str = "state-8d1f";
/// The `nonce` the hand-made authorization requests send.
pub const NONCE: &str = "nonce-42a7";
/// The scopes the clients may ask for, and what the requests ask by default.
pub const SCOPES: &str = "openid profile email offline_access";
/// A scope without a user, for client_credentials.
pub const SERVICE_SCOPE: &str = "reports.read";

/// A seeded user.
pub struct User {
    /// `sub`.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Email address.
    pub email: String,
}

/// A registered client and its secret (none for a public client).
#[derive(Clone)]
pub struct TestClient {
    /// Its id.
    pub client_id: String,
    /// Its secret, shown once at registration.
    pub secret: Option<String>,
}

/// The app and its fixtures.
pub struct OidcApp {
    /// `http://127.0.0.1:<port>`, exactly as configured.
    pub issuer: String,
    /// The app's database.
    pub store: Store,
    /// The app's clock (starts at the real time); advance it instead of sleeping.
    pub clock: FixedClock,
    /// A plain client (no cookies, no redirects): the RP's back channel.
    pub http: reqwest::Client,
    /// A user with a password.
    pub alice: User,
    /// A confidential client (client_secret_basic) for `SCOPES`, with a post-logout URI.
    pub rp: TestClient,
    /// A public client (auth method none, PKCE required) for `SCOPES`.
    pub spa: TestClient,
    /// Dropped with the app: stops the server.
    _server: Server,
}

impl OidcApp {
    /// `issuer + path`; an absolute URL is returned unchanged.
    pub fn url(&self, path: &str) -> String {
        url_on(&self.issuer, path)
    }

    /// The app's now.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Registers a client (defaults: confidential, `REDIRECT_URI`, `SCOPES`).
    pub fn add_client(&self, spec: ClientSpec) -> TestClient {
        let spec = ClientSpec {
            name: if spec.name.is_empty() {
                "Another client".into()
            } else {
                spec.name
            },
            redirect_uris: if spec.redirect_uris.is_empty() {
                vec![REDIRECT_URI.into()]
            } else {
                spec.redirect_uris
            },
            scopes: if spec.scopes.is_empty() {
                SCOPES.split(' ').map(str::to_owned).collect()
            } else {
                spec.scopes
            },
            ..spec
        };
        let new = manage::add_client(&self.store, spec, &Actor::Cli, self.now()).expect("client");
        TestClient {
            client_id: new.row.client_id.into_string(),
            secret: new.secret,
        }
    }

    /// Creates the non-user scope `SERVICE_SCOPE`.
    pub fn add_service_scope(&self) {
        let changes = ScopeChanges {
            description: Some("Read reports".into()),
            ..ScopeChanges::default()
        };
        manage::add_scope(&self.store, SERVICE_SCOPE, changes, &Actor::Cli, self.now())
            .expect("scope");
    }
}

/// Builds the real application on `db`, with its clock at the real time, and seeds
/// alice, the confidential client `rp` and the public client `spa`.
pub async fn spawn_oidc_app(db: &TestDb) -> OidcApp {
    let server = Server::start(db, false).await;
    let (issuer, clock) = (server.issuer.clone(), server.clock.clone());
    let store = db.store();
    let now = clock.now();
    let alice = manage::add_user(
        &store,
        NewUser {
            username: "alice".into(),
            email: "alice@example.com".into(),
            name: Some("Alice Liddell".into()),
            password: Some(SecretString::from(PASSWORD)),
        },
        &Actor::Cli,
        now,
    )
    .expect("alice");
    let mut app = OidcApp {
        issuer,
        store,
        clock,
        http: http_client(),
        alice: User {
            id: alice.id.into_string(),
            username: alice.username,
            name: "Alice Liddell".into(),
            email: alice.email,
        },
        rp: TestClient {
            client_id: String::new(),
            secret: None,
        },
        spa: TestClient {
            client_id: String::new(),
            secret: None,
        },
        _server: server,
    };
    app.rp = app.add_client(ClientSpec {
        name: "Relying Party".into(),
        post_logout_redirect_uris: vec![POST_LOGOUT_URI.into()],
        ..ClientSpec::default()
    });
    app.spa = app.add_client(ClientSpec {
        name: "Single Page App".into(),
        public: true,
        ..ClientSpec::default()
    });
    app
}

/// A fresh database and the app on it; keep the `TestDb` as long as the app.
pub async fn fresh_app() -> (TestDb, OidcApp) {
    let db = TestDb::new();
    let app = spawn_oidc_app(&db).await;
    (db, app)
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
