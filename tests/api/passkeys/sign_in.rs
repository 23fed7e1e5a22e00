//! Signing in with a passkey, no username typed (issue 18; WebAuthn L2 §7.2 with a
//! discoverable credential): the session it starts, what the audit trail and a vote
//! record of it, and the refusals (a used or expired prompt, a handle that is not the
//! credential's owner, an unknown credential, no user verification, a disabled user).

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::support::{ok_json, passkey_app, refused_json, soft_passkey, Held};
use crate::helpers::browser;

#[tokio::test]
async fn a_passkey_signs_its_user_in_without_a_username() {
    // Arrange: bob registered a passkey after a password sign-in.
    let app = passkey_app().await;
    let bob = app.signed_in(&app.bob).await;
    let mut key = soft_passkey();
    let held = app.register_held(&bob, &mut key, "laptop").await;
    let login_page = app.get(&browser(), "/login").await.text().await.unwrap();
    // Act: another browser, nobody signed in.
    let fresh = browser();
    let (ceremony, options) = app.start_sign_in(&fresh).await;
    let answer = app.discoverable_answer(&mut key, &held, &options);
    let signed_in = app
        .finish_sign_in(&fresh, &ceremony, &answer, &[("return_to", "/account")])
        .await;
    // Assert
    assert!(
        login_page.contains("id=\"passkey-sign-in\""),
        "the button is offered"
    );
    assert!(options.mediation.is_none(), "a button press, not autofill");
    assert_eq!(ok_json(signed_in).await["location"], "/account");
    assert!(app.account_page(&fresh).await.contains("Signed in as bob"));
    let logins = app.events("login.succeeded");
    let details: Value = serde_json::from_str(&logins.last().unwrap().details).unwrap();
    assert_eq!(details["method"], "passkey");
    assert_eq!(details["amr"], json!(["hwk", "mfa"]));
}

#[tokio::test]
async fn a_vote_after_a_passkey_sign_in_records_that_sign_in() {
    // Arrange: the scope asks for no factor; bob signs in with his passkey.
    let app = passkey_app().await;
    let password_session = app.signed_in(&app.bob).await;
    let mut key = soft_passkey();
    let held = app
        .register_held(&password_session, &mut key, "laptop")
        .await;
    let bob = app.signed_in_with_passkey(&mut key, &held).await;
    let (_alice, pending) = app.request_access(&app.alice).await;
    // Act
    let voted = app.vote(&bob, &pending.approval_id, "approve", None).await;
    // Assert
    assert_eq!(voted.status(), StatusCode::SEE_OTHER);
    let votes = app.events("approval.vote");
    let details: Value = serde_json::from_str(&votes[0].details).unwrap();
    assert_eq!(details["amr"], json!(["hwk", "mfa"]));
}

