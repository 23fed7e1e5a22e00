//! Deciding with a passkey (issue 18): the vote records RFC 8176 `amr`
//! `["pwd","hwk","mfa"]` and the credential, the tokens' approval claim names it, the
//! audit trail too; a typed code never meets a passkey requirement; `any` takes either.

use countersign::approval::ApproverFactor;
use reqwest::StatusCode;
use serde_json::{json, Value};
use webauthn_authenticator_rs::prelude::WebauthnAuthenticator;

use super::support::{ok_json, passkey_app, refused_json, soft_passkey};
use crate::approval::client::jwt_payload;

#[tokio::test]
async fn an_approval_proved_with_a_passkey_names_it_in_the_tokens_and_the_audit_trail() {
    // Arrange
    let app = passkey_app().await;
    app.require(ApproverFactor::Passkey);
    let bob = app.signed_in(&app.bob).await;
    let mut key = soft_passkey();
    let credential_id = app.register(&bob, &mut key, "laptop").await;
    let (alice, pending) = app.request_access(&app.alice).await;
    // Act
    let response = app
        .approve_with_passkey(&bob, &mut key, &pending.approval_id)
        .await;
    // Assert
    let body = ok_json(response).await;
    assert_eq!(body["state"], "approved");
    assert_eq!(
        body["location"],
        format!("/approvals/{}", pending.approval_id)
    );
    let continued = app.continue_after_decision(&alice, &pending).await;
    let tokens = app.exchange(&app.code_of(&continued)).await;
    let claim = &jwt_payload(tokens.id_token.as_deref().unwrap())["approval"];
    let proof =
        json!({"sub": app.bob.id, "amr": ["pwd", "hwk", "mfa"], "credential_id": credential_id});
    assert_eq!(claim["proofs"], json!([proof]));
    let votes = app.events("approval.vote");
    let details: Value = serde_json::from_str(&votes[0].details).unwrap();
    assert_eq!(details["amr"], json!(["pwd", "hwk", "mfa"]));
    assert_eq!(details["credential_id"], credential_id);
}

#[tokio::test]
async fn a_passkey_denial_carries_the_comment_given_when_the_prompt_began() {
    // Arrange
    let app = passkey_app().await;
    app.require(ApproverFactor::Passkey);
    let bob = app.signed_in(&app.bob).await;
    let mut key = soft_passkey();
    app.register(&bob, &mut key, "laptop").await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = &pending.approval_id;
    // Act
    let started = app
        .start_vote(&bob, id, "deny", Some("not this week"))
        .await;
    let body = ok_json(started).await;
    let options = serde_json::from_value(body["options"].clone()).unwrap();
    let assertion = key.do_authentication(app.origin(), options).unwrap();
    let ceremony = body["ceremony_id"].as_str().unwrap();
    let finished = app.finish_vote(&bob, id, ceremony, &assertion).await;
    // Assert
    assert_eq!(ok_json(finished).await["state"], "denied");
    let status = app.status_json(&alice, id).await;
    assert_eq!(status["comment"], "not this week");
}

#[tokio::test]
async fn a_typed_code_never_satisfies_a_passkey_requirement() {
    // Arrange: bob has both an authenticator app and a passkey.
    let app = passkey_app().await;
    app.require(ApproverFactor::Passkey);
    let password_session = app.signed_in(&app.bob).await;
    let mut key = soft_passkey();
    let held = app
        .register_held(&password_session, &mut key, "laptop")
        .await;
    // The app beside the passkey needs a sign-in with the passkey.
    let bob = app.signed_in_with_passkey(&mut key, &held).await;
    let totp = app.enrol_totp(&bob).await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = &pending.approval_id;
    // Act: a current, unused code with the plain form.
    let csrf = app.account_csrf(&bob).await;
    let code = app.code(&totp, 1);
    let form = [
        ("csrf_token", csrf.as_str()),
        ("decision", "approve"),
        ("code", &code),
    ];
    let response = app.post(&bob, &format!("/approvals/{id}"), &form).await;
    // Assert
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("your passkey"));
    assert_eq!(app.status_json(&alice, id).await["state"], "pending");
    assert!(app.events("approval.vote").is_empty());
}

#[tokio::test]
async fn a_scope_with_any_factor_accepts_a_passkey_or_a_code() {
    // Arrange
    let app = passkey_app().await;
    app.require(ApproverFactor::Any);
    let (bob, carol) = app.approvers().await;
    let mut key = soft_passkey();
    app.register(&bob, &mut key, "laptop").await;
    let totp = app.enrol_totp(&carol).await;
    let (alice, first) = app.request_access(&app.alice).await;
    let (_dave, second) = app.request_access(&app.dave).await;
    // Act
    let by_passkey = app
        .approve_with_passkey(&bob, &mut key, &first.approval_id)
        .await;
    let csrf = app.account_csrf(&carol).await;
    let code = app.code(&totp, 1);
    let form = [
        ("csrf_token", csrf.as_str()),
        ("decision", "approve"),
        ("code", &code),
    ];
    let by_code = app
        .post(&carol, &format!("/approvals/{}", second.approval_id), &form)
        .await;
    // Assert
    assert_eq!(ok_json(by_passkey).await["state"], "approved");
    assert_eq!(
        by_code.status(),
        StatusCode::SEE_OTHER,
        "the code is accepted"
    );
    assert_eq!(
        app.status_json(&alice, &first.approval_id).await["state"],
        "approved"
    );
    let amrs: Vec<Value> = app
        .events("approval.vote")
        .iter()
        .map(|e| serde_json::from_str::<Value>(&e.details).unwrap()["amr"].clone())
        .collect();
    assert_eq!(
        amrs,
        [json!(["pwd", "hwk", "mfa"]), json!(["pwd", "otp", "mfa"])]
    );
}

#[tokio::test]
async fn a_passkey_prompt_is_refused_where_no_passkey_is_asked_or_registered() {
    // Arrange
    let app = passkey_app().await;
    let bob = app.signed_in(&app.bob).await;
    let (_alice, none_asked) = app.request_access(&app.alice).await;
    app.require(ApproverFactor::Passkey);
    let (_dave, asked) = app.request_access(&app.dave).await;
    // Act
    let not_asked = app
        .start_vote(&bob, &none_asked.approval_id, "approve", None)
        .await;
    let not_registered = app
        .start_vote(&bob, &asked.approval_id, "approve", None)
        .await;
    // Assert
    let why = refused_json(not_asked, StatusCode::FORBIDDEN).await;
    assert!(why.contains("does not ask for a passkey"), "{why}");
    let why = refused_json(not_registered, StatusCode::FORBIDDEN).await;
    assert!(why.contains("enrol it on your account page"), "{why}");
}
