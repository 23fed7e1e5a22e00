//! `prompt`, `max_age`, `login_hint` and `id_token_hint` (OIDC Core §3.1.2.1, §3.1.2.3):
//! when the user must sign in or consent again, and the silent `prompt=none` answers.

use countersign::audit::Actor;
use countersign::manage::{self, NewUser};
use secrecy::SecretString;

use super::support::{
    assert_redirect_error, browser, code_of, consent, exchange, jwt_part, login, oidc_app,
    see_other_to, sign_in, tokens_for, tokens_of, AuthRequest, OidcSeed, TestApp, PASSWORD,
};

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    // Arrange
    let app = oidc_app().await;
    let request = AuthRequest::new(&app.rp).set("prompt", "none");
    // Act
    let response = app.get(&browser(), &request.path()).await;
    // Assert
    assert_redirect_error(&app, &response, "login_required");
}

#[tokio::test]
async fn prompt_none_with_a_session_but_no_consent_is_consent_required() {
    // Arrange
    let app = oidc_app().await;
    let browser = browser();
    sign_in(&app, &browser).await;
    let request = AuthRequest::new(&app.rp).set("prompt", "none");
    // Act
    let response = app.get(&browser, &request.path()).await;
    // Assert
    assert_redirect_error(&app, &response, "consent_required");
}

#[tokio::test]
async fn prompt_none_with_a_session_and_consent_issues_a_code_silently() {
    // Arrange
    let app = oidc_app().await;
    let (browser, _) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let request = AuthRequest::new(&app.rp).set("prompt", "none");
    // Act
    let response = app.get(&browser, &request.path()).await;
    // Assert
    code_of(&app, &response);
}

/// Signs alice in and consents once, then lets `seconds` pass.
async fn signed_in_and_consented(app: &TestApp<OidcSeed>, seconds: i64) -> reqwest::Client {
    let (browser, _) = tokens_for(app, &app.rp, AuthRequest::new(&app.rp)).await;
    app.clock.advance(seconds);
    browser
}

/// From the login page of a forced re-login to the code, and the new ID token's claims.
async fn log_in_again(
    app: &TestApp<OidcSeed>,
    browser: &reqwest::Client,
    login_path: &str,
) -> serde_json::Value {
    let response = login(app, browser, login_path, "alice", PASSWORD).await;
    let resume = see_other_to(&response, "/authorize/continue?request=");
    let response = app.get(browser, &resume).await;
    let code = code_of(app, &response);
    let tokens = tokens_of(exchange(app, &app.rp, &code, None).await).await;
    jwt_part(&tokens.id_token.expect("an ID token"), 1)
}

#[tokio::test]
async fn max_age_zero_forces_the_login_page_and_a_fresh_auth_time() {
    // Arrange
    let app = oidc_app().await;
    let browser = signed_in_and_consented(&app, 30).await;
    let request = AuthRequest::new(&app.rp).set("max_age", "0");
    // Act
    let response = app.get(&browser, &request.path()).await;
    // Assert
    let login_path = see_other_to(&response, "/login?request=");
    let claims = log_in_again(&app, &browser, &login_path).await;
    assert_eq!(claims["auth_time"], app.now());
}

#[tokio::test]
async fn prompt_login_forces_the_login_page() {
    // Arrange
    let app = oidc_app().await;
    let browser = signed_in_and_consented(&app, 30).await;
    let request = AuthRequest::new(&app.rp).set("prompt", "login");
    // Act
    let response = app.get(&browser, &request.path()).await;
    // Assert
    let login_path = see_other_to(&response, "/login?request=");
    let claims = log_in_again(&app, &browser, &login_path).await;
    assert_eq!(claims["auth_time"], app.now());
}

#[tokio::test]
async fn prompt_login_forces_the_login_page_even_within_the_second_of_the_last_login() {
    // Arrange: the RP asks for a re-login right after the first one (same clock second).
    let app = oidc_app().await;
    let browser = signed_in_and_consented(&app, 0).await;
    let request = AuthRequest::new(&app.rp).set("prompt", "login");
    // Act
    let response = app.get(&browser, &request.path()).await;
    // Assert
    see_other_to(&response, "/login?request=");
}

#[tokio::test]
async fn prompt_none_with_an_id_token_hint_for_another_user_is_login_required() {
    // Arrange: bob's ID token while alice is signed in.
    let app = oidc_app().await;
    manage::add_user(
        &app.store,
        NewUser {
            username: "bob".into(),
            email: "bob@example.com".into(),
            name: None,
            password: Some(SecretString::from(PASSWORD)),
        },
        &Actor::Cli,
        app.now(),
    )
    .unwrap();
    let bob = browser();
    let response = app.get(&bob, &AuthRequest::new(&app.rp).path()).await;
    let login_path = see_other_to(&response, "/login?request=");
    let response = login(&app, &bob, &login_path, "bob", PASSWORD).await;
    let resume = see_other_to(&response, "/authorize/continue?request=");
    let consent_path = see_other_to(&app.get(&bob, &resume).await, "/consent?request=");
    let code = code_of(&app, &consent(&app, &bob, &consent_path, "allow").await);
    let bobs = tokens_of(exchange(&app, &app.rp, &code, None).await).await;
    let alice = signed_in_and_consented(&app, 0).await;
    let request = AuthRequest::new(&app.rp)
        .set("prompt", "none")
        .set("id_token_hint", &bobs.id_token.unwrap());
    // Act
    let response = app.get(&alice, &request.path()).await;
    // Assert
    assert_redirect_error(&app, &response, "login_required");
}

#[tokio::test]
async fn prompt_consent_shows_the_consent_page_again() {
    // Arrange
    let app = oidc_app().await;
    let browser = signed_in_and_consented(&app, 0).await;
    let request = AuthRequest::new(&app.rp).set("prompt", "consent");
    // Act
    let response = app.get(&browser, &request.path()).await;
    // Assert
    see_other_to(&response, "/consent?request=");
}

#[tokio::test]
async fn login_hint_prefills_the_login_page() {
    // Arrange
    let app = oidc_app().await;
    let browser = browser();
    let request = AuthRequest::new(&app.rp).set("login_hint", "alice");
    let response = app.get(&browser, &request.path()).await;
    let login_path = see_other_to(&response, "/login?request=");
    // Act
    let page = app.get(&browser, &login_path).await.text().await.unwrap();
    // Assert
    assert!(page.contains(r#"name="username" autocomplete="username" required value="alice""#));
    assert!(page.contains("Relying Party"), "names the client");
}
