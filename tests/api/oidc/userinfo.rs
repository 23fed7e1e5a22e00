//! The userinfo endpoint (OIDC Core §5.3) and its Bearer errors (RFC 6750 §2-3).

use countersign::manage::ClientSpec;
use reqwest::{header, StatusCode};
use serde_json::Value;

use super::support::{
    assert_invalid_token, introspect, jwt_part, oidc_app, tokens_for, tokens_of, AuthRequest,
    SERVICE_SCOPE,
};

#[tokio::test]
async fn userinfo_without_a_token_is_401_with_a_bearer_challenge() {
    // Arrange
    let app = oidc_app().await;
    // Act
    let response = app.http.get(app.url("/userinfo")).send().await.unwrap();
    // Assert
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert!(
        !challenge.contains("error="),
        "RFC 6750 §3.1: no error code without a token"
    );
}

#[tokio::test]
async fn userinfo_with_a_bogus_token_is_401_invalid_token() {
    // Arrange
    let app = oidc_app().await;
    // Act
    let response = app.userinfo("not.a.token").await;
    // Assert
    assert_invalid_token(&response);
}

#[tokio::test]
async fn userinfo_refuses_an_id_token_in_place_of_an_access_token() {
    // Arrange: RFC 9068 §4: only `typ: at+jwt` is an access token.
    let app = oidc_app().await;
    let (_, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    // Act
    let response = app.userinfo(&tokens.id_token.unwrap()).await;
    // Assert
    assert_invalid_token(&response);
}

#[tokio::test]
async fn a_token_in_both_the_header_and_the_body_is_400() {
    // Arrange
    let app = oidc_app().await;
    let (_, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    // Act
    let response = app
        .http
        .post(app.url("/userinfo"))
        .bearer_auth(&tokens.access_token)
        .form(&[("access_token", tokens.access_token.as_str())])
        .send()
        .await
        .unwrap();
    // Assert
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let challenge = response.headers()[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap();
    assert!(
        challenge.contains(r#"error="invalid_request""#),
        "{challenge}"
    );
}

#[tokio::test]
async fn userinfo_accepts_the_token_in_a_form_body_and_releases_claims_by_scope() {
    // Arrange
    let app = oidc_app().await;
    let request = AuthRequest::new(&app.rp).set("scope", "openid email");
    let (_, tokens) = tokens_for(&app, &app.rp, request).await;
    // Act
    let response = app
        .http
        .post(app.url("/userinfo"))
        .form(&[("access_token", tokens.access_token.as_str())])
        .send()
        .await
        .unwrap();
    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let claims: Value = response.json().await.unwrap();
    assert_eq!(claims["sub"], app.alice.id);
    assert_eq!(claims["email"], app.alice.email);
    assert!(
        claims.get("name").is_none(),
        "profile was not granted: {claims}"
    );
}

#[tokio::test]
async fn an_access_token_stops_working_once_the_providers_clock_passes_its_expiry() {
    // Arrange: access tokens live 10 minutes by the provider's clock.
    let app = oidc_app().await;
    let (_, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let exp = jwt_part(&tokens.access_token, 1)["exp"].as_i64().unwrap();
    app.clock.advance(exp - app.now() + 1);
    // Act
    let response = app.userinfo(&tokens.access_token).await;
    let answer = introspect(&app, &app.rp, &tokens.access_token).await;
    // Assert
    assert_invalid_token(&response);
    assert_eq!(answer["active"], false, "{answer}");
}

#[tokio::test]
async fn a_client_credentials_token_is_refused_at_userinfo() {
    // Arrange: no user behind it, no openid in it.
    let app = oidc_app().await;
    app.add_service_scope();
    let service = app.add_client(ClientSpec {
        grant_types: vec![countersign::oidc::grant_type::GrantType::ClientCredentials],
        scopes: vec![SERVICE_SCOPE.into()],
        ..Default::default()
    });
    let response = app
        .post_as(&service, "/token", &[("grant_type", "client_credentials")])
        .await;
    let tokens = tokens_of(response).await;
    // Act
    let response = app.userinfo(&tokens.access_token).await;
    // Assert
    assert!(
        matches!(
            response.status(),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ),
        "{}",
        response.status()
    );
    let challenge = response.headers()[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap();
    assert!(
        challenge.contains(r#"error="insufficient_scope""#)
            || challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_and_may_be_followed_by_spaces() {
    // Arrange: RFC 9110 §11.1, RFC 6750 §2.1.
    let app = oidc_app().await;
    let (_, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    // Act
    let response = app
        .http
        .get(app.url("/userinfo"))
        .header(
            header::AUTHORIZATION,
            format!("bEaReR   {}", tokens.access_token),
        )
        .send()
        .await
        .unwrap();
    // Assert
    assert_eq!(response.status(), StatusCode::OK);
}
