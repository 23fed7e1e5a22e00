//! The authorization code flow end to end with an unmodified RP library (DESIGN.md
//! §5.1, §8): discovery → authorize (PKCE S256 + nonce) → login → consent → code →
//! token → verified ID token → userinfo → refresh → revoke → introspect.

use openidconnect::core::{CoreErrorResponseType, CoreRevocableToken, CoreTokenResponse};
use openidconnect::{
    AccessTokenHash, Nonce, OAuth2TokenResponse, RequestTokenError, TokenIntrospectionResponse,
};
use reqwest::{header, StatusCode};

use super::rp::{id_token, Rp, RpFlow};
use super::support::{
    browser, consent, form_action, hidden_input, login, login_and_consent, oidc_app,
    redirect_params, see_other_to, OidcSeed, TestApp, PASSWORD, REDIRECT_URI,
};

/// Drives the browser through `flow` (login and consent), checks the redirect's
/// `state` and `iss`, and exchanges the code with the library.
async fn sign_in_with(app: &TestApp<OidcSeed>, rp: &Rp, flow: RpFlow) -> CoreTokenResponse {
    let browser = browser();
    let response = login_and_consent(app, &browser, flow.url.as_str()).await;
    let params = redirect_params(&response);
    assert_eq!(params["state"], *flow.state.secret());
    assert_eq!(params["iss"], app.issuer);
    rp.exchange(&params["code"], flow.verifier).await
}

#[tokio::test]
async fn a_confidential_client_signs_alice_in_with_the_openidconnect_library() {
    // Arrange
    let app = oidc_app().await;
    let rp = Rp::discover(&app, &app.rp).await;
    let flow = rp.start(&[]);
    let nonce = Nonce::new(flow.nonce.secret().clone());
    // Act
    let tokens = sign_in_with(&app, &rp, flow).await;
    let claims = rp.verify(&tokens, &nonce);
    let info = rp.user_info(&tokens, claims).await;
    // Assert: the ID token
    assert_eq!(claims.subject().as_str(), app.alice.id);
    let name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str());
    assert_eq!(name, app.alice.name.as_deref());
    assert_eq!(
        claims.email().map(|e| e.as_str()),
        Some(app.alice.email.as_str())
    );
    let auth_time = claims.auth_time().expect("auth_time").timestamp();
    assert!((app.now() - 5..=app.now()).contains(&auth_time));
    let verifier = rp.client.id_token_verifier();
    let token = id_token(&tokens);
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        token.signing_alg().unwrap(),
        token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    assert!(
        tokens.refresh_token().is_some(),
        "offline_access was granted"
    );
    // Assert: userinfo
    assert_eq!(info.subject().as_str(), app.alice.id);
    assert_eq!(
        info.email().map(|e| e.as_str()),
        Some(app.alice.email.as_str())
    );
    let name = info.name().and_then(|n| n.get(None)).map(|n| n.as_str());
    assert_eq!(name, app.alice.name.as_deref());
}

#[tokio::test]
async fn the_library_refreshes_then_revokes_and_introspection_follows() {
    // Arrange
    let app = oidc_app().await;
    let rp = Rp::discover(&app, &app.rp).await;
    let tokens = sign_in_with(&app, &rp, rp.start(&[])).await;
    let first_refresh = tokens.refresh_token().expect("a refresh token").clone();
    // Act: refresh
    let refreshed = rp
        .client
        .exchange_refresh_token(&first_refresh)
        .unwrap()
        .request_async(&rp.http)
        .await
        .expect("refresh");
    let new_refresh = refreshed.refresh_token().expect("rotated").clone();
    let before = rp
        .client
        .introspect(refreshed.access_token())
        .request_async(&rp.http)
        .await
        .expect("introspection");
    // Act: revoke
    rp.revoke(CoreRevocableToken::from(new_refresh.clone()))
        .await
        .expect("revocation");
    let after = rp
        .client
        .introspect(refreshed.access_token())
        .request_async(&rp.http)
        .await
        .expect("introspection");
    let reuse = rp
        .client
        .exchange_refresh_token(&new_refresh)
        .unwrap()
        .request_async(&rp.http)
        .await;
    // Assert
    assert_ne!(new_refresh.secret(), first_refresh.secret());
    assert!(before.active());
    assert_eq!(before.sub(), Some(app.alice.id.as_str()));
    assert_eq!(
        before.client_id().map(|c| c.as_str()),
        Some(app.rp.client_id.as_str())
    );
    assert!(
        !after.active(),
        "revoking the refresh token revokes the grant"
    );
    assert!(
        matches!(&reuse, Err(RequestTokenError::ServerResponse(e)) if *e.error() == CoreErrorResponseType::InvalidGrant),
        "{reuse:?}"
    );
    assert_invalid(&app, refreshed.access_token().secret()).await;
}

