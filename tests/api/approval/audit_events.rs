//! The audit trail of the protocol (issue 7): each action leaves exactly one event, in
//! the transaction of the change, with the right actor (`user:<sub>`, `client:<id>`,
//! `anonymous`, `system`, `cli`) and target; a transaction that fails leaves none.

use countersign::manage::ScopeChanges;
use countersign::store::AuditRow;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::client::{jwt_payload, see_other, see_other_to, tokens_of};
use super::support::{
    approval_app, browser, ApprovalSeed, TestApp, User, POST_LOGOUT_URI, SCOPES, SENSITIVE,
};
use crate::helpers::assert_oauth_error;

fn user(who: &User) -> String {
    format!("user:{}", who.id)
}

fn client(app: &TestApp<ApprovalSeed>) -> String {
    format!("client:{}", app.client.client_id)
}

fn grant_of(access_token: &str) -> String {
    format!(
        "grant:{}",
        jwt_payload(access_token)["grant_id"].as_str().unwrap()
    )
}

/// `(actor, action, target)` of the events after `seq`.
fn events_after(app: &TestApp<ApprovalSeed>, seq: i64) -> Vec<(String, String, String)> {
    app.audit()
        .into_iter()
        .filter(|e| e.seq > seq)
        .map(|e| (e.actor, e.action, e.target))
        .collect()
}

/// The one event with `action` about `target`.
fn only_event(app: &TestApp<ApprovalSeed>, action: &str, target: &str) -> AuditRow {
    let found: Vec<AuditRow> = app
        .events(action)
        .into_iter()
        .filter(|e| e.target == target)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "exactly one {action} about {target}: {found:?}"
    );
    found.into_iter().next().unwrap()
}

fn details(event: &AuditRow) -> Value {
    serde_json::from_str(&event.details).expect("details are JSON")
}

fn triple(actor: &str, action: &str, target: &str) -> (String, String, String) {
    (actor.to_owned(), action.to_owned(), target.to_owned())
}

#[tokio::test]
async fn a_countersigned_sign_in_records_each_protocol_action_exactly_once() {
    // Arrange
    let app = approval_app().await;
    let head = app.audit_head();
    // Act
    let (_, pending, tokens) = app.approved_tokens().await;
    // Assert
    let approval = format!("approval:{}", pending.approval_id);
    let (alice, bob, client) = (user(&app.alice), user(&app.bob), client(&app));
    assert_eq!(
        events_after(&app, head),
        vec![
            triple(&alice, "login.succeeded", "user:alice"),
            triple(&alice, "consent.given", &client),
            triple(&alice, "approval.requested", &approval),
            triple(&bob, "login.succeeded", "user:bob"),
            triple(&bob, "approval.vote", &approval),
            triple(&bob, "approval.approved", &approval),
            triple(&client, "approval.redeemed", &approval),
            triple(&client, "token.issued", &grant_of(&tokens.access_token)),
        ]
    );
    app.assert_chain_verifies();
}

