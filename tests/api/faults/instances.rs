//! Two instances on one database behind one issuer, no sticky sessions (SQLite: two
//! servers on one file; PostgreSQL: two pools on one database): a countersigned flow
//! moves between them at every hop and ends in tokens, a refresh token works on either
//! and stays single use across both, and a key rotated by the CLI is published and used
//! by both within the key cache's refresh bound (and a token naming the new key is
//! accepted at once by an instance that has not seen it yet); and instances starting together on a fresh database create one
//! signing key per algorithm between them.

use std::process::{Command, Stdio};

use countersign::crypto::{KeyAlg, KeyRing, KeyState, Sealer, KEY_REFRESH_SECONDS};
use countersign::manage;
use countersign::store;
use reqwest::{Response, StatusCode};
use secrecy::SecretString;
use serde_json::Value;

use crate::approval::client::jwt_payload;
use crate::approval::support::{approval_app, browser, TestClient, PASSWORD};
use crate::helpers::{
    assert_oauth_error, hidden_input, jwt_part, see_other, see_other_to, submit_login, tokens_of,
    Instance, TestApp, TestDb, Tokens, TEST_SECRET_KEY,
};
use crate::oidc::support::{oidc_app, tokens_for, AuthRequest};

/// `grant_type=refresh_token` for `client` at `base` (either instance).
async fn refresh_at<S>(app: &TestApp<S>, base: &str, client: &TestClient, token: &str) -> Response {
    let form = [("grant_type", "refresh_token"), ("refresh_token", token)];
    let secret = client.secret.as_deref();
    let request = app.http.post(format!("{base}/token"));
    let request = request.basic_auth(&client.client_id, secret).form(&form);
    request.send().await.expect("POST /token")
}

/// The `kid`s of the JWK Set one instance serves now.
async fn published_kids(http: &reqwest::Client, base: &str) -> Vec<Value> {
    let jwks = http.get(format!("{base}/jwks.json")).send().await.unwrap();
    let jwks: Value = jwks.json().await.unwrap();
    let keys = jwks["keys"].as_array().expect("a key set").iter();
    keys.map(|key| key["kid"].clone()).collect()
}

/// The `kid` a JWT's header names.
fn kid_of(token: &str) -> Value {
    jwt_part(token, 0)["kid"].clone()
}

#[tokio::test]
async fn a_countersigned_flow_moves_between_two_instances_at_every_hop() {
    // Arrange
    let app = approval_app().await;
    let b: Instance = app.another_instance_behind_one_issuer().await;
    // Act: alice asks on A; bob signs in and approves on B.
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let bob = browser();
    let login = submit_login(&bob, &b.issuer, "/login", &app.bob.username, PASSWORD).await;
    assert_eq!(see_other(&login), "/approvals");
    let review = bob.get(b.url(&format!("/approvals/{id}"))).send().await;
    let csrf = hidden_input(&review.unwrap().text().await.unwrap(), "csrf_token");
    let form = [
        ("decision", "approve"),
        ("csrf_token", &csrf.expect("CSRF")),
    ];
    let vote = bob.post(b.url(&format!("/approvals/{id}"))).form(&form);
    assert_eq!(
        see_other(&vote.send().await.unwrap()),
        format!("/approvals/{id}")
    );
    // Act: alice continues on B; the RP redeems the code on A, refreshes on B.
    let waiting = alice
        .get(b.url(&format!("/approvals/{id}/waiting")))
        .send()
        .await;
    let resume = see_other_to(&waiting.unwrap(), "/authorize/continue?request=");
    let code = app.code_of(&alice.get(b.url(&resume)).send().await.unwrap());
    let tokens = app.exchange(&code).await;
    let refresh_token = tokens.refresh_token.clone().expect("a refresh token");
    let refreshed = refresh_at(&app, &b.issuer, &app.client, &refresh_token).await;
    let refreshed = tokens_of(refreshed).await;
    // Assert: one issuer, the evidence carried through, tokens good on either instance.
    for token in [&tokens.access_token, &refreshed.access_token] {
        let claims = jwt_payload(token);
        assert_eq!(claims["iss"], app.issuer.as_str());
        assert_eq!(claims["approval"]["id"], id.as_str(), "{claims}");
        assert_eq!(claims["approval"]["approvers"][0], app.bob.id.as_str());
        assert_eq!(app.introspect(token).await["active"], true);
    }
    let userinfo = app.http.get(b.url("/userinfo"));
    let userinfo = userinfo
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        userinfo.status(),
        StatusCode::OK,
        "A's token at B's userinfo"
    );
    // Assert: the refresh token B rotated is spent on A too (single use, one database).
    let reused = refresh_at(&app, &app.issuer, &app.client, &refresh_token).await;
    let spent = "the refresh token was already used; the grant is revoked";
    assert_oauth_error(reused, StatusCode::BAD_REQUEST, "invalid_grant", spent).await;
    assert_eq!(
        app.introspect(&refreshed.access_token).await["active"],
        false
    );
}

