//! Disabling a user (`manage::disable_user`, `countersign user disable`) takes effect at
//! once everywhere: their browser sessions stop working (the next /authorize asks them
//! to sign in), their refresh tokens are `invalid_grant` (RFC 6749 §5.2), their
//! unexpired access tokens are `invalid_token` at userinfo (RFC 6750 §3.1) and inactive
//! at introspection (RFC 7662 §2.2), a code issued before is not exchanged, and they
//! cannot sign in again.

use countersign::audit::Actor;
use countersign::manage;
use reqwest::StatusCode;

use crate::oidc::support::{
    assert_invalid_token, assert_oauth_error, assert_refresh_refused, browser, code_of, exchange,
    introspect, login, login_and_consent, oidc_app, see_other_to, tokens_for, AuthRequest,
    OidcSeed, Pkce, TestApp, PASSWORD,
};

fn disable_alice(app: &TestApp<OidcSeed>) {
    manage::disable_user(&app.store, &app.alice.username, &Actor::Cli, app.now()).unwrap();
}

#[tokio::test]
async fn a_disabled_users_session_refresh_and_access_tokens_stop_working_at_once() {
    // Arrange: alice is signed in and holds live tokens.
    let app = oidc_app().await;
    let (browser, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let refresh_token = tokens.refresh_token.clone().unwrap();
    assert_eq!(
        introspect(&app, &app.rp, &tokens.access_token).await["active"],
        true
    );
    // Act
    disable_alice(&app);
    // Assert: the session is gone: the next authorization request asks to sign in.
    let response = app.get(&browser, &AuthRequest::new(&app.rp).path()).await;
    see_other_to(&response, "/login?request=");
    // The refresh token is refused, the access token is dead everywhere.
    assert_refresh_refused(&app, &refresh_token, "the refresh token was revoked").await;
    assert_invalid_token(&app.userinfo(&tokens.access_token).await);
    let access = introspect(&app, &app.rp, &tokens.access_token).await;
    assert_eq!(access, serde_json::json!({"active": false}));
    let refresh = introspect(&app, &app.rp, &refresh_token).await;
    assert_eq!(refresh, serde_json::json!({"active": false}));
}

#[tokio::test]
async fn a_code_issued_before_the_user_was_disabled_is_not_exchanged() {
    // Arrange
    let app = oidc_app().await;
    let pkce = Pkce::new();
    let request = AuthRequest::new(&app.rp).pkce(&pkce);
    let response = login_and_consent(&app, &browser(), &request.path()).await;
    let code = code_of(&app, &response);
    // Act
    disable_alice(&app);
    let exchanged = exchange(&app, &app.rp, &code, Some(&pkce.verifier)).await;
    // Assert
    assert_oauth_error(
        exchanged,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "the grant behind this code was revoked",
    )
    .await;
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_again() {
    // Arrange
    let app = oidc_app().await;
    disable_alice(&app);
    // Act
    let response = login(&app, &browser(), "/login", &app.alice.username, PASSWORD).await;
    // Assert: the same answer as a wrong password.
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("Wrong username or password."), "{html}");
}
