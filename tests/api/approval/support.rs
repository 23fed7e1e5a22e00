//! Fixtures of the countersignature suites: the real app, served on its own thread with
//! its clock pinned at the real time (so JWT libraries agree with it), and its users,
//! groups, sensitive scope and client, seeded through the admin library. The browser
//! hops are in `browser.rs`, the client's side in `client.rs`, the audit log and the
//! CLI in `records.rs`.

use countersign::audit::Actor;
use countersign::clock::{Clock, FixedClock};
use countersign::manage::{self, ClientSpec, NewUser, ScopeChanges};
use countersign::store::Store;
use secrecy::SecretString;

use crate::helpers::{http_client, TestDb};
pub use crate::web::{browser, PASSWORD, POST_LOGOUT_URI, REDIRECT_URI};
use crate::web::{url_on, Server};

/// The `state` every authorization request sends.
pub const STATE: &str = "state-5e1c";
/// The `nonce` every authorization request sends.
pub const NONCE: &str = "nonce-77b0";
/// The sensitive scope.
pub const SENSITIVE: &str = "payments:write";
/// What the requests ask for by default.
pub const SCOPES: &str = "openid profile email offline_access payments:write";
/// The approver group of `SENSITIVE`.
pub const APPROVERS: &str = "approvers";

/// A seeded user.
#[derive(Debug, Clone)]
pub struct Person {
    /// `sub`.
    pub id: String,
    /// Login name.
    pub username: String,
}

/// The registered confidential client.
#[derive(Debug, Clone)]
pub struct TestClient {
    /// Its id.
    pub client_id: String,
    /// Its secret.
    pub secret: String,
}

/// The app, its users and its client.
pub struct App {
    /// The running server.
    pub server: Server,
    /// The app's database.
    pub store: Store,
    /// The database URL (for the CLI).
    pub db_url: String,
    /// A plain client (no cookies, no redirects): the RP's back channel.
    pub http: reqwest::Client,
    /// The requester.
    pub alice: Person,
    /// An approver (group `approvers`).
    pub bob: Person,
    /// Another approver (group `approvers`).
    pub carol: Person,
    /// Signed in, but in no approver group.
    pub dave: Person,
    /// Member of `admins`.
    pub admin: Person,
    /// The confidential client (client_secret_basic).
    pub client: TestClient,
}

impl App {
    /// The standard fixture: alice, bob and carol (`approvers`), dave, admin (`admins`);
    /// `payments:write` sensitive (1 approval from `approvers`); a confidential client
    /// for `SCOPES` with authorization_code + refresh_token.
    pub async fn spawn(db: &TestDb) -> App {
        let server = Server::start(db, false).await;
        let store = db.store();
        let now = server.clock.now();
        for group in [APPROVERS, "admins"] {
            manage::add_group(&store, group, &Actor::Cli, now).expect("group");
        }
        let user = |username: &str| {
            let row = manage::add_user(
                &store,
                NewUser {
                    username: username.into(),
                    email: format!("{username}@example.com"),
                    name: None,
                    password: Some(SecretString::from(PASSWORD)),
                },
                &Actor::Cli,
                now,
            )
            .expect("user");
            Person {
                id: row.id.into_string(),
                username: row.username,
            }
        };
        let (alice, bob, carol, dave, admin_user) = (
            user("alice"),
            user("bob"),
            user("carol"),
            user("dave"),
            user("admin"),
        );
        for (group, member) in [
            (APPROVERS, &bob),
            (APPROVERS, &carol),
            ("admins", &admin_user),
        ] {
            manage::add_member(&store, group, &member.username, &Actor::Cli, now).expect("member");
        }
        let policy = ScopeChanges {
            description: Some("Make payments from your account".into()),
            sensitive: Some(true),
            approver_groups: Some(vec![APPROVERS.into()]),
            quorum: Some(1),
            ..ScopeChanges::default()
        };
        manage::add_scope(&store, SENSITIVE, policy, &Actor::Cli, now).expect("scope");
        let spec = ClientSpec {
            name: "Payments App".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            scopes: SCOPES.split(' ').map(str::to_owned).collect(),
            public: false,
            post_logout_redirect_uris: vec![POST_LOGOUT_URI.into()],
            grant_types: vec![],
            ..ClientSpec::default()
        };
        let new = manage::add_client(&store, spec, &Actor::Cli, now).expect("client");
        App {
            server,
            store,
            db_url: db.url(),
            http: http_client(),
            alice,
            bob,
            carol,
            dave,
            admin: admin_user,
            client: TestClient {
                client_id: new.row.client_id.into_string(),
                secret: new.secret.expect("a confidential client has a secret"),
            },
        }
    }

