//! Every error of the token endpoint for the authorization code grant (RFC 6749 §5.2
//! JSON, `Cache-Control: no-store`): PKCE (RFC 7636, RFC 9700 §2.1.1), code replay and
//! expiry, client authentication (RFC 6749 §2.3.1, DESIGN.md §8), malformed bodies.

use countersign::manage::ClientSpec;
use reqwest::{header, StatusCode};

use super::support::{
    assert_invalid_token, assert_oauth_error, assert_refresh_refused, browser, code_of, exchange,
    introspect, jwt_part, login_and_consent, oidc_app, tokens_for, tokens_of, AuthRequest,
    OidcSeed, Pkce, TestApp, TestClient, NONCE, REDIRECT_URI,
};

/// A code for `request` (alice logs in and consents in a new browser).
async fn code_for(app: &TestApp<OidcSeed>, request: AuthRequest) -> String {
    let response = login_and_consent(app, &browser(), &request.path()).await;
    code_of(app, &response)
}

#[tokio::test]
async fn a_wrong_code_verifier_is_invalid_grant() {
    // Arrange
    let app = oidc_app().await;
    let pkce = Pkce::new();
    let code = code_for(&app, AuthRequest::new(&app.rp).pkce(&pkce)).await;
    // Act
    let response = exchange(&app, &app.rp, &code, Some(&Pkce::new().verifier)).await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "code_verifier does not match the code_challenge",
    )
    .await;
}

#[tokio::test]
async fn a_missing_code_verifier_for_a_code_with_a_challenge_is_invalid_grant() {
    // Arrange
    let app = oidc_app().await;
    let pkce = Pkce::new();
    let code = code_for(&app, AuthRequest::new(&app.rp).pkce(&pkce)).await;
    // Act
    let response = exchange(&app, &app.rp, &code, None).await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "code_verifier is required for this code",
    )
    .await;
}

#[tokio::test]
async fn a_code_verifier_for_a_code_issued_without_a_challenge_is_invalid_grant() {
    // Arrange
    let app = oidc_app().await;
    let code = code_for(&app, AuthRequest::new(&app.rp)).await;
    // Act
    let response = exchange(&app, &app.rp, &code, Some(&Pkce::new().verifier)).await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "code_verifier sent but the code was issued without code_challenge",
    )
    .await;
}

#[tokio::test]
async fn a_replayed_code_is_invalid_grant_and_revokes_the_tokens_it_gave() {
    // Arrange
    let app = oidc_app().await;
    let pkce = Pkce::new();
    let code = code_for(&app, AuthRequest::new(&app.rp).pkce(&pkce)).await;
    let first = tokens_of(exchange(&app, &app.rp, &code, Some(&pkce.verifier)).await).await;
    assert_eq!(app.userinfo(&first.access_token).await.status(), 200);
    // Act
    let replay = exchange(&app, &app.rp, &code, Some(&pkce.verifier)).await;
    // Assert
    assert_oauth_error(
        replay,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "the authorization code was already used; tokens issued from it are revoked",
    )
    .await;
    assert_invalid_token(&app.userinfo(&first.access_token).await);
    let answer = introspect(&app, &app.rp, &first.access_token).await;
    assert_eq!(answer["active"], false, "{answer}");
    assert_refresh_refused(
        &app,
        &first.refresh_token.unwrap(),
        "the refresh token was revoked",
    )
    .await;
}

#[tokio::test]
async fn an_expired_code_is_invalid_grant() {
    // Arrange: codes live 60 s.
    let app = oidc_app().await;
    let code = code_for(&app, AuthRequest::new(&app.rp)).await;
    app.clock.advance(61);
    // Act
    let response = exchange(&app, &app.rp, &code, None).await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "the authorization code has expired",
    )
    .await;
}

#[tokio::test]
async fn a_different_redirect_uri_at_the_token_endpoint_is_invalid_grant() {
    // Arrange
    let app = oidc_app().await;
    let code = code_for(&app, AuthRequest::new(&app.rp)).await;
    // Act
    let response = app
        .post_as(
            &app.rp,
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", "http://rp.example/other"),
            ],
        )
        .await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "redirect_uri does not match the authorization request",
    )
    .await;
}

#[tokio::test]
async fn a_missing_redirect_uri_at_the_token_endpoint_is_invalid_request() {
    // Arrange: RFC 6749 §4.1.3: required when it was sent at /authorize.
    let app = oidc_app().await;
    let code = code_for(&app, AuthRequest::new(&app.rp)).await;
    // Act
    let response = app
        .post_as(
            &app.rp,
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
            ],
        )
        .await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "redirect_uri is missing; it was sent in the authorization request",
    )
    .await;
}

#[tokio::test]
async fn a_code_issued_to_another_client_is_invalid_grant() {
    // Arrange
    let app = oidc_app().await;
    let code = code_for(&app, AuthRequest::new(&app.rp)).await;
    let other = app.add_client(ClientSpec::default());
    // Act
    let response = exchange(&app, &other, &code, None).await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "the authorization code was issued to another client",
    )
    .await;
}

#[tokio::test]
async fn a_second_code_in_the_same_session_needs_no_new_login_or_consent() {
    // Arrange
    let app = oidc_app().await;
    let (browser, _) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    // Act
    let response = app.get(&browser, &AuthRequest::new(&app.rp).path()).await;
    // Assert
    let code = code_of(&app, &response);
    let tokens = tokens_of(exchange(&app, &app.rp, &code, None).await).await;
    assert_eq!(jwt_part(&tokens.id_token.unwrap(), 1)["nonce"], NONCE);
}

