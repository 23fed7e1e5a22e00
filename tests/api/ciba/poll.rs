//! CIBA poll mode (CIBA Core §7, §10.1, §11) with a third-party approver: the client
//! polls `authorization_pending` until bob decides, then gets tokens carrying exactly
//! the approved `authorization_details`; too-fast polls slow down; a denial, an expiry
//! and a used `auth_req_id` each get their own answer.

use reqwest::StatusCode;
use serde_json::Value;

use super::support::{ciba_setup, payment, BINDING};
use crate::approval::support::approval_app;
use crate::helpers::{assert_oauth_error, jwt_part, tokens_of};

#[tokio::test]
async fn a_payment_waits_for_an_approver_and_the_tokens_carry_exactly_that_payment() {
    // Arrange
    let app = approval_app().await;
    let agent = ciba_setup(&app, None);
    // Act
    let ack = app
        .bc_authorize(
            &agent,
            &[
                ("login_hint", "alice"),
                ("authorization_details", &payment().to_string()),
                ("binding_message", BINDING),
            ],
        )
        .await;
    let (auth_req_id, body) = super::support::acknowledged(ack).await;
    let pending = app.poll(&agent, &auth_req_id).await;
    let approval_id = app.last_approval_id();
    let page = app.bob_decides(&approval_id, "approve").await;
    app.clock.advance(5);
    let response = app.poll(&agent, &auth_req_id).await;
    let body_tokens: Value = {
        let raw = response.text().await.unwrap();
        serde_json::from_str(&raw).unwrap()
    };
    app.clock.advance(5);
    let again = app.poll(&agent, &auth_req_id).await;
    // Assert
    assert_eq!(body["expires_in"], 900, "the policy's pending time");
    assert_eq!(body["interval"], 5);
    assert_oauth_error(
        pending,
        StatusCode::BAD_REQUEST,
        "authorization_pending",
        "the approvers have not decided yet",
    )
    .await;
    for shown in [
        "4500",
        "EUR",
        "ACME GmbH",
        "Action: <code>payment</code>",
        "W4SP",
    ] {
        assert!(page.contains(shown), "the approver sees {shown}: {page}");
    }
    assert_eq!(
        body_tokens["authorization_details"],
        payment(),
        "{body_tokens}"
    );
    let access = jwt_part(body_tokens["access_token"].as_str().unwrap(), 1);
    assert_eq!(access["authorization_details"], payment());
    assert_eq!(access["sub"], app.alice.id, "the subject is alice");
    assert_eq!(access["approval"]["approvers"][0], app.bob.id);
    assert!(access["approval"]["details_digest"].is_string());
    let id_token = jwt_part(body_tokens["id_token"].as_str().unwrap(), 1);
    assert_eq!(id_token["sub"], app.alice.id);
    assert_oauth_error(
        again,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "auth_req_id was already used",
    )
    .await;
    let issued = app.events("token.issued");
    let details: Value = serde_json::from_str(&issued.last().unwrap().details).unwrap();
    assert_eq!(details["grant_type"], "urn:openid:params:grant-type:ciba");
    app.assert_chain_verifies();
}

#[tokio::test]
async fn introspection_echoes_the_approved_details() {
    // Arrange
    let app = approval_app().await;
    let agent = ciba_setup(&app, None);
    let auth_req_id = app.ask_payment(&agent, &[]).await;
    app.bob_decides(&app.last_approval_id(), "approve").await;
    let tokens = tokens_of(app.poll(&agent, &auth_req_id).await).await;
    // Act
    let answer: Value = app
        .post_as(&agent, "/introspect", &[("token", &tokens.access_token)])
        .await
        .json()
        .await
        .unwrap();
    // Assert
    assert_eq!(answer["active"], true);
    assert_eq!(answer["authorization_details"], payment());
    assert_eq!(answer["username"], "alice");
}