async fn assert_invalid(app: &TestApp<OidcSeed>, access_token: &str) {
    let response = app.userinfo(access_token).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_public_client_completes_the_flow_with_pkce_and_no_secret() {
    // Arrange
    let app = oidc_app().await;
    let rp = Rp::discover(&app, &app.spa).await;
    let flow = rp.start(&[]);
    let nonce = Nonce::new(flow.nonce.secret().clone());
    // Act
    let tokens = sign_in_with(&app, &rp, flow).await;
    let claims = rp.verify(&tokens, &nonce).clone();
    let info = rp.user_info(&tokens, &claims).await;
    let refreshed = rp
        .client
        .exchange_refresh_token(tokens.refresh_token().expect("a refresh token"))
        .unwrap()
        .request_async(&rp.http)
        .await
        .expect("refresh");
    let revoked = rp
        .revoke(CoreRevocableToken::from(refreshed.access_token().clone()))
        .await;
    // Assert
    assert_eq!(claims.subject().as_str(), app.alice.id);
    assert!(claims.auth_time().is_some());
    assert_eq!(info.subject().as_str(), app.alice.id);
    assert!(
        revoked.is_ok(),
        "a public client revokes with client_id alone"
    );
    assert_invalid(&app, refreshed.access_token().secret()).await;
}

#[tokio::test]
async fn response_mode_form_post_answers_with_a_form_the_library_can_use() {
    // Arrange
    let app = oidc_app().await;
    let rp = Rp::discover(&app, &app.rp).await;
    let flow = rp.start(&[("response_mode", "form_post")]);
    let browser = browser();
    // Act
    let response = browser.get(flow.url.as_str()).send().await.unwrap();
    let login_path = see_other_to(&response, "/login?request=");
    let response = login(&app, &browser, &login_path, "alice", PASSWORD).await;
    let resume = see_other_to(&response, "/authorize/continue?request=");
    let response = browser.get(app.url(&resume)).send().await.unwrap();
    let consent_path = see_other_to(&response, "/consent?request=");
    let response = consent(&app, &browser, &consent_path, "allow").await;
    // Assert: a page, not a redirect
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get(header::LOCATION).is_none());
    let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("form-action"), "{csp}");
    let html = response.text().await.unwrap();
    assert_eq!(form_action(&html).as_deref(), Some(REDIRECT_URI));
    assert_eq!(
        hidden_input(&html, "state").as_deref(),
        Some(flow.state.secret().as_str())
    );
    assert_eq!(hidden_input(&html, "iss"), Some(app.issuer.clone()));
    let code = hidden_input(&html, "code").expect("the form carries the code");
    let nonce = Nonce::new(flow.nonce.secret().clone());
    let tokens = rp.exchange(&code, flow.verifier).await;
    let claims = rp.verify(&tokens, &nonce);
    assert_eq!(claims.subject().as_str(), app.alice.id);
}

#[tokio::test]
async fn clients_registered_for_es256_or_eddsa_get_id_tokens_the_library_verifies() {
    use countersign::crypto::KeyAlg;
    use countersign::manage::ClientSpec;
    use openidconnect::core::CoreJwsSigningAlgorithm as Alg;
    for (alg, library_alg) in [
        (KeyAlg::ES256, Alg::EcdsaP256Sha256),
        (KeyAlg::EdDSA, Alg::EdDsa),
    ] {
        // Arrange
        let app = oidc_app().await;
        let client = app.add_client(ClientSpec {
            id_token_alg: alg,
            ..ClientSpec::default()
        });
        let rp = Rp::discover(&app, &client).await;
        let flow = rp.start(&[]);
        let nonce = Nonce::new(flow.nonce.secret().clone());
        // Act
        let tokens = sign_in_with(&app, &rp, flow).await;
        let verifier = rp
            .client
            .id_token_verifier()
            .set_allowed_algs(vec![library_alg.clone()]);
        let claims = id_token(&tokens)
            .claims(&verifier, &nonce)
            .expect("the ID token verifies");
        // Assert
        assert_eq!(claims.subject().as_str(), app.alice.id);
        assert_eq!(*id_token(&tokens).signing_alg().unwrap(), library_alg);
        let expected_hash = AccessTokenHash::from_token(
            tokens.access_token(),
            id_token(&tokens).signing_alg().unwrap(),
            id_token(&tokens).signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(claims.access_token_hash(), Some(&expected_hash), "{alg:?}");
    }
}