#[tokio::test]
async fn a_wrong_client_secret_sent_with_basic_is_401_with_a_basic_challenge() {
    // Arrange
    let app = oidc_app().await;
    let code = code_for(&app, AuthRequest::new(&app.rp)).await;
    let impostor = TestClient {
        client_id: app.rp.client_id.clone(),
        secret: Some("not-the-secret".into()),
    };
    // Act
    let response = exchange(&app, &impostor, &code, None).await;
    // Assert
    let headers = assert_oauth_error(
        response,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "client authentication failed",
    )
    .await;
    assert_eq!(
        headers[header::WWW_AUTHENTICATE],
        r#"Basic realm="countersign""#
    );
}

#[tokio::test]
async fn a_wrong_client_secret_sent_in_the_body_is_400_invalid_client() {
    // Arrange
    let app = oidc_app().await;
    let code = code_for(&app, AuthRequest::new(&app.rp)).await;
    // Act
    let response = app
        .http
        .post(app.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", app.rp.client_id.as_str()),
            ("client_secret", "not-the-secret"),
        ])
        .send()
        .await
        .unwrap();
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_client",
        "client authentication failed",
    )
    .await;
}

#[tokio::test]
async fn client_secret_post_is_accepted_for_a_confidential_client() {
    // Arrange
    let app = oidc_app().await;
    let code = code_for(&app, AuthRequest::new(&app.rp)).await;
    // Act
    let response = app
        .http
        .post(app.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", app.rp.client_id.as_str()),
            ("client_secret", app.rp.secret.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    // Assert
    let tokens = tokens_of(response).await;
    assert!(tokens.id_token.is_some());
}

#[tokio::test]
async fn an_authorization_header_of_another_scheme_is_401_invalid_client() {
    // Arrange: RFC 6749 §5.2: the client tried the Authorization header.
    let app = oidc_app().await;
    let code = code_for(&app, AuthRequest::new(&app.rp)).await;
    // Act
    let response = app
        .http
        .post(app.url("/token"))
        .bearer_auth("some-token")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", app.rp.client_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    // Assert
    let headers = assert_oauth_error(
        response,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "the Authorization header is not valid Basic client authentication",
    )
    .await;
    assert_eq!(
        headers[header::WWW_AUTHENTICATE],
        r#"Basic realm="countersign""#
    );
}

#[tokio::test]
async fn basic_and_a_secret_in_the_body_together_are_invalid_request() {
    // Arrange
    let app = oidc_app().await;
    let code = code_for(&app, AuthRequest::new(&app.rp)).await;
    let secret = app.rp.secret.clone().unwrap();
    // Act
    let response = app
        .post_as(
            &app.rp,
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT_URI),
                ("client_secret", secret.as_str()),
            ],
        )
        .await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "use only one client authentication method",
    )
    .await;
}

#[tokio::test]
async fn a_public_client_that_sends_a_secret_fails_authentication() {
    // Arrange
    let app = oidc_app().await;
    let pkce = Pkce::new();
    let code = code_for(&app, AuthRequest::new(&app.spa).pkce(&pkce)).await;
    let with_secret = TestClient {
        client_id: app.spa.client_id.clone(),
        secret: Some("anything".into()),
    };
    // Act
    let response = exchange(&app, &with_secret, &code, Some(&pkce.verifier)).await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "a public client must not send a secret",
    )
    .await;
}

#[tokio::test]
async fn a_repeated_parameter_at_the_token_endpoint_is_invalid_request_json() {
    // Arrange
    let app = oidc_app().await;
    let code = code_for(&app, AuthRequest::new(&app.rp)).await;
    // Act
    let response = app
        .post_as(
            &app.rp,
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT_URI),
            ],
        )
        .await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "a parameter is repeated",
    )
    .await;
}

#[tokio::test]
async fn a_json_body_at_the_token_endpoint_is_invalid_request_json() {
    // Arrange
    let app = oidc_app().await;
    let code = code_for(&app, AuthRequest::new(&app.rp)).await;
    let body = serde_json::json!({
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
    });
    // Act
    let response = app
        .http
        .post(app.url("/token"))
        .basic_auth(&app.rp.client_id, app.rp.secret.as_deref())
        .json(&body)
        .send()
        .await
        .unwrap();
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "the body must be application/x-www-form-urlencoded",
    )
    .await;
}

#[tokio::test]
async fn an_unsupported_grant_type_is_refused() {
    // Arrange
    let app = oidc_app().await;
    // Act
    let response = app
        .post_as(
            &app.rp,
            "/token",
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "x"),
            ],
        )
        .await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
        "grant_type is not supported",
    )
    .await;
}

#[tokio::test]
async fn an_oversized_body_at_the_token_endpoint_is_invalid_request_json() {
    // Arrange
    let app = oidc_app().await;
    let body = format!(
        "grant_type=authorization_code&code={}",
        "a".repeat(100 * 1024)
    );
    // Act
    let response = app
        .http
        .post(app.url("/token"))
        .basic_auth(&app.rp.client_id, app.rp.secret.as_deref())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "the request body is too large",
    )
    .await;
}