#[tokio::test]
async fn polling_faster_than_the_interval_slows_the_client_down_for_good() {
    // Arrange
    let app = approval_app().await;
    let agent = ciba_setup(&app, None);
    let auth_req_id = app.ask_payment(&agent, &[]).await;
    // Act
    let first = app.poll(&agent, &auth_req_id).await;
    let too_soon = app.poll(&agent, &auth_req_id).await;
    app.clock.advance(5);
    let still_too_soon = app.poll(&agent, &auth_req_id).await;
    app.clock.advance(15);
    let waited = app.poll(&agent, &auth_req_id).await;
    // Assert
    assert_eq!(first.status(), StatusCode::BAD_REQUEST);
    let slow = "polling too fast; wait the interval, now 5 seconds longer";
    assert_oauth_error(too_soon, StatusCode::BAD_REQUEST, "slow_down", slow).await;
    assert_oauth_error(still_too_soon, StatusCode::BAD_REQUEST, "slow_down", slow).await;
    let body: Value = waited.json().await.unwrap();
    assert_eq!(body["error"], "authorization_pending", "{body}");
}

#[tokio::test]
async fn a_denied_request_is_access_denied() {
    // Arrange
    let app = approval_app().await;
    let agent = ciba_setup(&app, None);
    let auth_req_id = app.ask_payment(&agent, &[]).await;
    // Act
    app.bob_decides(&app.last_approval_id(), "deny").await;
    let response = app.poll(&agent, &auth_req_id).await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "access_denied",
        "the request was denied by an approver",
    )
    .await;
}

#[tokio::test]
async fn a_request_nobody_decides_in_time_is_expired_token() {
    // Arrange
    let app = approval_app().await;
    let agent = ciba_setup(&app, None);
    let auth_req_id = app.ask_payment(&agent, &[("requested_expiry", "60")]).await;
    // Act
    app.clock.advance(61);
    let response = app.poll(&agent, &auth_req_id).await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "expired_token",
        "the request expired before it was approved and redeemed",
    )
    .await;
    assert_eq!(app.events("approval.expired").len(), 1);
}

#[tokio::test]
async fn the_subject_cannot_approve_what_an_agent_asked_for_them() {
    // Arrange
    let app = approval_app().await;
    let agent = ciba_setup(&app, None);
    app.add_member(crate::approval::support::APPROVERS, &app.alice);
    app.ask_payment(&agent, &[]).await;
    let id = app.last_approval_id();
    let alice = app.signed_in(&app.alice).await;
    let csrf = app.csrf(&alice).await;
    // Act
    let (status, page) = app.review(&alice, &id).await;
    let vote = app.post_vote(&alice, &id, &csrf, "approve", None).await;
    // Assert
    assert_eq!(
        status,
        StatusCode::OK,
        "she sees what was asked in her name"
    );
    assert!(page.contains("4500"), "{page}");
    assert_eq!(vote.status(), StatusCode::FORBIDDEN);
    assert!(app.events("approval.vote").is_empty());
}

#[tokio::test]
async fn another_clients_or_a_made_up_auth_req_id_is_invalid_grant() {
    // Arrange
    let app = approval_app().await;
    let agent = ciba_setup(&app, None);
    let other = app.add_client(countersign::manage::ClientSpec {
        name: "Other agent".into(),
        scopes: vec!["openid".into(), super::support::SENSITIVE.into()],
        grant_types: vec![countersign::oidc::grant_type::GrantType::Ciba],
        ..Default::default()
    });
    let auth_req_id = app.ask_payment(&agent, &[]).await;
    // Act
    let foreign = app.poll(&other, &auth_req_id).await;
    let made_up = app.poll(&agent, "no-such-request").await;
    let missing = app
        .post_as(
            &agent,
            "/token",
            &[("grant_type", "urn:openid:params:grant-type:ciba")],
        )
        .await;
    // Assert
    let unknown = "auth_req_id is unknown";
    assert_oauth_error(foreign, StatusCode::BAD_REQUEST, "invalid_grant", unknown).await;
    assert_oauth_error(made_up, StatusCode::BAD_REQUEST, "invalid_grant", unknown).await;
    assert_oauth_error(
        missing,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "auth_req_id is missing",
    )
    .await;
}
