//! A code or refresh token presented by a client it was not issued to (RFC 6749
//! §4.1.3, §6) is refused and changes nothing: the rightful client still redeems the
//! code, and its grant is not revoked as if the token had been replayed.

use countersign::manage::ClientSpec;
use reqwest::StatusCode;

use super::support::{
    assert_oauth_error, assert_redirect_error, browser, code_of, exchange, login_and_consent,
    oidc_app, refresh, tokens_for, tokens_of, AuthRequest, Pkce,
};

#[tokio::test]
async fn a_code_shown_by_another_client_stays_redeemable_by_its_own() {
    // Arrange
    let app = oidc_app().await;
    let pkce = Pkce::new();
    let request = AuthRequest::new(&app.rp).pkce(&pkce);
    let response = login_and_consent(&app, &browser(), &request.path()).await;
    let code = code_of(&app, &response);
    let other = app.add_client(ClientSpec::default());
    // Act
    let stolen = exchange(&app, &other, &code, Some(&pkce.verifier)).await;
    let rightful = exchange(&app, &app.rp, &code, Some(&pkce.verifier)).await;
    // Assert
    assert_oauth_error(
        stolen,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "the authorization code was issued to another client",
    )
    .await;
    assert_eq!(
        rightful.status(),
        StatusCode::OK,
        "the code was not used up"
    );
    tokens_of(rightful).await;
}

#[tokio::test]
async fn a_used_refresh_token_shown_by_another_client_revokes_nothing() {
    // Arrange: the rightful client has rotated its refresh token once.
    let app = oidc_app().await;
    let (_, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let used = tokens.refresh_token.unwrap();
    let rotated = tokens_of(refresh(&app, &app.rp, &used, None).await).await;
    let other = app.add_client(ClientSpec::default());
    // Act: another client presents the used token.
    let stolen = refresh(&app, &other, &used, None).await;
    // Assert: refused, and the owner's grant lives on.
    assert_oauth_error(
        stolen,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "the refresh token was issued to another client",
    )
    .await;
    let next = refresh(&app, &app.rp, &rotated.refresh_token.unwrap(), None).await;
    assert_eq!(next.status(), StatusCode::OK, "the grant was not revoked");
}

#[tokio::test]
async fn a_nul_byte_in_a_parameter_is_invalid_request_on_every_backend() {
    // Arrange
    let app = oidc_app().await;
    // Act: PostgreSQL text cannot hold NUL; it must never reach the database.
    let token = app
        .request_as(
            &app.rp,
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", "a\0b"),
                ("redirect_uri", "x"),
            ],
        )
        .send()
        .await
        .unwrap();
    let authorize = app
        .get(
            &browser(),
            &AuthRequest::new(&app.rp).set("nonce", "a\0b").path(),
        )
        .await;
    let login = browser()
        .post(app.url("/login"))
        .form(&[
            ("username", "alice\0"),
            ("password", "x"),
            ("csrf_token", "y"),
        ])
        .send()
        .await
        .unwrap();
    // Assert
    assert_oauth_error(
        token,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "a parameter is not valid percent-encoded UTF-8 or holds a control character",
    )
    .await;
    assert_redirect_error(&app, &authorize, "invalid_request");
    assert_eq!(
        login.status(),
        StatusCode::BAD_REQUEST,
        "a login form with NUL"
    );
}
