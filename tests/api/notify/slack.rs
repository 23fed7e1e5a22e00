//! Deciding from Slack: signed interactions (accepted, and refused when wrong, stale or
//! replayed), a linked approver completing the requester's login, refusals for the
//! requester, a non-member and an unlinked user, the deny-reason modal, the policy
//! that keeps decisions on the page, and the self-service account link.

use countersign::audit::Actor;
use countersign::manage::{self, ScopeChanges};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;

use super::support::{notified_app, Notified};
use crate::helpers::{hidden_input, Received};

const SIGNING_SECRET: &str = "slack-signing-secret";

fn click(n: &Notified, user: &str, action: &str, approval_id: &str) -> Value {
    json!({
        "type": "block_actions",
        "user": {"id": user, "team_id": "T1"},
        "team": {"id": "T1"},
        "trigger_id": "trigger-1",
        "response_url": format!("{}/respond", n.slack.url),
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "C0APPROVE"},
        "actions": [{"type": "button", "action_id": action, "value": approval_id}],
    })
}

fn deny_reason(user: &str, approval_id: &str, reason: &str) -> Value {
    json!({
        "type": "view_submission",
        "user": {"id": user, "team_id": "T1"},
        "view": {"type": "modal", "callback_id": "countersign_deny_reason",
            "private_metadata": approval_id,
            "state": {"values": {"reason": {"reason": {"type": "plain_text_input", "value": reason}}}}},
    })
}

fn form(payload: &Value) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

