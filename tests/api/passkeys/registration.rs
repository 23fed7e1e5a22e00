//! Registering passkeys on the account page (issue 18; WebAuthn L2 §7.1): several per
//! user, named, listed and removable, each change audited; user verification is
//! required; a registration prompt is its user's, works once and expires.

use reqwest::StatusCode;
use serde_json::Value;
use webauthn_authenticator_rs::prelude::{CreationChallengeResponse, WebauthnAuthenticator};

use super::support::{ok_json, passkey_app, refused_json, soft_passkey};
use crate::helpers::see_other;

#[tokio::test]
async fn passkeys_are_registered_by_name_listed_and_removed() {
    // Arrange: once he holds a passkey, bob signs in with it to change his factors.
    let app = passkey_app().await;
    let password_session = app.signed_in(&app.bob).await;
    let mut key = soft_passkey();
    // Act
    let held = app
        .register_held(&password_session, &mut key, "laptop")
        .await;
    let laptop = held.credential_id.clone();
    let bob = app.signed_in_with_passkey(&mut key, &held).await;
    let phone = app.register(&bob, &mut soft_passkey(), "phone").await;
    let listed = app.account_page(&bob).await;
    let csrf = app.account_csrf(&bob).await;
    let form = [
        ("csrf_token", csrf.as_str()),
        ("credential_id", laptop.as_str()),
    ];
    let removed = app.post(&bob, "/account/passkeys/remove", &form).await;
    // Assert
    assert!(listed.contains("laptop") && listed.contains("phone"));
    assert!(listed.contains(&laptop) && listed.contains(&phone));
    assert_eq!(see_other(&removed), "/account");
    let after = app.account_page(&bob).await;
    assert!(!after.contains(&laptop) && after.contains(&phone));
    let enrolled: Vec<Value> = app
        .events("factor.enrolled")
        .iter()
        .map(|e| serde_json::from_str(&e.details).unwrap())
        .collect();
    assert_eq!(enrolled.len(), 2);
    assert_eq!(enrolled[0]["factor"], "passkey");
    assert_eq!(enrolled[0]["credential_id"], laptop.as_str());
    let removals = app.events("factor.removed");
    assert_eq!(removals.len(), 1);
    assert!(removals[0].details.contains(&laptop));
}

#[tokio::test]
async fn nobody_removes_a_passkey_of_someone_else() {
    // Arrange
    let app = passkey_app().await;
    let (bob, carol) = app.approvers().await;
    let bobs = app.register(&bob, &mut soft_passkey(), "laptop").await;
    // Act
    let csrf = app.account_csrf(&carol).await;
    let form = [
        ("csrf_token", csrf.as_str()),
        ("credential_id", bobs.as_str()),
    ];
    let refused = app.post(&carol, "/account/passkeys/remove", &form).await;
    // Assert
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(app.account_page(&bob).await.contains(&bobs));
}

/// The creation options with `authenticatorSelection.userVerification` replaced.
fn without_uv(options: &CreationChallengeResponse) -> CreationChallengeResponse {
    let mut json = serde_json::to_value(options).unwrap();
    json["publicKey"]["authenticatorSelection"]["userVerification"] = "discouraged".into();
    serde_json::from_value(json).unwrap()
}

#[tokio::test]
async fn a_registration_without_user_verification_is_refused() {
    // Arrange: a client that tells the key user verification is not needed.
    let app = passkey_app().await;
    let bob = app.signed_in(&app.bob).await;
    let (ceremony, options) = app.start_registration(&bob, "laptop").await;
    let credential = soft_passkey()
        .do_registration(app.origin(), without_uv(&options))
        .unwrap();
    // Act
    let answer = app.finish_registration(&bob, &ceremony, &credential).await;
    // Assert
    let why = refused_json(answer, StatusCode::FORBIDDEN).await;
    assert!(why.contains("could not be verified"), "{why}");
    assert!(!app.account_page(&bob).await.contains(&credential.id));
}

#[tokio::test]
async fn a_registration_prompt_is_its_users_works_once_and_expires() {
    // Arrange
    let app = passkey_app().await;
    let (bob, carol) = app.approvers().await;
    let mut key = soft_passkey();
    let (ceremony, options) = app.start_registration(&bob, "laptop").await;
    let credential = key.do_registration(app.origin(), options).unwrap();
    let (late, late_options) = app.start_registration(&bob, "phone").await;
    let late_credential = soft_passkey()
        .do_registration(app.origin(), late_options)
        .unwrap();
    // Act
    let by_carol = app
        .finish_registration(&carol, &ceremony, &credential)
        .await;
    let by_bob = app.finish_registration(&bob, &ceremony, &credential).await;
    let again = app.finish_registration(&bob, &ceremony, &credential).await;
    app.clock.advance(301);
    let expired = app.finish_registration(&bob, &late, &late_credential).await;
    // Assert
    let why = refused_json(by_carol, StatusCode::FORBIDDEN).await;
    assert!(why.contains("no longer valid"), "{why}");
    assert_eq!(ok_json(by_bob).await["name"], "laptop");
    let why = refused_json(again, StatusCode::FORBIDDEN).await;
    assert!(why.contains("no longer valid"), "{why}");
    let why = refused_json(expired, StatusCode::FORBIDDEN).await;
    assert!(why.contains("no longer valid"), "{why}");
    assert!(!app.account_page(&carol).await.contains(&credential.id));
}

#[tokio::test]
async fn adding_or_removing_a_passkey_needs_a_recent_sign_in() {
    // Arrange: bob registered a passkey, then left his session open for eleven minutes.
    let app = passkey_app().await;
    let bob = app.signed_in(&app.bob).await;
    let laptop = app.register(&bob, &mut soft_passkey(), "laptop").await;
    app.clock.advance(660);
    // Act
    let csrf = app.account_csrf(&bob).await;
    let form = [("csrf_token", csrf.as_str()), ("name", "phone")];
    let add = app.post(&bob, "/account/passkeys", &form).await;
    let form = [
        ("csrf_token", csrf.as_str()),
        ("credential_id", laptop.as_str()),
    ];
    let remove = app.post(&bob, "/account/passkeys/remove", &form).await;
    // Assert
    let why = refused_json(add, StatusCode::UNAUTHORIZED).await;
    assert!(why.contains("sign in again"), "{why}");
    assert_eq!(see_other(&remove), "/login?return_to=%2Faccount&fresh=1");
    assert!(app.account_page(&bob).await.contains(&laptop));
}
