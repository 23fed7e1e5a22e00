//! Refresh (RFC 6749 §6: rotation, reuse detection, scope), client_credentials
//! (RFC 6749 §4.4) and revocation across clients (RFC 7009 §2.1).

use countersign::manage::ClientSpec;
use reqwest::StatusCode;

use super::support::{
    assert_invalid_token, assert_oauth_error, assert_refresh_refused, introspect, jwt_part,
    oidc_app, refresh, tokens_for, tokens_of, AuthRequest, OidcSeed, TestApp, TestClient,
    SERVICE_SCOPE,
};

#[tokio::test]
async fn a_reused_refresh_token_is_invalid_grant_and_revokes_the_newest_one() {
    // Arrange
    let app = oidc_app().await;
    let (_, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let old = tokens.refresh_token.unwrap();
    let rotated = tokens_of(refresh(&app, &app.rp, &old, None).await).await;
    let newest = rotated.refresh_token.expect("a rotated refresh token");
    assert_ne!(newest, old);
    // Act
    let reuse = refresh(&app, &app.rp, &old, None).await;
    // Assert
    assert_oauth_error(
        reuse,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "the refresh token was already used; the grant is revoked",
    )
    .await;
    assert_refresh_refused(&app, &newest, "the refresh token was revoked").await;
    assert_invalid_token(&app.userinfo(&rotated.access_token).await);
}

#[tokio::test]
async fn a_narrower_refresh_scope_narrows_only_the_new_access_token() {
    // Arrange
    let app = oidc_app().await;
    let (_, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    // Act
    let narrowed = tokens_of(
        refresh(
            &app,
            &app.rp,
            &tokens.refresh_token.unwrap(),
            Some("openid profile"),
        )
        .await,
    )
    .await;
    // Assert
    assert_eq!(narrowed.scope, "openid profile");
    assert_eq!(
        jwt_part(&narrowed.access_token, 1)["scope"],
        "openid profile"
    );
    let info: serde_json::Value = app
        .userinfo(&narrowed.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["name"], app.alice.name.as_deref().unwrap());
    assert!(info.get("email").is_none(), "{info}");
    let again =
        tokens_of(refresh(&app, &app.rp, &narrowed.refresh_token.unwrap(), None).await).await;
    assert_eq!(
        again.scope, "openid profile email offline_access",
        "the refresh token keeps the grant's scope"
    );
}

#[tokio::test]
async fn a_wider_refresh_scope_is_invalid_scope() {
    // Arrange
    let app = oidc_app().await;
    let request = AuthRequest::new(&app.rp).set("scope", "openid profile offline_access");
    let (_, tokens) = tokens_for(&app, &app.rp, request).await;
    // Act
    let response = refresh(
        &app,
        &app.rp,
        &tokens.refresh_token.unwrap(),
        Some("openid profile email offline_access"),
    )
    .await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        "the requested scope exceeds the original grant",
    )
    .await;
}

#[tokio::test]
async fn a_refresh_token_of_another_client_is_invalid_grant() {
    // Arrange
    let app = oidc_app().await;
    let (_, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let other = app.add_client(ClientSpec::default());
    // Act
    let response = refresh(&app, &other, &tokens.refresh_token.unwrap(), None).await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "the refresh token was issued to another client",
    )
    .await;
}

#[tokio::test]
async fn a_refresh_token_expires_by_the_providers_clock() {
    // Arrange: refresh tokens live 30 days.
    let app = oidc_app().await;
    let (_, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    app.clock.advance(30 * 24 * 3600 + 1);
    // Act
    let response = refresh(&app, &app.rp, &tokens.refresh_token.unwrap(), None).await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "the refresh token has expired",
    )
    .await;
}

#[tokio::test]
async fn no_refresh_token_without_offline_access() {
    // Arrange
    let app = oidc_app().await;
    let request = AuthRequest::new(&app.rp).set("scope", "openid profile");
    // Act
    let (_, tokens) = tokens_for(&app, &app.rp, request).await;
    // Assert
    assert!(tokens.refresh_token.is_none());
    assert!(tokens.id_token.is_some());
}

/// A confidential client registered for client_credentials with `scopes`.
pub(crate) fn service_client(app: &TestApp<OidcSeed>, scopes: &[&str]) -> TestClient {
    app.add_service_scope();
    app.add_client(ClientSpec {
        name: "Report service".into(),
        grant_types: vec![countersign::oidc::grant_type::GrantType::ClientCredentials],
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        ..ClientSpec::default()
    })
}

#[tokio::test]
async fn client_credentials_gives_an_access_token_and_no_id_token() {
    // Arrange
    let app = oidc_app().await;
    let service = service_client(&app, &[SERVICE_SCOPE]);
    // Act
    let response = app
        .post_as(&service, "/token", &[("grant_type", "client_credentials")])
        .await;
    // Assert
    let tokens = tokens_of(response).await;
    assert!(tokens.id_token.is_none());
    assert!(tokens.refresh_token.is_none());
    assert_eq!(tokens.scope, SERVICE_SCOPE);
    let claims = jwt_part(&tokens.access_token, 1);
    assert_eq!(claims["sub"], service.client_id);
    assert_eq!(claims["scope"], SERVICE_SCOPE);
    let answer = introspect(&app, &service, &tokens.access_token).await;
    assert_eq!(answer["active"], true, "{answer}");
}

#[tokio::test]
async fn client_credentials_asking_for_openid_is_invalid_scope() {
    // Arrange
    let app = oidc_app().await;
    let service = service_client(&app, &["openid", SERVICE_SCOPE]);
    // Act
    let response = app
        .post_as(
            &service,
            "/token",
            &[("grant_type", "client_credentials"), ("scope", "openid")],
        )
        .await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        "user scopes such as openid are not available without a user",
    )
    .await;
}

