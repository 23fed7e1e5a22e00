//! `kill -9` with work in flight: the real binary is killed with SIGKILL while two
//! approvals are pending, one is approved but not yet continued, one has its code issued
//! but not redeemed, and the notifications about them are queued for a webhook receiver
//! that is down. Started again on the same database, port and secret key, it has lost
//! none of it: every approval is decided and completed to tokens, the code redeems
//! exactly once, every queued notification reaches the receiver once it is up (each
//! exactly once, by its `webhook-id`), and no approval is decided twice.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use countersign::audit::Actor;
use countersign::ids::ApprovalId;
use countersign::manage::{self, ClientSpec, NewUser, NotifyChanges, ScopeChanges};
use countersign::store::{self, OutboxFilter, OutboxRow, Store};
use reqwest::{Response, StatusCode};
use secrecy::SecretString;

use crate::approval::client::{jwt_payload, waiting_of};
use crate::helpers::{
    assert_oauth_error, hidden_input, redirect_params, see_other, see_other_to, submit_login,
    tokens_of, HttpReceiver, ServeProcess, TcpGate, TestDb, Tokens, PASSWORD, REDIRECT_URI,
};

/// What alice asks for: `payments:write` needs bob's countersignature.
const SCOPES: &str = "openid profile offline_access payments:write";
const STATE: &str = "state-c4a5";
const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The first run's worker makes its pass at start and the next an hour later, so every
/// notification written meanwhile is still queued when the process dies: what a crash
/// leaves whenever rows were written after the worker's last pass.
const IDLE_WORKER: &[(&str, &str)] = &[
    ("COUNTERSIGN_NOTIFY__WEBHOOK_SECRET", WEBHOOK_SECRET),
    ("COUNTERSIGN_NOTIFY__REMINDER_BEFORE", "off"),
    ("COUNTERSIGN_NOTIFY__POLL_INTERVAL", "1h"),
];
/// The second run's worker looks for due rows every 100 ms.
const BUSY_WORKER: &[(&str, &str)] = &[
    ("COUNTERSIGN_NOTIFY__WEBHOOK_SECRET", WEBHOOK_SECRET),
    ("COUNTERSIGN_NOTIFY__REMINDER_BEFORE", "off"),
    ("COUNTERSIGN_NOTIFY__POLL_INTERVAL", "100ms"),
];

/// The client and its secret.
struct Rp {
    client_id: String,
    secret: String,
}

/// alice, bob (group `approvers`), `payments:write` (one approval from `approvers`), a
/// confidential client, and `approvers` notified by webhook at `webhook`.
fn seed(store: &Store, webhook: &str) -> Rp {
    let (actor, now) = (Actor::Cli, chrono::Utc::now().timestamp());
    for username in ["alice", "bob"] {
        let user = NewUser {
            username: username.into(),
            email: format!("{username}@example.com"),
            name: None,
            password: Some(SecretString::from(PASSWORD)),
        };
        manage::add_user(store, user, &actor, now).expect("user");
    }
    manage::add_group(store, "approvers", &actor, now).expect("group");
    manage::add_member(store, "approvers", "bob", &actor, now).expect("member");
    let policy = ScopeChanges {
        description: Some("Make payments".into()),
        sensitive: Some(true),
        approver_groups: Some(vec!["approvers".into()]),
        quorum: Some(1),
        ..ScopeChanges::default()
    };
    manage::add_scope(store, "payments:write", policy, &actor, now).expect("scope");
    let channels = NotifyChanges {
        webhook: Some(webhook.into()),
        ..NotifyChanges::default()
    };
    manage::set_group_notify(store, "approvers", channels, &actor, now).expect("webhook");
    let client = ClientSpec {
        name: "Payments App".into(),
        redirect_uris: vec![REDIRECT_URI.into()],
        scopes: SCOPES.split(' ').map(str::to_owned).collect(),
        ..ClientSpec::default()
    };
    let client = manage::add_client(store, client, &actor, now).expect("client");
    Rp {
        client_id: client.row.client_id.into_string(),
        secret: client.secret.expect("a confidential client"),
    }
}

/// A browser (cookies, no redirects) that opens a new connection for every request, so
/// none of its requests goes to a connection of the killed process.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .expect("browser")
}

/// The hops of the countersigned flow against a served issuer (the same across runs).
struct Flow {
    issuer: String,
    rp: Rp,
}

impl Flow {
    fn url(&self, path: &str) -> String {
        crate::helpers::url_on(&self.issuer, path)
    }

    async fn get(&self, browser: &reqwest::Client, path: &str) -> Response {
        browser.get(self.url(path)).send().await.expect("GET")
    }

