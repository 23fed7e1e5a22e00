//! What binds an assertion to one decision (issue 18; WebAuthn L2 §7.2, §13.4.3): the
//! ceremony's challenge and row (this approval, once), the origin and RP ID, user
//! verification, and the credential's owner. Each refusal leaves the approval pending
//! and records no vote.

use countersign::approval::ApproverFactor;
use reqwest::StatusCode;
use serde_json::Value;
use webauthn_authenticator_rs::prelude::{RequestChallengeResponse, Url, WebauthnAuthenticator};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::AuthenticatorBackend;

use super::support::{ok_json, passkey_app, refused_json, soft_passkey, ApprovalSeed, TestApp};

/// The options with one field of `publicKey` replaced (what a tampering client could
/// send its authenticator).
fn with(options: &RequestChallengeResponse, field: &str, value: Value) -> RequestChallengeResponse {
    let mut json = serde_json::to_value(options).unwrap();
    json["publicKey"][field] = value;
    serde_json::from_value(json).unwrap()
}

/// Signs `options` as the authenticator would for `origin`, without the client's own
/// origin and RP ID checks (a hostile or broken client).
fn raw_assertion(
    key: &mut SoftPasskey,
    origin: &str,
    options: RequestChallengeResponse,
) -> webauthn_authenticator_rs::prelude::PublicKeyCredential {
    key.perform_auth(Url::parse(origin).unwrap(), options.public_key, 60_000)
        .unwrap()
}

/// The approvals (each with its requester's browser) are pending and nobody voted.
async fn nothing_decided(app: &TestApp<ApprovalSeed>, pending: &[(&reqwest::Client, &str)]) {
    for (requester, id) in pending {
        assert_eq!(app.status_json(requester, id).await["state"], "pending");
    }
    assert!(app.events("approval.vote").is_empty(), "no vote recorded");
}

#[tokio::test]
async fn an_assertion_made_for_another_approval_is_refused() {
    // Arrange: bob starts a prompt on each of two requests.
    let app = passkey_app().await;
    app.require(ApproverFactor::Passkey);
    let bob = app.signed_in(&app.bob).await;
    let mut key = soft_passkey();
    app.register(&bob, &mut key, "laptop").await;
    let (alice, first) = app.request_access(&app.alice).await;
    let (dave, second) = app.request_access(&app.dave).await;
    let (first_ceremony, first_options) = app.started_vote(&bob, &first.approval_id).await;
    let (second_ceremony, _) = app.started_vote(&bob, &second.approval_id).await;
    let for_first = key.do_authentication(app.origin(), first_options).unwrap();
    // Act: the first request's assertion, with its ceremony, on the second request;
    // then with the second request's ceremony.
    let first_ceremony_elsewhere = app
        .finish_vote(&bob, &second.approval_id, &first_ceremony, &for_first)
        .await;
    let other_challenge = app
        .finish_vote(&bob, &second.approval_id, &second_ceremony, &for_first)
        .await;
    // Assert
    let why = refused_json(first_ceremony_elsewhere, StatusCode::FORBIDDEN).await;
    assert!(why.contains("another request"), "{why}");
    let why = refused_json(other_challenge, StatusCode::FORBIDDEN).await;
    assert!(why.contains("could not be verified"), "{why}");
    let pending = [
        (&alice, first.approval_id.as_str()),
        (&dave, &second.approval_id),
    ];
    nothing_decided(&app, &pending).await;
}

#[tokio::test]
async fn a_ceremony_is_answered_once() {
    // Arrange: two prompts for one request, answered in turn.
    let app = passkey_app().await;
    app.require(ApproverFactor::Passkey);
    app.set_quorum(2);
    let bob = app.signed_in(&app.bob).await;
    let mut key = soft_passkey();
    app.register(&bob, &mut key, "laptop").await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = &pending.approval_id;
    let (first, first_options) = app.started_vote(&bob, id).await;
    let (second, second_options) = app.started_vote(&bob, id).await;
    let for_first = key.do_authentication(app.origin(), first_options).unwrap();
    let for_second = key.do_authentication(app.origin(), second_options).unwrap();
    // Act: a wrong answer to the first prompt, then its right answer, then the right
    // answer replayed after it counted.
    let wrong = app.finish_vote(&bob, id, &first, &for_second).await;
    let too_late = app.finish_vote(&bob, id, &first, &for_first).await;
    let counted = app.finish_vote(&bob, id, &second, &for_second).await;
    let replayed = app.finish_vote(&bob, id, &second, &for_second).await;
    // Assert
    refused_json(wrong, StatusCode::FORBIDDEN).await;
    let why = refused_json(too_late, StatusCode::FORBIDDEN).await;
    assert!(why.contains("no longer valid"), "{why}");
    assert_eq!(
        ok_json(counted).await["state"],
        "pending",
        "one of two votes"
    );
    let why = refused_json(replayed, StatusCode::FORBIDDEN).await;
    assert!(why.contains("no longer valid"), "{why}");
    assert_eq!(app.events("approval.vote").len(), 1);
    assert_eq!(app.status_json(&alice, id).await["state"], "pending");
}

