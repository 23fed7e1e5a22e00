//! Fixtures of the countersignature suites: the shared [`TestApp`] (clock at the real
//! time, so JWT libraries agree with it) seeded with [`ApprovalSeed`]: users, groups,
//! the sensitive scope and a client. The browser
//! hops are in `browser.rs`, the client's side in `client.rs`, the audit log and the
//! CLI in `records.rs`.

use countersign::audit::Actor;
use countersign::manage::{self, ClientSpec, ScopeChanges};
use secrecy::SecretString;

pub use crate::helpers::{
    browser, TestApp, TestClient, User, PASSWORD, POST_LOGOUT_URI, REDIRECT_URI,
};

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

/// The users and the client of the countersignature suites.
pub struct ApprovalSeed {
    /// The requester.
    pub alice: User,
    /// An approver (group `approvers`).
    pub bob: User,
    /// Another approver (group `approvers`).
    pub carol: User,
    /// Signed in, but in no approver group.
    pub dave: User,
    /// Member of `admins`.
    pub admin: User,
    /// The client the requests are made for.
    pub client: TestClient,
}

impl ApprovalSeed {
    /// The standard seed: alice, bob and carol (`approvers`), dave, admin (`admins`);
    /// `payments:write` sensitive (1 approval from `approvers`); a confidential client
    /// (client_secret_basic) for `SCOPES` with authorization_code + refresh_token.
    pub fn seed(app: &TestApp) -> ApprovalSeed {
        for group in [APPROVERS, "admins"] {
            app.add_group(group);
        }
        let user = |username: &str| app.add_user(username, None, &[]);
        let (alice, bob, carol, dave, admin) = (
            user("alice"),
            user("bob"),
            user("carol"),
            user("dave"),
            user("admin"),
        );
        for (group, member) in [(APPROVERS, &bob), (APPROVERS, &carol), ("admins", &admin)] {
            app.add_member(group, member);
        }
        let policy = ScopeChanges {
            description: Some("Make payments from your account".into()),
            sensitive: Some(true),
            approver_groups: Some(vec![APPROVERS.into()]),
            quorum: Some(1),
            ..ScopeChanges::default()
        };
        app.add_scope(SENSITIVE, policy);
        let client = app.add_client(ClientSpec {
            name: "Payments App".into(),
            scopes: SCOPES.split(' ').map(str::to_owned).collect(),
            post_logout_redirect_uris: vec![POST_LOGOUT_URI.into()],
            ..ClientSpec::default()
        });
        assert!(
            client.secret.is_some(),
            "a confidential client has a secret"
        );
        ApprovalSeed {
            alice,
            bob,
            carol,
            dave,
            admin,
            client,
        }
    }

    /// What `serve --demo` seeds (alice, bob, carol, admin, `payments:write`, the public
    /// demo client), with `PASSWORD` set for the demo users and dave added.
    pub fn demo(app: &TestApp) -> ApprovalSeed {
        let users = manage::list_users(&app.store).expect("users");
        let user = |username: &str| {
            manage::set_password(
                &app.store,
                username,
                &SecretString::from(PASSWORD),
                &Actor::Cli,
                app.now(),
            )
            .expect("password");
            let row = users
                .iter()
                .find(|u| u.username == username)
                .expect("a demo user");
            User {
                id: row.id.to_string(),
                username: row.username.clone(),
                name: row.name.clone(),
                email: row.email.clone(),
            }
        };
        let (alice, bob, carol, admin) = (user("alice"), user("bob"), user("carol"), user("admin"));
        let demo_client = manage::list_clients(&app.store)
            .expect("clients")
            .into_iter()
            .find(|c| c.name == countersign::demo::CLIENT_NAME)
            .expect("the demo client");
        ApprovalSeed {
            dave: app.add_user("dave", None, &[]),
            alice,
            bob,
            carol,
            admin,
            client: TestClient {
                client_id: demo_client.client_id.into_string(),
                secret: None,
            },
        }
    }
}

/// A fresh database and the app on it, seeded with [`ApprovalSeed::seed`].
pub async fn approval_app() -> TestApp<ApprovalSeed> {
    TestApp::builder().spawn().await.seeded(ApprovalSeed::seed)
}

/// A fresh database and the app on it as `serve --demo`, seeded with
/// [`ApprovalSeed::demo`].
pub async fn demo_app() -> TestApp<ApprovalSeed> {
    TestApp::builder()
        .demo()
        .spawn()
        .await
        .seeded(ApprovalSeed::demo)
}

impl TestApp<ApprovalSeed> {
    /// Changes the policy of `SENSITIVE`.
    pub fn set_policy(&self, changes: ScopeChanges) {
        self.update_scope(SENSITIVE, changes);
    }

    /// Sets the quorum of `SENSITIVE`.
    pub fn set_quorum(&self, quorum: i64) {
        self.set_policy(ScopeChanges {
            quorum: Some(quorum),
            ..ScopeChanges::default()
        });
    }
}