#[tokio::test]
async fn client_credentials_for_a_client_without_that_grant_is_unauthorized_client() {
    // Arrange
    let app = oidc_app().await;
    // Act
    let response = app
        .post_as(&app.rp, "/token", &[("grant_type", "client_credentials")])
        .await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        "the client may not use the client_credentials grant",
    )
    .await;
}

#[tokio::test]
async fn revoking_another_clients_token_is_refused_and_the_token_stays_active() {
    // Arrange
    let app = oidc_app().await;
    let (_, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let other = app.add_client(ClientSpec::default());
    // Act
    let response = app
        .post_as(
            &other,
            "/revoke",
            &[("token", tokens.access_token.as_str())],
        )
        .await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        "the token was issued to another client",
    )
    .await;
    let answer = introspect(&app, &app.rp, &tokens.access_token).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(app.userinfo(&tokens.access_token).await.status(), 200);
}

#[tokio::test]
async fn a_client_registered_for_es256_or_eddsa_access_tokens_gets_them_verifiable_by_the_jwks() {
    use countersign::crypto::KeyAlg;
    use jsonwebtoken::jwk::JwkSet;
    for (alg, jwt_alg) in [
        (KeyAlg::ES256, jsonwebtoken::Algorithm::ES256),
        (KeyAlg::EdDSA, jsonwebtoken::Algorithm::EdDSA),
    ] {
        // Arrange
        let app = oidc_app().await;
        app.add_service_scope();
        let service = app.add_client(ClientSpec {
            name: "Fast service".into(),
            grant_types: vec![countersign::oidc::grant_type::GrantType::ClientCredentials],
            scopes: vec![SERVICE_SCOPE.to_owned()],
            access_token_alg: alg,
            ..ClientSpec::default()
        });
        // Act
        let response = app
            .post_as(&service, "/token", &[("grant_type", "client_credentials")])
            .await;
        // Assert: the header names the algorithm and a published key that verifies it.
        let tokens = tokens_of(response).await;
        let header = jwt_part(&tokens.access_token, 0);
        assert_eq!(header["alg"], alg.as_str());
        assert_eq!(header["typ"], "at+jwt");
        let jwks: JwkSet = app
            .http
            .get(app.url("/jwks.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let kid = header["kid"].as_str().unwrap();
        let jwk = jwks.find(kid).expect("the kid is published");
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jwt_alg);
        validation.set_issuer(&[&app.issuer]);
        validation.validate_aud = false;
        validation.validate_exp = false;
        let claims =
            jsonwebtoken::decode::<serde_json::Value>(&tokens.access_token, &key, &validation);
        assert_eq!(claims.unwrap().claims["sub"], service.client_id);
        let answer = introspect(&app, &service, &tokens.access_token).await;
        assert_eq!(answer["active"], true, "{answer}");
    }
}

#[tokio::test]
async fn an_rs256_default_client_with_es256_access_tokens_keeps_rs256_id_tokens() {
    // Arrange
    let app = oidc_app().await;
    let client = app.add_client(ClientSpec {
        access_token_alg: countersign::crypto::KeyAlg::ES256,
        ..ClientSpec::default()
    });
    // Act
    let (_, tokens) = tokens_for(&app, &client, AuthRequest::new(&client)).await;
    // Assert
    assert_eq!(jwt_part(&tokens.access_token, 0)["alg"], "ES256");
    assert_eq!(
        jwt_part(tokens.id_token.as_deref().unwrap(), 0)["alg"],
        "RS256"
    );
    assert_eq!(
        app.userinfo(&tokens.access_token).await.status(),
        StatusCode::OK
    );
}