#[tokio::test]
async fn an_assertion_for_another_origin_or_rp_id_is_refused() {
    // Arrange
    let app = passkey_app().await;
    app.require(ApproverFactor::Passkey);
    let bob = app.signed_in(&app.bob).await;
    let mut key = soft_passkey();
    app.register(&bob, &mut key, "laptop").await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = &pending.approval_id;
    let mut other_port = app.origin();
    other_port.set_port(Some(1)).unwrap();
    // Act: signed for another port, for https, for another RP ID.
    let mut answers = Vec::new();
    for (origin, rp_id) in [
        (other_port.as_str(), "localhost"),
        (&app.issuer.replacen("http://", "https://", 1), "localhost"),
        (app.issuer.as_str(), "evil.localhost"),
    ] {
        let (ceremony, options) = app.started_vote(&bob, id).await;
        let options = with(&options, "rpId", rp_id.into());
        let assertion = raw_assertion(&mut key, origin, options);
        answers.push(app.finish_vote(&bob, id, &ceremony, &assertion).await);
    }
    // Assert
    for answer in answers {
        let why = refused_json(answer, StatusCode::FORBIDDEN).await;
        assert!(why.contains("could not be verified"), "{why}");
    }
    nothing_decided(&app, &[(&alice, id)]).await;
    let failures = app.events("step_up.failed");
    assert_eq!(failures.len(), 3, "each refused assertion is audited");
    assert!(failures[0].details.contains(r#""factor":"passkey""#));
}

#[tokio::test]
async fn an_assertion_without_user_verification_is_refused() {
    // Arrange: a client that tells the key user verification is not needed.
    let app = passkey_app().await;
    app.require(ApproverFactor::Passkey);
    let bob = app.signed_in(&app.bob).await;
    let mut key = soft_passkey();
    app.register(&bob, &mut key, "laptop").await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = &pending.approval_id;
    let (ceremony, options) = app.started_vote(&bob, id).await;
    let options = with(&options, "userVerification", "discouraged".into());
    let assertion = key.do_authentication(app.origin(), options).unwrap();
    assert_eq!(
        flags_of(&serde_json::to_value(&assertion).unwrap()) & UV,
        0,
        "the assertion does not claim user verification"
    );
    // Act
    let answer = app.finish_vote(&bob, id, &ceremony, &assertion).await;
    // Assert
    let why = refused_json(answer, StatusCode::FORBIDDEN).await;
    assert!(why.contains("could not be verified"), "{why}");
    nothing_decided(&app, &[(&alice, id)]).await;
}

/// The UV bit of the authenticator data's flags (WebAuthn L2 §6.1).
pub const UV: u8 = 0x04;

/// The flags byte of an assertion's authenticator data (WebAuthn L2 §6.1: after the
/// 32-byte RP ID hash), from the assertion as JSON.
pub fn flags_of(credential: &Value) -> u8 {
    use base64::Engine;
    let data = credential["response"]["authenticatorData"]
        .as_str()
        .unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(data.trim_end_matches('='))
        .unwrap();
    bytes[32]
}

#[tokio::test]
async fn a_credential_of_another_user_is_refused() {
    // Arrange: carol and bob each register a passkey; bob starts a prompt.
    let app = passkey_app().await;
    app.require(ApproverFactor::Passkey);
    let (bob, carol) = app.approvers().await;
    app.register(&bob, &mut soft_passkey(), "bob's").await;
    let mut carols_key = soft_passkey();
    let carols = app.register(&carol, &mut carols_key, "carol's").await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = &pending.approval_id;
    let (ceremony, options) = app.started_vote(&bob, id).await;
    // Act: carol's key answers bob's challenge, in bob's session.
    let allow = serde_json::json!([{"type": "public-key", "id": carols}]);
    let options = with(&options, "allowCredentials", allow);
    let assertion = carols_key.do_authentication(app.origin(), options).unwrap();
    let answer = app.finish_vote(&bob, id, &ceremony, &assertion).await;
    // Assert
    let why = refused_json(answer, StatusCode::FORBIDDEN).await;
    assert!(why.contains("could not be verified"), "{why}");
    nothing_decided(&app, &[(&alice, id)]).await;
}

#[tokio::test]
async fn an_assertion_whose_counter_went_back_is_refused() {
    // Arrange: two requests, a prompt for each; the key signs the first prompt, then
    // the second (its counter rises with each signature).
    let app = passkey_app().await;
    app.require(ApproverFactor::Passkey);
    let bob = app.signed_in(&app.bob).await;
    let mut key = soft_passkey();
    app.register(&bob, &mut key, "laptop").await;
    let (alice, first) = app.request_access(&app.alice).await;
    let (_dave, second) = app.request_access(&app.dave).await;
    let (first_ceremony, first_options) = app.started_vote(&bob, &first.approval_id).await;
    let (second_ceremony, second_options) = app.started_vote(&bob, &second.approval_id).await;
    let older = key.do_authentication(app.origin(), first_options).unwrap();
    let newer = key.do_authentication(app.origin(), second_options).unwrap();
    // Act: the newer signature counts first; the older one then looks like a clone's
    // (WebAuthn L2 §6.1.1).
    let counted = app
        .finish_vote(&bob, &second.approval_id, &second_ceremony, &newer)
        .await;
    let went_back = app
        .finish_vote(&bob, &first.approval_id, &first_ceremony, &older)
        .await;
    // Assert
    assert_eq!(ok_json(counted).await["state"], "approved");
    let why = refused_json(went_back, StatusCode::FORBIDDEN).await;
    assert!(why.contains("could not be verified"), "{why}");
    assert_eq!(
        app.status_json(&alice, &first.approval_id).await["state"],
        "pending"
    );
}