#[tokio::test]
async fn every_approval_transition_is_audited_once_with_the_policy_versions_it_used() {
    // Arrange: a policy edit makes payments:write version 2.
    let app = approval_app().await;
    app.set_quorum(1);
    let (alice, redeemed, _) = app.approved_tokens().await;
    let (bob, carol) = app.approvers().await;
    // Act
    let revoked = app.revoke(&bob, &redeemed.approval_id).await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    let denied = app.request_again(&alice).await;
    let vote = app.vote(&carol, &denied, "deny", Some("no")).await;
    assert_eq!(vote.status(), StatusCode::SEE_OTHER);
    let cancelled = app.request_again(&alice).await;
    let csrf = app.csrf(&alice).await;
    let cancel = app
        .post(
            &alice,
            &format!("/approvals/{cancelled}/cancel"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(cancel.status(), StatusCode::SEE_OTHER);
    let expired = app.request_again(&alice).await;
    app.clock.advance(15 * 60 + 1);
    assert_eq!(app.status_json(&alice, &expired).await["state"], "expired");
    // Assert
    let (a, b, c) = (user(&app.alice), user(&app.bob), user(&app.carol));
    let client = client(&app);
    let expected = [
        (&redeemed.approval_id, "approval.requested", a.as_str()),
        (&redeemed.approval_id, "approval.approved", b.as_str()),
        (&redeemed.approval_id, "approval.redeemed", client.as_str()),
        (&redeemed.approval_id, "approval.revoked", b.as_str()),
        (&denied, "approval.requested", a.as_str()),
        (&denied, "approval.denied", c.as_str()),
        (&cancelled, "approval.requested", a.as_str()),
        (&cancelled, "approval.cancelled", a.as_str()),
        (&expired, "approval.requested", a.as_str()),
        (&expired, "approval.expired", "system"),
    ];
    for (id, action, actor) in expected {
        let event = only_event(&app, action, &format!("approval:{id}"));
        assert_eq!(event.actor, actor, "{action} of {id}");
        assert_eq!(
            details(&event)["policy_versions"],
            json!({ SENSITIVE: 2 }),
            "{action} of {id}"
        );
    }
    app.assert_chain_verifies();
}

/// POSTs a login with a wrong password.
async fn wrong_password(
    app: &TestApp<ApprovalSeed>,
    browser: &reqwest::Client,
    username: &str,
) -> StatusCode {
    let csrf = app.csrf(browser).await;
    let form = [
        ("username", username),
        ("password", "not the password"),
        ("csrf_token", csrf.as_str()),
    ];
    app.post(browser, "/login", &form).await.status()
}

#[tokio::test]
async fn sign_ins_are_audited_as_the_user_when_they_succeed_and_as_anonymous_when_not() {
    // Arrange
    let app = approval_app().await;
    let head = app.audit_head();
    let intruder = browser();
    // Act: five failures lock alice's account; the sixth attempt is throttled.
    let mut answers = Vec::new();
    for _ in 0..6 {
        answers.push(wrong_password(&app, &intruder, "alice").await);
    }
    let _dave = app.signed_in(&app.dave).await;
    // Assert
    assert_eq!(answers[..5], [StatusCode::OK; 5]);
    assert_eq!(answers[5], StatusCode::TOO_MANY_REQUESTS);
    let mut expected = vec![triple("anonymous", "login.failed", "user:alice"); 5];
    expected.push(triple("anonymous", "login.throttled", "user:alice"));
    expected.push(triple(&user(&app.dave), "login.succeeded", "user:dave"));
    assert_eq!(events_after(&app, head), expected);
}

#[tokio::test]
async fn consent_is_audited_as_the_user_when_given_and_when_denied() {
    // Arrange
    let app = approval_app().await;
    let alice = browser();
    let first = app
        .sign_in_to_consent(&alice, &app.alice, "openid profile")
        .await;
    let head = app.audit_head();
    // Act
    let denied = app.consent(&alice, &first, "deny", None).await;
    let second = app.authorize(&alice, "openid email", &[]).await;
    let second = see_other_to(&second, "/consent?request=")["/consent?request=".len()..].to_owned();
    let given = app.consent(&alice, &second, "allow", None).await;
    // Assert
    app.error_of(&denied, "access_denied");
    app.code_of(&given);
    let (alice_actor, client) = (user(&app.alice), client(&app));
    assert_eq!(
        events_after(&app, head),
        vec![
            triple(&alice_actor, "consent.denied", &client),
            triple(&alice_actor, "consent.given", &client),
        ]
    );
    let denial = only_event(&app, "consent.denied", &client);
    assert_eq!(details(&denial)["scope"], "openid profile");
    let consent = only_event(&app, "consent.given", &client);
    assert_eq!(details(&consent)["scope"], "openid email");
}

#[tokio::test]
async fn token_issue_refresh_and_revocation_are_audited_as_the_client() {
    // Arrange
    let app = approval_app().await;
    let (_, _, tokens) = app.approved_tokens().await;
    let grant = grant_of(&tokens.access_token);
    // Act
    let refreshed = tokens_of(app.refresh(tokens.refresh_token.as_deref().unwrap()).await).await;
    let revocation = app
        .post_as(
            &app.client,
            "/revoke",
            &[("token", refreshed.refresh_token.as_deref().unwrap())],
        )
        .await;
    // Assert
    assert_eq!(revocation.status(), StatusCode::OK);
    let client = client(&app);
    for action in ["token.issued", "token.refreshed", "token.revoked"] {
        assert_eq!(only_event(&app, action, &grant).actor, client, "{action}");
    }
}

#[tokio::test]
async fn a_replayed_code_is_audited_once_and_revokes_the_grant() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let bob = app.signed_in(&app.bob).await;
    app.approve(&bob, &pending.approval_id).await;
    let code = app.code_of(&app.continue_after_decision(&alice, &pending).await);
    let tokens = app.exchange(&code).await;
    // Act
    let replay = app.exchange_response(&code).await;
    // Assert
    assert_oauth_error(
        replay,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "the authorization code was already used; tokens issued from it are revoked",
    )
    .await;
    let event = only_event(
        &app,
        "code.replay_detected",
        &grant_of(&tokens.access_token),
    );
    assert_eq!(event.actor, client(&app));
    assert_eq!(app.introspect(&tokens.access_token).await["active"], false);
}

#[tokio::test]
async fn a_reused_refresh_token_is_audited_once_and_revokes_the_grant() {
    // Arrange
    let app = approval_app().await;
    let (_, _, tokens) = app.approved_tokens().await;
    let refresh_token = tokens.refresh_token.clone().unwrap();
    let rotated = tokens_of(app.refresh(&refresh_token).await).await;
    // Act
    let reuse = app.refresh(&refresh_token).await;
    // Assert
    assert_oauth_error(
        reuse,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "the refresh token was already used; the grant is revoked",
    )
    .await;
    let event = only_event(
        &app,
        "refresh.reuse_detected",
        &grant_of(&tokens.access_token),
    );
    assert_eq!(event.actor, client(&app));
    assert_eq!(app.introspect(&rotated.access_token).await["active"], false);
}

#[tokio::test]
async fn signing_out_is_audited_as_the_user() {
    // Arrange
    let app = approval_app().await;
    let (alice, _, tokens) = app.approved_tokens().await;
    let head = app.audit_head();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("id_token_hint", tokens.id_token.as_deref().unwrap())
        .append_pair("post_logout_redirect_uri", POST_LOGOUT_URI)
        .append_pair("state", "bye")
        .finish();
    // Act
    let response = app.get(&alice, &format!("/logout?{query}")).await;
    // Assert
    assert_eq!(see_other(&response), format!("{POST_LOGOUT_URI}?state=bye"));
    assert_eq!(
        events_after(&app, head),
        vec![triple(&user(&app.alice), "logout", "user:alice")]
    );
}

#[tokio::test]
async fn a_transaction_that_fails_leaves_no_event() {
    // Arrange: consent writes consent.given before the missing justification fails it.
    let app = approval_app().await;
    app.set_policy(ScopeChanges {
        require_justification: Some(true),
        ..ScopeChanges::default()
    });
    let alice = browser();
    let request_id = app.sign_in_to_consent(&alice, &app.alice, SCOPES).await;
    let head = app.audit_head();
    // Act
    let failed = app.consent(&alice, &request_id, "allow", None).await;
    let after_failure = events_after(&app, head);
    let accepted = app
        .consent(&alice, &request_id, "allow", Some("month-end close"))
        .await;
    // Assert
    assert_eq!(failed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(after_failure, vec![], "the failed consent left no event");
    let approval = format!("approval:{}", super::client::waiting_of(&accepted));
    let alice_actor = user(&app.alice);
    assert_eq!(
        events_after(&app, head),
        vec![
            triple(&alice_actor, "consent.given", &client(&app)),
            triple(&alice_actor, "approval.requested", &approval),
        ]
    );
    app.assert_chain_verifies();
}
