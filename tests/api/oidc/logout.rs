//! RP-Initiated Logout 1.0: with a valid `id_token_hint` the session ends at once and the
//! browser goes to the registered `post_logout_redirect_uri` with `state`; without a
//! hint the user confirms first (CSRF-checked).

use reqwest::StatusCode;

use super::support::{
    assert_error_page, assert_redirect_error, browser, hidden_input, oidc_app, redirect_params,
    see_other, sign_in, tokens_for, AuthRequest, OidcSeed, TestApp, POST_LOGOUT_URI,
};

/// A `prompt=none` request proves whether the browser still has a session.
async fn assert_signed_out(app: &TestApp<OidcSeed>, browser: &reqwest::Client) {
    let request = AuthRequest::new(&app.rp).set("prompt", "none");
    let response = app.get(browser, &request.path()).await;
    assert_redirect_error(app, &response, "login_required");
}

fn logout_path(pairs: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("/logout?{query}")
}

#[tokio::test]
async fn logout_with_an_id_token_hint_ends_the_session_and_returns_with_state() {
    // Arrange
    let app = oidc_app().await;
    let (browser, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let hint = tokens.id_token.unwrap();
    let path = logout_path(&[
        ("id_token_hint", hint.as_str()),
        ("post_logout_redirect_uri", POST_LOGOUT_URI),
        ("state", "bye 1"),
    ]);
    // Act
    let response = app.get(&browser, &path).await;
    // Assert
    assert_eq!(
        see_other(&response),
        format!("{POST_LOGOUT_URI}?state=bye+1")
    );
    assert_signed_out(&app, &browser).await;
}

#[tokio::test]
async fn an_unregistered_post_logout_redirect_uri_is_a_400_page_and_keeps_the_session() {
    // Arrange
    let app = oidc_app().await;
    let (browser, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let hint = tokens.id_token.unwrap();
    let path = logout_path(&[
        ("id_token_hint", hint.as_str()),
        ("post_logout_redirect_uri", "http://evil.example/"),
    ]);
    // Act
    let response = app.get(&browser, &path).await;
    // Assert
    assert_error_page(response).await;
    let request = AuthRequest::new(&app.rp).set("prompt", "none");
    let still = app.get(&browser, &request.path()).await;
    assert!(redirect_params(&still).contains_key("code"));
}

#[tokio::test]
async fn logout_without_a_hint_asks_for_confirmation_then_signs_out() {
    // Arrange
    let app = oidc_app().await;
    let browser = browser();
    sign_in(&app, &browser).await;
    // Act: the confirmation page
    let page = app.get(&browser, "/logout").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let csrf = hidden_input(&html, "csrf_token").expect("a CSRF token");
    assert_eq!(hidden_input(&html, "confirm").as_deref(), Some("yes"));
    // Act: confirm
    let response = browser
        .post(app.url("/logout"))
        .form(&[("confirm", "yes"), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("Signed out"));
    assert_signed_out(&app, &browser).await;
}

#[tokio::test]
async fn a_logout_confirmation_with_a_bad_csrf_token_is_forbidden() {
    // Arrange
    let app = oidc_app().await;
    let browser = browser();
    sign_in(&app, &browser).await;
    app.get(&browser, "/logout").await;
    // Act
    let response = browser
        .post(app.url("/logout"))
        .form(&[("confirm", "yes"), ("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    // Assert
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let request = AuthRequest::new(&app.rp).set("prompt", "none");
    let still = app.get(&browser, &request.path()).await;
    assert_redirect_error(&app, &still, "consent_required");
}

#[tokio::test]
async fn a_forged_id_token_hint_is_a_400_page() {
    // Arrange
    let app = oidc_app().await;
    let browser = browser();
    sign_in(&app, &browser).await;
    let path = logout_path(&[
        ("id_token_hint", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
        ("post_logout_redirect_uri", POST_LOGOUT_URI),
    ]);
    // Act
    let response = app.get(&browser, &path).await;
    // Assert
    assert_error_page(response).await;
}

#[tokio::test]
async fn an_rp_may_post_the_logout_request() {
    // Arrange
    let app = oidc_app().await;
    let (browser, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let hint = tokens.id_token.unwrap();
    // Act
    let response = browser
        .post(app.url("/logout"))
        .form(&[
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", POST_LOGOUT_URI),
            ("state", "s"),
        ])
        .send()
        .await
        .unwrap();
    // Assert
    assert_eq!(see_other(&response), format!("{POST_LOGOUT_URI}?state=s"));
    assert_signed_out(&app, &browser).await;
}

#[tokio::test]
async fn an_access_token_is_not_accepted_as_id_token_hint_and_the_session_stays() {
    // Arrange
    let app = oidc_app().await;
    let (browser, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let path = logout_path(&[
        ("id_token_hint", tokens.access_token.as_str()),
        ("post_logout_redirect_uri", POST_LOGOUT_URI),
    ]);
    // Act
    let response = app.get(&browser, &path).await;
    // Assert
    assert_error_page(response).await;
    let request = AuthRequest::new(&app.rp).set("prompt", "none");
    let still = app.get(&browser, &request.path()).await;
    assert!(redirect_params(&still).contains_key("code"));
}
