//! Who may introspect (RFC 7662 §2.1): only an authenticated confidential client. A
//! public client is `unauthorized_client`; a caller that does not authenticate, or
//! fails to, is `invalid_client` with 401 and a `WWW-Authenticate` challenge, as RFC
//! 7662 §2.1 asks of every unauthorized introspection and RFC 6749 §5.2 of a failed
//! Basic authentication.

use reqwest::{header, StatusCode};

use super::support::{assert_oauth_error, oidc_app, tokens_for, AuthRequest, TestClient};

#[tokio::test]
async fn a_public_client_may_not_introspect() {
    // Arrange
    let app = oidc_app().await;
    let (_, tokens) = tokens_for(&app, &app.spa, AuthRequest::new(&app.spa)).await;
    // Act
    let response = app
        .post_as(&app.spa, "/introspect", &[("token", &tokens.access_token)])
        .await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        "public clients cannot introspect tokens",
    )
    .await;
}

#[tokio::test]
async fn an_unauthenticated_caller_gets_401_with_a_challenge() {
    // Arrange
    let app = oidc_app().await;
    let (_, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    // Act
    let response = app
        .http
        .post(app.url("/introspect"))
        .form(&[("token", tokens.access_token.as_str())])
        .send()
        .await
        .unwrap();
    // Assert
    let status = response.status();
    let headers = response.headers().clone();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "invalid_client", "{body}");
    assert!(
        body.get("active").is_none(),
        "nothing about the token leaks: {body}"
    );
    let challenge = headers
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap());
    assert_eq!(challenge, Some(r#"Basic realm="countersign""#));
}

#[tokio::test]
async fn a_wrong_secret_gets_401_with_a_challenge() {
    // Arrange
    let app = oidc_app().await;
    let (_, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let impostor = TestClient {
        secret: Some("not-the-secret".into()),
        ..app.rp.clone()
    };
    // Act
    let response = app
        .post_as(&impostor, "/introspect", &[("token", &tokens.access_token)])
        .await;
    // Assert
    let headers = response.headers().clone();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client", "{body}");
    assert!(headers.contains_key(header::WWW_AUTHENTICATE));
}