fn signature(secret: &str, ts: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{ts}:{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("v0={hex}")
}

async fn post_signed(n: &Notified, body: &str, ts: i64, signature: &str) -> reqwest::Response {
    n.app
        .http
        .post(n.app.url("/integrations/slack/interactions"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", ts.to_string())
        .header("x-slack-signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn send(n: &Notified, payload: &Value) -> reqwest::Response {
    let body = form(payload);
    let ts = n.app.now();
    post_signed(n, &body, ts, &signature(SIGNING_SECRET, ts, &body)).await
}

/// The private messages Slack was asked to show (posts to the click's response_url).
async fn told(n: &Notified, count: usize) -> Vec<String> {
    let wanted = |r: &Received| r.path == "/respond";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let said: Vec<String> = n
            .slack
            .received()
            .iter()
            .filter(|r| wanted(r))
            .map(|r| r.json()["text"].as_str().unwrap_or_default().to_owned())
            .collect();
        if said.len() >= count {
            return said;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no private message: {said:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// An app whose policy lets chat decide, bob linked to Slack user U0BOB.
async fn chat_app() -> Notified {
    let n = notified_app(10).await;
    n.app.set_policy(ScopeChanges {
        allow_chat_decisions: Some(true),
        ..ScopeChanges::default()
    });
    manage::link_chat(
        &n.app.store,
        "bob",
        Some("U0BOB"),
        None,
        &Actor::System,
        n.app.now(),
    )
    .unwrap();
    n
}

#[tokio::test]
async fn a_linked_approver_approving_from_slack_completes_the_requesters_login() {
    // Arrange
    let n = chat_app().await;
    let (alice, pending) = n.app.request_access(&n.app.alice).await;
    // Act
    let response = send(
        &n,
        &click(&n, "U0BOB", "countersign_approve", &pending.approval_id),
    )
    .await;
    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        n.app.status_json(&alice, &pending.approval_id).await["state"],
        "approved"
    );
    let answer = n.app.continue_after_decision(&alice, &pending).await;
    let tokens = n.app.exchange(&n.app.code_of(&answer)).await;
    let claims = crate::helpers::jwt_part(&tokens.id_token.unwrap(), 1);
    assert_eq!(claims["approval"]["approvers"][0], n.app.bob.id.as_str());
    assert_eq!(told(&n, 1).await[0], "You approved this request.");
    let votes = n.app.events("approval.vote");
    let details: Value = serde_json::from_str(&votes[0].details).unwrap();
    assert_eq!(details["via"], "slack", "the audit trail says where");
}

#[tokio::test]
async fn a_bad_stale_or_replayed_signature_is_refused_and_changes_nothing() {
    // Arrange
    let n = chat_app().await;
    let (alice, pending) = n.app.request_access(&n.app.alice).await;
    let body = form(&click(
        &n,
        "U0BOB",
        "countersign_approve",
        &pending.approval_id,
    ));
    let now = n.app.now();
    let good = signature(SIGNING_SECRET, now, &body);
    let tampered = body.replace("U0BOB", "U0EVE");
    // Act
    let answers = [
        post_signed(&n, &body, now, &signature("wrong secret", now, &body)).await,
        post_signed(&n, &tampered, now, &good).await,
        post_signed(
            &n,
            &body,
            now - 301,
            &signature(SIGNING_SECRET, now - 301, &body),
        )
        .await,
        post_signed(&n, &body, now, "").await,
    ];
    // Assert
    for response in answers {
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        n.app.status_json(&alice, &pending.approval_id).await["state"],
        "pending"
    );
    // The genuine request is accepted once; the same bytes again are a replay.
    assert_eq!(
        post_signed(&n, &body, now, &good).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        post_signed(&n, &body, now, &good).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_requester_a_non_member_and_an_unlinked_user_are_refused() {
    // Arrange: alice (requester) and dave (no approver group) are linked too.
    let n = chat_app().await;
    let now = n.app.now();
    manage::link_chat(
        &n.app.store,
        "alice",
        Some("U0ALICE"),
        None,
        &Actor::System,
        now,
    )
    .unwrap();
    manage::link_chat(
        &n.app.store,
        "dave",
        Some("U0DAVE"),
        None,
        &Actor::System,
        now,
    )
    .unwrap();
    let (alice, pending) = n.app.request_access(&n.app.alice).await;
    let id = pending.approval_id.as_str();
    // Act
    for user in ["U0ALICE", "U0DAVE", "U0NOBODY"] {
        let response = send(&n, &click(&n, user, "countersign_approve", id)).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "Slack always gets its ack"
        );
    }
    // Assert
    let said = told(&n, 3).await;
    assert!(said[0].contains("own request"), "{said:?}");
    assert!(said[1].contains("not in a group"), "{said:?}");
    assert!(said[2].contains("not linked"), "{said:?}");
    assert!(
        said[2].contains("/integrations/slack/link?token="),
        "{said:?}"
    );
    assert_eq!(n.app.status_json(&alice, id).await["state"], "pending");
    assert!(n.app.events("approval.vote").is_empty());
}

#[tokio::test]
async fn a_policy_that_keeps_decisions_on_the_page_refuses_slack_votes() {
    // Arrange: chat decisions not allowed (the default).
    let n = notified_app(10).await;
    manage::link_chat(
        &n.app.store,
        "bob",
        Some("U0BOB"),
        None,
        &Actor::System,
        n.app.now(),
    )
    .unwrap();
    let (alice, pending) = n.app.request_access(&n.app.alice).await;
    // Act: a click crafted by hand (the message had no button).
    send(
        &n,
        &click(&n, "U0BOB", "countersign_approve", &pending.approval_id),
    )
    .await;
    // Assert
    assert!(told(&n, 1).await[0].contains("approval page only"));
    assert_eq!(
        n.app.status_json(&alice, &pending.approval_id).await["state"],
        "pending"
    );
}

#[tokio::test]
async fn deny_opens_a_modal_and_its_reason_denies() {
    // Arrange
    let n = chat_app().await;
    let (alice, pending) = n.app.request_access(&n.app.alice).await;
    let id = pending.approval_id.as_str();
    // Act: the Deny click opens the modal through views.open.
    send(&n, &click(&n, "U0BOB", "countersign_deny", id)).await;
    let opened = wait_for_path(&n, "/views.open").await;
    // Assert
    assert_eq!(opened["trigger_id"], "trigger-1");
    assert_eq!(opened["view"]["private_metadata"], id);
    assert_eq!(
        n.app.status_json(&alice, id).await["state"],
        "pending",
        "not yet"
    );
    // Act: the reason is submitted.
    let answer = send(&n, &deny_reason("U0BOB", id, "not during the freeze")).await;
    // Assert
    assert_eq!(
        answer.json::<Value>().await.unwrap(),
        json!({"response_action": "clear"})
    );
    let status = n.app.status_json(&alice, id).await;
    assert_eq!(status["state"], "denied");
    assert_eq!(status["comment"], "not during the freeze");
    // A second submission is refused inside the modal.
    let again = send(&n, &deny_reason("U0BOB", id, "again")).await;
    assert_eq!(
        again.json::<Value>().await.unwrap()["response_action"],
        "errors"
    );
}

async fn wait_for_path(n: &Notified, path: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(found) = n.slack.received().into_iter().find(|r| r.path == path) {
            return found.json();
        }
        assert!(std::time::Instant::now() < deadline, "no call to {path}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_unlinked_approver_links_their_slack_account_by_confirming_while_signed_in() {
    // Arrange: carol is not linked; her click earns her a link.
    let n = chat_app().await;
    let (_alice, pending) = n.app.request_access(&n.app.alice).await;
    send(
        &n,
        &click(&n, "U0CAROL", "countersign_approve", &pending.approval_id),
    )
    .await;
    let said = told(&n, 1).await;
    let link = said[0]
        .split_whitespace()
        .find(|w| w.contains("/integrations/slack/link?token="))
        .unwrap();
    let path = &link[link.find("/integrations").unwrap()..];
    let carol = n.app.signed_in(&n.app.carol).await;
    // Act: the GET only shows a confirmation; the POST links.
    let page = n.app.get(&carol, path).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("U0CAROL"));
    let (csrf, token) = (
        hidden_input(&html, "csrf_token").unwrap(),
        hidden_input(&html, "token").unwrap(),
    );
    assert!(
        n.app
            .store
            .read(|c| countersign::store::user_by_slack_id(c, "U0CAROL"))
            .unwrap()
            .is_none(),
        "a GET binds nothing"
    );
    let linked = n
        .app
        .post(
            &carol,
            "/integrations/slack/link",
            &[("csrf_token", &csrf), ("token", &token)],
        )
        .await;
    let reused = n
        .app
        .post(
            &carol,
            "/integrations/slack/link",
            &[("csrf_token", &csrf), ("token", &token)],
        )
        .await;
    // Assert
    assert_eq!(linked.status(), StatusCode::OK);
    let user = n
        .app
        .store
        .read(|c| countersign::store::user_by_slack_id(c, "U0CAROL"))
        .unwrap();
    assert_eq!(user.unwrap().username, "carol");
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST, "single use");
    // Without a session the link page sends to sign in first.
    let anonymous = n.app.get(&crate::helpers::browser(), path).await;
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_non_member_learns_nothing_about_a_decided_request() {
    // Arrange: a decided request; dave (no approver group) is linked.
    let n = chat_app().await;
    let now = n.app.now();
    manage::link_chat(
        &n.app.store,
        "dave",
        Some("U0DAVE"),
        None,
        &Actor::System,
        now,
    )
    .unwrap();
    let (_alice, pending) = n.app.request_access(&n.app.alice).await;
    send(
        &n,
        &click(&n, "U0BOB", "countersign_approve", &pending.approval_id),
    )
    .await;
    told(&n, 1).await;
    // Act: dave clicks the decided request, then an id that does not exist.
    send(
        &n,
        &click(&n, "U0DAVE", "countersign_approve", &pending.approval_id),
    )
    .await;
    send(
        &n,
        &click(&n, "U0DAVE", "countersign_approve", "no-such-approval"),
    )
    .await;
    // Assert: the same answer both times, not "already approved".
    let said = told(&n, 3).await;
    assert!(said[1].contains("not in a group"), "{said:?}");
    assert_eq!(
        said[1], said[2],
        "a decided request and a missing one look alike"
    );
}
