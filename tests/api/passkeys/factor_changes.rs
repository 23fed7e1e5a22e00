//! Who may change an account's factors (issue 18): once the account holds one, a
//! change needs it too: a passkey sign-in, or a current code from the authenticator
//! app in the form; a password alone (a stolen one, or a session left open) adds
//! nothing and removes nothing.

use reqwest::StatusCode;

use super::support::{ok_json, passkey_app, refused_json, soft_passkey};
use crate::helpers::unescape;

#[tokio::test]
async fn a_second_passkey_needs_a_sign_in_with_the_first() {
    // Arrange: bob holds a passkey and signed in with his password.
    let app = passkey_app().await;
    let bob = app.signed_in(&app.bob).await;
    let mut key = soft_passkey();
    let held = app.register_held(&bob, &mut key, "laptop").await;
    let csrf = app.account_csrf(&bob).await;
    // Act
    let add = app
        .post(
            &bob,
            "/account/passkeys",
            &[("csrf_token", &csrf), ("name", "phone")],
        )
        .await;
    let remove = app
        .post(
            &bob,
            "/account/passkeys/remove",
            &[
                ("csrf_token", &csrf),
                ("credential_id", &held.credential_id),
            ],
        )
        .await;
    let totp = app
        .post(&bob, "/account/totp", &[("csrf_token", &csrf)])
        .await;
    let page = unescape(&app.account_page(&bob).await);
    // Assert
    let why = refused_json(add, StatusCode::FORBIDDEN).await;
    assert!(why.contains("confirm with one of your passkeys"), "{why}");
    for refused in [remove, totp] {
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let html = unescape(&refused.text().await.unwrap());
        assert!(html.contains("onfirm with one of your passkeys"), "{html}");
    }
    assert!(page.contains("confirm with one of your passkeys"), "{page}");
    assert!(!page.contains("id=\"passkey-register\""));
    assert!(page.contains(&held.credential_id), "still there");
    // And after signing in with it, both work.
    let by_passkey = app.signed_in_with_passkey(&mut key, &held).await;
    app.register(&by_passkey, &mut soft_passkey(), "phone")
        .await;
    let csrf = app.account_csrf(&by_passkey).await;
    let removed = app
        .post(
            &by_passkey,
            "/account/passkeys/remove",
            &[
                ("csrf_token", &csrf),
                ("credential_id", &held.credential_id),
            ],
        )
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert!(!app
        .account_page(&by_passkey)
        .await
        .contains(&held.credential_id));
}

#[tokio::test]
async fn beside_an_authenticator_app_a_passkey_needs_a_current_code() {
    // Arrange: bob enrolled an authenticator app.
    let app = passkey_app().await;
    let bob = app.signed_in(&app.bob).await;
    let totp = app.enrol_totp(&bob).await;
    app.clock.advance(30);
    let csrf = app.account_csrf(&bob).await;
    let start = |code: Option<String>| {
        let (app, bob, csrf) = (&app, bob.clone(), csrf.clone());
        async move {
            let mut form = vec![("csrf_token", csrf), ("name", "laptop".to_owned())];
            form.extend(code.map(|code| ("code", code)));
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.post(&bob, "/account/passkeys", &form).await
        }
    };
    // Act
    let without = start(None).await;
    let wrong = start(Some("000000".into())).await;
    let right = start(Some(app.code(&totp, 0))).await;
    let page = unescape(&app.account_page(&bob).await);
    // Assert
    let why = refused_json(without, StatusCode::FORBIDDEN).await;
    assert!(why.contains("enter a current code"), "{why}");
    let why = refused_json(wrong, StatusCode::FORBIDDEN).await;
    assert!(why.contains("not valid"), "{why}");
    assert_eq!(
        app.events("step_up.failed").len(),
        1,
        "the wrong code counts"
    );
    assert!(ok_json(right).await["ceremony_id"].is_string());
    assert!(
        page.contains("id=\"passkey-code\""),
        "the form asks for the code"
    );
}

#[tokio::test]
async fn an_enrolment_begun_before_a_passkey_was_added_cannot_be_confirmed_after() {
    // Arrange: with no factor yet, a password session starts enrolling an app (say,
    // a thief with bob's password keeps the key); then bob registers a passkey.
    let app = passkey_app().await;
    let thief = app.signed_in(&app.bob).await;
    let (secret, _) = app.start_enrolment(&thief).await;
    let bob = app.signed_in(&app.bob).await;
    app.register(&bob, &mut soft_passkey(), "laptop").await;
    // Act: the thief confirms the enrolment with a code from the key they kept.
    let code = crate::step_up::support::code_at(&secret, app.now());
    let csrf = app.account_csrf(&thief).await;
    let confirmed = app
        .post(
            &thief,
            "/account/totp/confirm",
            &[("csrf_token", csrf.as_str()), ("code", code.as_str())],
        )
        .await;
    // Assert
    assert_eq!(confirmed.status(), StatusCode::FORBIDDEN);
    let page = unescape(&confirmed.text().await.unwrap());
    assert!(page.contains("onfirm with one of your passkeys"), "{page}");
    assert!(!app
        .account_page(&bob)
        .await
        .contains("An authenticator app is enrolled"));
}
