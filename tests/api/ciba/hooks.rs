//! Decision hooks with declared degraded modes: the hook (a local HTTP receiver)
//! gets a signed question about each payment and its answer decides; a hook that is
//! down or too slow takes the action type's mode (deny, or human approvers), and the
//! evidence says the degraded mode was used.

use countersign::approval::hooks::HookFailure;
use countersign::audit::Actor;
use countersign::config::RawNotify;
use countersign::manage::{self, ActionTypeChanges};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::support::{ciba_setup, payment};
use crate::approval::support::ApprovalSeed;
use crate::helpers::{assert_oauth_error, jwt_part, tokens_of, HttpReceiver, TestApp};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn hooked_app(
    url: &str,
    timeout_ms: i32,
    failure: HookFailure,
) -> (TestApp<ApprovalSeed>, crate::helpers::TestClient) {
    let app = TestApp::builder()
        .notify(RawNotify {
            webhook_secret: Some(SECRET.into()),
            ..RawNotify::default()
        })
        .spawn()
        .await
        .seeded(ApprovalSeed::seed);
    let agent = ciba_setup(&app, None);
    manage::update_action_type(
        &app.store,
        "payment",
        ActionTypeChanges {
            hook_url: Some(Some(url.to_owned())),
            hook_timeout_ms: Some(timeout_ms),
            hook_failure: Some(failure),
            ..ActionTypeChanges::default()
        },
        &Actor::Cli,
        app.now(),
    )
    .expect("hook set");
    (app, agent)
}

#[tokio::test]
async fn a_hook_that_approves_gets_a_signed_question_and_the_tokens_come_at_once() {
    // Arrange
    let hook = HttpReceiver::start();
    hook.answer_path(
        "/decide",
        200,
        json!({"decision": "approve", "reason": "within budget"}),
    );
    let (app, agent) = hooked_app(&format!("{}/decide", hook.url), 2000, HookFailure::Deny).await;
    // Act
    let auth_req_id = app.ask_payment(&agent, &[]).await;
    let tokens = tokens_of(app.poll(&agent, &auth_req_id).await).await;
    // Assert
    let asked = &hook.received()[0];
    countersign::notify::webhook::verify(
        SECRET,
        asked.header("webhook-id").unwrap(),
        asked.header("webhook-timestamp").unwrap(),
        asked.header("webhook-signature").unwrap(),
        &asked.body,
        app.now(),
    )
    .expect("the question is signed like the webhooks");
    let question = asked.json();
    assert_eq!(question["authorization_details"], payment()[0]);
    assert_eq!(question["requester"]["username"], "alice");
    assert_eq!(question["channel"], "back");
    let claims = jwt_part(&tokens.access_token, 1);
    assert_eq!(claims["approval"]["rules"]["outcome"], "approve");
    assert_eq!(
        claims["approval"]["rules"]["hooks"],
        json!([{"action_type": "payment", "outcome": "approve", "degraded": null}])
    );
}

#[tokio::test]
async fn a_hook_that_denies_denies() {
    // Arrange
    let hook = HttpReceiver::start();
    hook.answer_path(
        "/decide",
        200,
        json!({"decision": "deny", "reason": "sanctioned creditor"}),
    );
    let (app, agent) = hooked_app(&format!("{}/decide", hook.url), 2000, HookFailure::Human).await;
    // Act
    let auth_req_id = app.ask_payment(&agent, &[]).await;
    let response = app.poll(&agent, &auth_req_id).await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "access_denied",
        "the request was denied by a decision hook",
    )
    .await;
}

#[tokio::test]
async fn a_hook_that_is_down_takes_the_deny_mode_and_the_record_says_so() {
    // Arrange: nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/decide", closed.local_addr().unwrap());
    drop(closed);
    let (app, agent) = hooked_app(&url, 2000, HookFailure::Deny).await;
    // Act
    let auth_req_id = app.ask_payment(&agent, &[]).await;
    let response = app.poll(&agent, &auth_req_id).await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "access_denied",
        "the request was denied by a decision hook",
    )
    .await;
    let denied = app.events("approval.denied");
    let details: Value = serde_json::from_str(&denied[0].details).unwrap();
    assert_eq!(details["rules"]["hooks"][0]["degraded"], "deny");
    assert_eq!(
        details["rules"]["hooks"][0]["reason"],
        "the hook could not be reached"
    );
}

#[tokio::test]
async fn a_hook_that_times_out_falls_back_to_the_approvers_and_the_token_says_so() {
    // Arrange: a listener that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/decide", silent.local_addr().unwrap());
    let (app, agent) = hooked_app(&url, 300, HookFailure::Human).await;
    // Act
    let auth_req_id = app.ask_payment(&agent, &[]).await;
    let pending = app.poll(&agent, &auth_req_id).await;
    app.bob_decides(&app.last_approval_id(), "approve").await;
    app.clock.advance(5);
    let tokens = tokens_of(app.poll(&agent, &auth_req_id).await).await;
    drop(silent);
    // Assert
    let body: Value = pending.json().await.unwrap();
    assert_eq!(body["error"], "authorization_pending");
    let claims = jwt_part(&tokens.access_token, 1);
    assert_eq!(claims["approval"]["approvers"], json!([app.bob.id]));
    assert_eq!(
        claims["approval"]["rules"]["hooks"],
        json!([{"action_type": "payment", "outcome": "failed", "degraded": "human"}])
    );
    let requested = app.events("approval.requested");
    let details: Value = serde_json::from_str(&requested[0].details).unwrap();
    assert_eq!(
        details["rules"]["hooks"][0]["reason"],
        "no answer within 300 ms"
    );
}

#[tokio::test]
async fn in_the_browser_flow_the_hook_is_asked_when_the_user_allows() {
    // Arrange
    let hook = HttpReceiver::start();
    hook.answer_path("/decide", 200, json!({"decision": "approve"}));
    let (app, _) = hooked_app(&format!("{}/decide", hook.url), 2000, HookFailure::Deny).await;
    let alice = crate::approval::support::browser();
    let details = payment().to_string();
    let path = app.authorize_path("openid", &[("authorization_details", &details)]);
    let request = app.sign_in_to_consent_at(&alice, &app.alice, &path).await;
    // Act
    let answer = app.consent(&alice, &request, "allow", None).await;
    // Assert
    let code = app.code_of(&answer);
    assert!(
        !code.is_empty(),
        "approved by the hook: straight back with a code"
    );
    let question = hook.received()[0].json();
    assert_eq!(question["channel"], "front");
    assert_eq!(question["requester"]["username"], "alice");
}