#[tokio::test]
async fn a_sign_in_prompt_works_once_and_expires() {
    // Arrange
    let app = passkey_app().await;
    let bob = app.signed_in(&app.bob).await;
    let mut key = soft_passkey();
    let held = app.register_held(&bob, &mut key, "laptop").await;
    let first = browser();
    let (ceremony, options) = app.start_sign_in(&first).await;
    let answer = app.discoverable_answer(&mut key, &held, &options);
    let late = browser();
    let (late_ceremony, late_options) = app.start_sign_in(&late).await;
    let late_answer = app.discoverable_answer(&mut key, &held, &late_options);
    // Act
    let once = app.finish_sign_in(&first, &ceremony, &answer, &[]).await;
    let again = app
        .finish_sign_in(&browser(), &ceremony, &answer, &[])
        .await;
    app.clock.advance(301);
    let expired = app
        .finish_sign_in(&late, &late_ceremony, &late_answer, &[])
        .await;
    // Assert
    ok_json(once).await;
    let why = refused_json(again, StatusCode::FORBIDDEN).await;
    assert!(why.contains("no longer valid"), "{why}");
    let why = refused_json(expired, StatusCode::FORBIDDEN).await;
    assert!(why.contains("no longer valid"), "{why}");
    assert_eq!(
        app.get(&late, "/account").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_handle_that_is_not_the_owners_or_an_unknown_credential_signs_nobody_in() {
    // Arrange: bob and carol each hold a passkey; a third was never registered.
    let app = passkey_app().await;
    let (bob, carol) = app.approvers().await;
    let mut bobs_key = soft_passkey();
    let bobs = app.register_held(&bob, &mut bobs_key, "bob's").await;
    let carols = app
        .register_held(&carol, &mut soft_passkey(), "carol's")
        .await;
    let as_carol = Held {
        user_handle: carols.user_handle.clone(),
        ..bobs.clone()
    };
    // Act: bob's key answers, claiming to be carol's.
    let thief = browser();
    let (ceremony, options) = app.start_sign_in(&thief).await;
    let answer = app.discoverable_answer(&mut bobs_key, &as_carol, &options);
    let claimed = app.finish_sign_in(&thief, &ceremony, &answer, &[]).await;
    // A key the server never saw, with bob's handle.
    let mut stranger = soft_passkey();
    let unknown = register_elsewhere(&mut stranger, &app.origin());
    let unknown = Held {
        credential_id: unknown,
        user_handle: bobs.user_handle.clone(),
    };
    let (ceremony, options) = app.start_sign_in(&thief).await;
    let answer = app.discoverable_answer(&mut stranger, &unknown, &options);
    let unknown_answer = app.finish_sign_in(&thief, &ceremony, &answer, &[]).await;
    // Assert
    for refused in [claimed, unknown_answer] {
        let why = refused_json(refused, StatusCode::FORBIDDEN).await;
        assert!(why.contains("could not be verified"), "{why}");
    }
    assert_eq!(
        app.get(&thief, "/account").await.status(),
        StatusCode::SEE_OTHER
    );
    let failures = app.events("login.failed");
    assert_eq!(failures.len(), 2);
    assert!(failures.iter().all(|e| e.details.contains("\"passkey\"")));
}

/// Registers `key` with a relying party at `origin` that is not the app (so the app
/// never stored it); the credential id.
fn register_elsewhere(
    key: &mut webauthn_authenticator_rs::softpasskey::SoftPasskey,
    origin: &webauthn_authenticator_rs::prelude::Url,
) -> String {
    use webauthn_authenticator_rs::prelude::WebauthnAuthenticator;
    let rp = webauthn_rs::prelude::WebauthnBuilder::new(origin.domain().unwrap(), origin)
        .unwrap()
        .build()
        .unwrap();
    let (options, _) = rp
        .start_passkey_registration(webauthn_rs::prelude::Uuid::new_v4(), "x", "x", None)
        .unwrap();
    let options = serde_json::from_value(serde_json::to_value(options).unwrap()).unwrap();
    key.do_registration(origin.clone(), options).unwrap().id
}

#[tokio::test]
async fn a_sign_in_without_user_verification_is_refused() {
    // Arrange: a client that tells the key user verification is not needed.
    let app = passkey_app().await;
    let bob = app.signed_in(&app.bob).await;
    let mut key = soft_passkey();
    let held = app.register_held(&bob, &mut key, "laptop").await;
    let fresh = browser();
    let (ceremony, options) = app.start_sign_in(&fresh).await;
    let mut json = serde_json::to_value(&options).unwrap();
    json["publicKey"]["userVerification"] = "discouraged".into();
    let options = serde_json::from_value(json).unwrap();
    let answer = app.discoverable_answer(&mut key, &held, &options);
    // Act
    let refused = app.finish_sign_in(&fresh, &ceremony, &answer, &[]).await;
    // Assert
    let why = refused_json(refused, StatusCode::FORBIDDEN).await;
    assert!(why.contains("could not be verified"), "{why}");
    assert_eq!(
        app.get(&fresh, "/account").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_disabled_users_passkey_signs_nobody_in() {
    // Arrange
    let app = passkey_app().await;
    let bob = app.signed_in(&app.bob).await;
    let mut key = soft_passkey();
    let held = app.register_held(&bob, &mut key, "laptop").await;
    app.cli_ok(&["user", "disable", "bob"]);
    // Act
    let fresh = browser();
    let (ceremony, options) = app.start_sign_in(&fresh).await;
    let answer = app.discoverable_answer(&mut key, &held, &options);
    let refused = app.finish_sign_in(&fresh, &ceremony, &answer, &[]).await;
    // Assert
    let why = refused_json(refused, StatusCode::FORBIDDEN).await;
    assert!(why.contains("could not be verified"), "{why}");
    assert_eq!(
        app.get(&fresh, "/account").await.status(),
        StatusCode::SEE_OTHER
    );
}