    fn authorize_path(&self) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("response_type", "code"),
                ("client_id", self.rp.client_id.as_str()),
                ("redirect_uri", REDIRECT_URI),
                ("scope", SCOPES),
                ("state", STATE),
                ("nonce", "nonce-c4a5"),
            ])
            .finish();
        format!("/authorize?{query}")
    }

    /// alice signs in, consents and lands on the waiting page; returns the approval id.
    async fn first_request(&self, alice: &reqwest::Client) -> String {
        let response = self.get(alice, &self.authorize_path()).await;
        let login = see_other_to(&response, "/login?request=");
        let response = submit_login(alice, &self.issuer, &login, "alice", PASSWORD).await;
        let resume = see_other_to(&response, "/authorize/continue?request=");
        let response = self.get(alice, &resume).await;
        let consent = see_other_to(&response, "/consent?request=");
        let html = self.get(alice, &consent).await.text().await.unwrap();
        let form = [
            ("request", hidden_input(&html, "request").expect("request")),
            ("decision", "allow".into()),
            (
                "csrf_token",
                hidden_input(&html, "csrf_token").expect("CSRF"),
            ),
        ];
        let response = alice.post(self.url("/consent")).form(&form).send().await;
        waiting_of(&response.expect("POST /consent"))
    }

    /// alice, signed in and consented before: straight to a new waiting page.
    async fn another_request(&self, alice: &reqwest::Client) -> String {
        waiting_of(&self.get(alice, &self.authorize_path()).await)
    }

    /// bob signs in through a bare `/login`.
    async fn sign_in_bob(&self, bob: &reqwest::Client) {
        let response = submit_login(bob, &self.issuer, "/login", "bob", PASSWORD).await;
        assert_eq!(see_other(&response), "/approvals");
    }

    /// bob approves `id` from its review page.
    async fn approve(&self, bob: &reqwest::Client, id: &str) {
        let page = self.get(bob, &format!("/approvals/{id}")).await;
        assert_eq!(page.status(), StatusCode::OK, "bob's review page of {id}");
        let csrf = hidden_input(&page.text().await.unwrap(), "csrf_token").expect("CSRF");
        let form = [("decision", "approve"), ("csrf_token", csrf.as_str())];
        let vote = bob.post(self.url(&format!("/approvals/{id}"))).form(&form);
        let vote = vote.send().await.expect("POST the vote");
        assert_eq!(see_other(&vote), format!("/approvals/{id}"), "vote on {id}");
    }

    /// Approved: the waiting page continues, and the client gets a code.
    async fn code_after_approval(&self, alice: &reqwest::Client, id: &str) -> String {
        let waiting = self.get(alice, &format!("/approvals/{id}/waiting")).await;
        let resume = see_other_to(&waiting, "/authorize/continue?request=");
        let params = redirect_params(&self.get(alice, &resume).await);
        assert_eq!(params.get("state").map(String::as_str), Some(STATE));
        assert_eq!(params.get("iss"), Some(&self.issuer), "RFC 9207 iss");
        params.get("code").expect("a code").clone()
    }

    async fn exchange(&self, code: &str) -> Response {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
        ];
        reqwest::Client::new()
            .post(self.url("/token"))
            .basic_auth(&self.rp.client_id, Some(&self.rp.secret))
            .form(&form)
            .send()
            .await
            .expect("POST /token")
    }
}

/// Asserts `tokens` carry the evidence of approval `id`.
fn assert_countersigned(tokens: &Tokens, id: &str) {
    let id_token = jwt_payload(tokens.id_token.as_deref().expect("an ID token"));
    assert_eq!(id_token["approval"]["id"], id, "{id_token}");
    assert!(tokens.scope.contains("payments:write"), "{}", tokens.scope);
}

/// The outbox rows for the webhook (alice is also told of decisions by mail, which
/// this server has no SMTP settings for: those rows are dead letters at once).
fn outbox(store: &Store) -> Vec<OutboxRow> {
    let rows = store.read(|c| store::list_outbox(c, OutboxFilter::All, 1000));
    let rows = rows.expect("outbox rows").into_iter();
    rows.filter(|row| row.target.starts_with("webhook:"))
        .collect()
}