/// `countersign keys rotate` on the app's database, as an operator runs it beside the
/// servers (same secret key, so the servers can open the new keys); returns the new
/// RS256 kid.
fn rotate_with_the_cli<S>(app: &TestApp<S>) -> Value {
    let data_dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_countersign"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("COUNTERSIGN_") || key == "RUST_LOG" {
            command.env_remove(key);
        }
    }
    let output = command
        .current_dir(data_dir.path())
        .env("COUNTERSIGN_DATA_DIR", data_dir.path())
        .env("COUNTERSIGN_SECRET_KEY", TEST_SECRET_KEY)
        .args(["--database-url", &app.db_url(), "keys", "rotate"])
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "keys rotate: {stderr}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("new active key RS256 "));
    let kid = line
        .and_then(|l| l.rsplit(' ').next())
        .expect("a new RS256 key");
    Value::from(kid)
}

/// Asserts every token of `tokens` names `kid`.
fn assert_signed_with(tokens: &Tokens, kid: &Value, by: &str) {
    let id_token = tokens.id_token.as_deref().expect("an ID token");
    assert_eq!(&kid_of(id_token), kid, "the ID token {by} issued");
    assert_eq!(
        &kid_of(&tokens.access_token),
        kid,
        "the access token {by} issued"
    );
}

#[tokio::test]
async fn a_key_rotated_beside_two_instances_is_published_and_used_by_both_within_the_bound() {
    // Arrange: tokens from before the rotation, and what each instance publishes.
    let app = oidc_app().await;
    let b = app.another_instance_behind_one_issuer().await;
    let request = AuthRequest::new(&app.rp).set("prompt", "consent");
    let (_, before) = tokens_for(&app, &app.rp, request).await;
    let old_kid = kid_of(&before.access_token);
    assert_eq!(
        published_kids(&app.http, &b.issuer).await.len(),
        3,
        "one per alg"
    );
    let introspect_at = |base: &str, token: &str| {
        let secret = app.rp.secret.as_deref();
        let request = app.http.post(format!("{base}/introspect"));
        let request = request.basic_auth(&app.rp.client_id, secret);
        let sent = request.form(&[("token", token.to_owned())]).send();
        async { sent.await.unwrap().json::<Value>().await.unwrap() }
    };
    // Act: the CLI rotates; B's bound passes first.
    let new_kid = rotate_with_the_cli(&app);
    let on_a_still =
        tokens_of(refresh_at(&app, &app.issuer, &app.rp, &before.refresh_token.unwrap()).await)
            .await;
    b.clock().advance(KEY_REFRESH_SECONDS);
    let refresh_token = on_a_still.refresh_token.clone().unwrap();
    let on_b = refresh_at(&app, &b.issuer, &app.rp, &refresh_token).await;
    let on_b = tokens_of(on_b).await;
    // Assert: within the bound A still signs with the old key (still published)...
    assert_signed_with(&on_a_still, &old_kid, "A before its bound");
    // ...B, past it, signs with the new one, and A accepts that token at once (an
    // unknown kid makes it read the keys again), which publishes the key there too.
    assert_signed_with(&on_b, &new_kid, "B");
    let answer = introspect_at(&app.issuer, &on_b.access_token).await;
    assert_eq!(answer["active"], true, "A: {answer}");
    // Act: A's bound passes.
    app.clock.advance(KEY_REFRESH_SECONDS);
    let rotated = on_b.refresh_token.clone().expect("a rotated refresh token");
    let on_a = tokens_of(refresh_at(&app, &app.issuer, &app.rp, &rotated).await).await;
    // Assert: both publish the new key beside the retiring one, and both sign with it.
    for base in [&app.issuer, &b.issuer] {
        let kids = published_kids(&app.http, base).await;
        assert!(
            kids.contains(&new_kid),
            "{base} publishes the new key: {kids:?}"
        );
        assert!(
            kids.contains(&old_kid),
            "{base} keeps the old one: {kids:?}"
        );
    }
    assert_signed_with(&on_a, &new_kid, "A");
    let answer = introspect_at(&b.issuer, &on_a.access_token).await;
    assert_eq!(answer["active"], true, "B: {answer}");
    let answer = introspect_at(&b.issuer, &on_a_still.access_token).await;
    assert_eq!(answer["active"], true, "B, the old key's token: {answer}");
}

#[test]
fn instances_starting_together_on_a_fresh_database_create_one_key_per_algorithm() {
    // Three rounds, each on a fresh database.
    for round in 0..3 {
        // Arrange: six instances' startups, each about to find the keys missing.
        let db = TestDb::new();
        let store = db.store();
        let ring = KeyRing::new(Sealer::new(&SecretString::from(TEST_SECRET_KEY)));
        let start = std::sync::Barrier::new(6);
        // Act: what `serve` does at startup, all at once.
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    start.wait();
                    manage::ensure_active_key(&store, &ring, 1_800_000_000).unwrap();
                });
            }
        });
        // Assert
        let keys = store.read(store::list_keys).unwrap();
        for alg in KeyAlg::ALL {
            let active = keys
                .iter()
                .filter(|k| k.alg == *alg && k.state == KeyState::Active);
            assert_eq!(active.count(), 1, "round {round}: one active {alg} key");
        }
        let created = store.read(|c| store::audit_rows_after(c, 0, 100)).unwrap();
        let created = created.iter().filter(|e| e.action == "key.created").count();
        assert_eq!(
            created,
            KeyAlg::ALL.len(),
            "round {round}: one key.created each"
        );
    }
}
