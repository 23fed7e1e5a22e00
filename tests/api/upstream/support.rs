//! Two countersigns: the downstream one under test (seeded like the countersignature
//! suites: alice, bob, `approvers`, `payments:write`) and an upstream one whose client
//! redirects to the downstream callback. Each side has its own cookie jar, as two
//! host names would (cookies ignore ports, so one jar would mix their sessions).

use countersign::audit::Actor;
use countersign::crypto::Sealer;
use countersign::manage::{self, ClientSpec, NewUpstream, UPSTREAM_SECRET_PURPOSE};
use reqwest::Response;
use secrecy::SecretString;

use crate::approval::support::ApprovalSeed;
use crate::helpers::{
    browser, hidden_input, submit_login, url_on, TestApp, TestAppBuilder, User, PASSWORD,
    TEST_SECRET_KEY,
};

/// The upstream's name at the downstream.
pub const UPSTREAM: &str = "corp";
/// The upstream group mapped to the downstream's `approvers`.
pub const UPSTREAM_APPROVERS: &str = "idp-approvers";
/// The scopes asked of the upstream.
pub const UPSTREAM_SCOPES: &str = "openid profile email groups";

/// The downstream app, the upstream app and its user.
pub struct Brokering {
    /// The app under test.
    pub down: TestApp<ApprovalSeed>,
    /// The upstream provider.
    pub up: TestApp,
    /// A user of the upstream, in `UPSTREAM_APPROVERS` and `staff`.
    pub ursula: User,
}

/// The downstream callback URL of upstream `name`.
pub fn callback_url<S>(down: &TestApp<S>, name: &str) -> String {
    down.url(&format!("/login/upstream/{name}/callback"))
}

/// Registers an upstream at `down` as the CLI does.
pub fn add_upstream<S>(
    down: &TestApp<S>,
    name: &str,
    issuer: &str,
    client_id: &str,
    secret: &str,
    map: &[(&str, &str)],
) {
    let sealer = Sealer::for_purpose(
        &SecretString::from(TEST_SECRET_KEY),
        UPSTREAM_SECRET_PURPOSE,
    );
    let new = NewUpstream {
        name: name.into(),
        issuer: issuer.into(),
        client_id: client_id.into(),
        client_secret: SecretString::from(secret),
        scope: UPSTREAM_SCOPES.into(),
        groups_claim: Some("groups".into()),
        group_map: map
            .iter()
            .map(|(u, l)| ((*u).to_owned(), (*l).to_owned()))
            .collect(),
    };
    manage::add_upstream(&down.store, &sealer, new, &Actor::Cli, down.now()).expect("upstream");
}

impl Brokering {
    /// Both apps: the downstream (options `down`) first, to learn its callback URL.
    pub async fn start(down: TestAppBuilder) -> Brokering {
        let down = down.spawn().await.seeded(ApprovalSeed::seed);
        let up = TestApp::builder().spawn().await;
        for group in [UPSTREAM_APPROVERS, "staff"] {
            up.add_group(group);
        }
        let ursula = up.add_user(
            "ursula",
            Some("Ursula Upstream"),
            &[UPSTREAM_APPROVERS, "staff"],
        );
        let client = up.add_client(ClientSpec {
            name: "Countersign downstream".into(),
            redirect_uris: vec![callback_url(&down, UPSTREAM)],
            post_logout_redirect_uris: vec![down.url("/logout/upstream/done")],
            scopes: UPSTREAM_SCOPES.split(' ').map(str::to_owned).collect(),
            ..ClientSpec::default()
        });
        let secret = client.secret.clone().expect("a confidential client");
        add_upstream(
            &down,
            UPSTREAM,
            &up.issuer,
            &client.client_id,
            &secret,
            &[(UPSTREAM_APPROVERS, "approvers"), ("staff", "approvers")],
        );
        Brokering { down, up, ursula }
    }

    /// The default setup.
    pub async fn new() -> Brokering {
        Brokering::start(TestApp::builder()).await
    }
}

/// One person's browser: a jar for the downstream host and one for the upstream's.
pub struct Browsers {
    /// At the downstream.
    pub down: reqwest::Client,
    /// At the upstream.
    pub up: reqwest::Client,
}

impl Browsers {
    /// Fresh jars.
    pub fn new() -> Browsers {
        Browsers {
            down: browser(),
            up: browser(),
        }
    }
}

/// The `Location` of a 303.
pub fn location(response: &Response) -> String {
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER, "a 303");
    response
        .headers()
        .get("location")
        .expect("a Location")
        .to_str()
        .unwrap()
        .to_owned()
}

impl Brokering {
    /// From `start_path` at the downstream, through the upstream (signing in as `who`
    /// and consenting when asked), up to the downstream callback URL (not yet opened).
    pub async fn to_callback(&self, browsers: &Browsers, start_path: &str, who: &User) -> String {
        let response = self.down.get(&browsers.down, start_path).await;
        let mut next = location(&response);
        let callback = callback_url(&self.down, UPSTREAM);
        let mut hops = 0;
        while !next.starts_with(&callback) {
            hops += 1;
            assert!(hops <= 6, "the upstream never redirected back: {next}");
            let url = url_on(&self.up.issuer, &next);
            let response = if next.starts_with("/login?") {
                submit_login(
                    &browsers.up,
                    &self.up.issuer,
                    &next,
                    &who.username,
                    PASSWORD,
                )
                .await
            } else if next.starts_with("/consent?") {
                let html = browsers
                    .up
                    .get(&url)
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                let form = [
                    ("request", hidden_input(&html, "request").expect("request")),
                    ("decision", "allow".to_owned()),
                    (
                        "csrf_token",
                        hidden_input(&html, "csrf_token").expect("csrf"),
                    ),
                ];
                let consent = url_on(&self.up.issuer, "/consent");
                browsers.up.post(consent).form(&form).send().await.unwrap()
            } else {
                browsers.up.get(&url).send().await.unwrap()
            };
            next = location(&response);
        }
        next
    }

    /// The whole sign-in from `start_path`: returns the downstream callback's answer.
    pub async fn sign_in(&self, browsers: &Browsers, start_path: &str, who: &User) -> Response {
        let callback = self.to_callback(browsers, start_path, who).await;
        browsers.down.get(&callback).send().await.unwrap()
    }

    /// The downstream user linked to ursula, if any: `(username, has password, groups)`.
    pub fn linked(&self) -> Option<(String, bool, Vec<String>)> {
        let users = manage::list_users(&self.down.store).unwrap();
        let groups = manage::list_groups(&self.down.store).unwrap();
        let user = users
            .into_iter()
            .find(|u| u.name.as_deref() == Some("Ursula Upstream"))?;
        let member_of = groups
            .iter()
            .filter(|(_, members)| members.contains(&user.username))
            .map(|(g, _)| g.name.clone())
            .collect();
        Some((user.username, user.password_hash.is_some(), member_of))
    }
}

/// The path starting a sign-in at the upstream.
pub fn start_path() -> String {
    format!("/login/upstream/{UPSTREAM}")
}