    /// The app as `serve --demo` seeds it (alice, bob, carol, admin, `payments:write`,
    /// the public demo client), with `PASSWORD` set for the demo users and dave added.
    pub async fn spawn_demo(db: &TestDb) -> App {
        let server = Server::start(db, true).await;
        let store = db.store();
        let now = server.clock.now();
        let users = manage::list_users(&store).expect("users");
        let person = |username: &str| {
            manage::set_password(
                &store,
                username,
                &SecretString::from(PASSWORD),
                &Actor::Cli,
                now,
            )
            .expect("password");
            let row = users
                .iter()
                .find(|u| u.username == username)
                .expect("a demo user");
            Person {
                id: row.id.to_string(),
                username: row.username.clone(),
            }
        };
        let (alice, bob, carol, admin_user) = (
            person("alice"),
            person("bob"),
            person("carol"),
            person("admin"),
        );
        let demo_client = manage::list_clients(&store)
            .expect("clients")
            .into_iter()
            .find(|c| c.name == countersign::demo::CLIENT_NAME)
            .expect("the demo client");
        let app = App {
            server,
            store,
            db_url: db.url(),
            http: http_client(),
            dave: alice.clone(),
            alice,
            bob,
            carol,
            admin: admin_user,
            client: TestClient {
                client_id: demo_client.client_id.into_string(),
                secret: String::new(),
            },
        };
        let dave = app.add_user("dave", &[]);
        App { dave, ..app }
    }

    /// The issuer, exactly as configured.
    pub fn issuer(&self) -> &str {
        &self.server.issuer
    }

    /// The app's clock.
    pub fn clock(&self) -> &FixedClock {
        &self.server.clock
    }

    /// The app's now.
    pub fn now(&self) -> i64 {
        self.server.clock.now()
    }

    /// `issuer + path`; an absolute URL is returned unchanged.
    pub fn url(&self, path: &str) -> String {
        url_on(&self.server.issuer, path)
    }

    /// Changes the policy of `SENSITIVE`.
    pub fn set_policy(&self, changes: ScopeChanges) {
        manage::update_scope(&self.store, SENSITIVE, changes, &Actor::Cli, self.now())
            .expect("policy update");
    }

    /// Creates a group.
    pub fn add_group(&self, name: &str) {
        manage::add_group(&self.store, name, &Actor::Cli, self.now()).expect("group");
    }

    /// Adds `who` to `group`.
    pub fn add_member(&self, group: &str, who: &Person) {
        manage::add_member(&self.store, group, &who.username, &Actor::Cli, self.now())
            .expect("member");
    }

    /// Creates a user with `PASSWORD`, member of `groups`.
    pub fn add_user(&self, username: &str, groups: &[&str]) -> Person {
        let row = manage::add_user(
            &self.store,
            NewUser {
                username: username.into(),
                email: format!("{username}@example.com"),
                name: None,
                password: Some(SecretString::from(PASSWORD)),
            },
            &Actor::Cli,
            self.now(),
        )
        .expect("user");
        let person = Person {
            id: row.id.into_string(),
            username: row.username,
        };
        for group in groups {
            self.add_member(group, &person);
        }
        person
    }

    /// Stops the server and starts a new one on the same database (a restart).
    pub async fn restart(&mut self, db: &TestDb) -> String {
        let old_issuer = self.server.issuer.clone();
        let replacement = Server::start(db, false).await;
        std::mem::replace(&mut self.server, replacement).stop();
        old_issuer
    }
}