/// Polls the outbox until `done` holds for it; at most `within`.
async fn outbox_until(
    store: &Store,
    what: &str,
    within: Duration,
    done: impl Fn(&[OutboxRow]) -> bool,
) {
    let deadline = Instant::now() + within;
    loop {
        let rows = outbox(store);
        if done(&rows) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {rows:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The actions of the audit events about approval `id`, in order.
fn history(store: &Store, id: &str) -> Vec<String> {
    let rows = store.read(|c| store::audit_rows_after(c, 0, 10_000));
    let target = format!("approval:{id}");
    let rows = rows.expect("audit rows").into_iter();
    rows.filter(|row| row.target == target)
        .map(|row| row.action)
        .collect()
}

#[tokio::test]
async fn a_server_killed_with_work_in_flight_loses_nothing_and_decides_nothing_twice() {
    // Arrange: the webhook receiver is down (behind a closed gate), the worker idle.
    let db = TestDb::new();
    let store = db.store();
    let receiver = HttpReceiver::start();
    let gate = TcpGate::to(receiver.url["http://".len()..].parse().unwrap());
    gate.close();
    let webhook = format!("http://127.0.0.1:{}/hooks", gate.port());
    let data_dir = tempfile::tempdir().unwrap();
    let port = ServeProcess::free_port();
    let db_url = db.url();
    let serve = |env| ServeProcess::start(&db_url, data_dir.path(), port, env);
    let server = serve(IDLE_WORKER).await;
    let flow = Flow {
        issuer: server.issuer.clone(),
        rp: seed(&store, &webhook),
    };
    let (alice, bob) = (browser(), browser());
    let pending = [
        flow.first_request(&alice).await,
        flow.another_request(&alice).await,
    ];
    let approved = flow.another_request(&alice).await;
    let issued = flow.another_request(&alice).await;
    flow.sign_in_bob(&bob).await;
    flow.approve(&bob, &approved).await;
    flow.approve(&bob, &issued).await;
    let code = flow.code_after_approval(&alice, &issued).await;
    let queued = outbox(&store);
    assert_eq!(
        queued.len(),
        6,
        "4 requests and 2 approvals queued: {queued:#?}"
    );
    assert!(queued.iter().all(|r| r.attempts == 0), "none tried yet");
    let queued: Vec<String> = queued.into_iter().map(|row| row.id).collect();

    // Act: kill -9, and start again on the same database, port and key.
    server.kill_9();
    let _server = serve(BUSY_WORKER).await;

    // Assert: the issued code redeems exactly once (well inside its 60 s lifetime).
    assert_countersigned(&tokens_of(flow.exchange(&code).await).await, &issued);
    let replay = flow.exchange(&code).await;
    let why = "the authorization code was already used; tokens issued from it are revoked";
    assert_oauth_error(replay, StatusCode::BAD_REQUEST, "invalid_grant", why).await;
    // Assert: the queued rows are tried (the receiver is still down) and kept.
    outbox_until(
        &store,
        "every queued row tried once",
        Duration::from_secs(10),
        |rows| {
            rows.iter()
                .all(|r| r.attempts >= 1 && r.delivered_at.is_none() && r.dead_at.is_none())
        },
    )
    .await;
    gate.open();
    // Assert: every approval is decided once and completed to tokens, by the same
    // browsers (their sessions survived the kill).
    for id in &pending {
        flow.approve(&bob, id).await;
    }
    for id in pending.iter().chain([&approved]) {
        let code = flow.code_after_approval(&alice, id).await;
        assert_countersigned(&tokens_of(flow.exchange(&code).await).await, id);
    }
    for id in pending.iter().chain([&approved, &issued]) {
        let once = [
            "approval.requested",
            "approval.vote",
            "approval.approved",
            "approval.redeemed",
        ];
        assert_eq!(history(&store, id), once, "{id}");
        let votes = store.read(|c| store::decisions_for(c, &ApprovalId::new(id.as_str())));
        assert_eq!(votes.unwrap().len(), 1, "one vote on {id}");
    }
    // Assert: every notification is delivered, each exactly once.
    outbox_until(
        &store,
        "every row delivered",
        Duration::from_secs(15),
        |rows| rows.iter().all(|r| r.delivered_at.is_some()),
    )
    .await;
    let rows = outbox(&store);
    let mut received: HashMap<String, usize> = HashMap::new();
    for request in receiver.received() {
        assert_eq!(request.path, "/hooks");
        let id = request
            .header("webhook-id")
            .expect("a webhook-id")
            .to_owned();
        *received.entry(id).or_default() += 1;
    }
    let expected: HashMap<String, usize> = rows.iter().map(|r| (r.id.clone(), 1)).collect();
    assert_eq!(received, expected, "each notification exactly once");
    assert!(
        queued.iter().all(|id| received.contains_key(id)),
        "nothing queued was lost"
    );
    let mut conn = store.conn().unwrap();
    let verification = countersign::audit::verify(&mut conn).expect("verify runs");
    assert_eq!(
        verification.broken, None,
        "the audit chain survives the kill"
    );
}
