//! Every error of the authorization endpoint on its channel (STYLE.md §2.4, DESIGN.md
//! §8): an error page before client and redirect_uri are verified, a redirect with
//! `state` and `iss` after.

use countersign::manage::ClientSpec;
use reqwest::{header, StatusCode};

use super::support::{
    assert_error_page, assert_redirect_error, browser, hidden_input, oidc_app, redirect_params,
    tokens_for, AuthRequest, Pkce, REDIRECT_URI,
};

#[tokio::test]
async fn an_unregistered_redirect_uri_renders_an_error_page_and_never_redirects() {
    // Arrange: near misses of the registered URI are compared byte for byte.
    let app = oidc_app().await;
    let variants = [
        "http://evil.example/callback".to_owned(),
        format!("{REDIRECT_URI}/"),
        format!("{REDIRECT_URI}?next=1"),
        "http://RP.example/callback".to_owned(),
        "http://rp.example/./callback".to_owned(),
    ];
    for variant in variants {
        let request = AuthRequest::new(&app.rp).set("redirect_uri", &variant);
        // Act
        let response = app.get(&browser(), &request.path()).await;
        // Assert
        let page = assert_error_page(response).await;
        assert!(page.contains("invalid_request"), "{variant}: {page}");
    }
}

#[tokio::test]
async fn a_missing_redirect_uri_renders_an_error_page() {
    // Arrange
    let app = oidc_app().await;
    let request = AuthRequest::new(&app.rp).remove("redirect_uri");
    // Act
    let response = app.get(&browser(), &request.path()).await;
    // Assert
    assert_error_page(response).await;
}

#[tokio::test]
async fn an_unknown_client_id_renders_an_error_page() {
    // Arrange
    let app = oidc_app().await;
    let request = AuthRequest::new(&app.rp).set("client_id", "no-such-client");
    // Act
    let response = app.get(&browser(), &request.path()).await;
    // Assert
    assert_error_page(response).await;
}

#[tokio::test]
async fn a_repeated_client_id_renders_an_error_page() {
    // Arrange
    let app = oidc_app().await;
    let request = AuthRequest::new(&app.rp).add("client_id", &app.rp.client_id);
    // Act
    let response = app.get(&browser(), &request.path()).await;
    // Assert
    assert_error_page(response).await;
}

#[tokio::test]
async fn an_undecodable_redirect_uri_renders_an_error_page() {
    // Arrange: %FF is not UTF-8.
    let app = oidc_app().await;
    let path = format!(
        "{}&redirect_uri=%FF",
        AuthRequest::new(&app.rp).remove("redirect_uri").path()
    );
    // Act
    let response = app.get(&browser(), &path).await;
    // Assert
    assert_error_page(response).await;
}

#[tokio::test]
async fn a_public_client_without_pkce_is_sent_back_invalid_request() {
    // Arrange
    let app = oidc_app().await;
    let request = AuthRequest::new(&app.spa);
    // Act
    let response = app.get(&browser(), &request.path()).await;
    // Assert
    assert_redirect_error(&app, &response, "invalid_request");
}

#[tokio::test]
async fn a_public_client_with_plain_pkce_is_sent_back_invalid_request() {
    // Arrange
    let app = oidc_app().await;
    let verifier = Pkce::new().verifier;
    let request = AuthRequest::new(&app.spa)
        .set("code_challenge", &verifier)
        .set("code_challenge_method", "plain");
    // Act
    let response = app.get(&browser(), &request.path()).await;
    // Assert
    assert_redirect_error(&app, &response, "invalid_request");
}

#[tokio::test]
async fn a_code_challenge_without_a_method_means_plain_and_is_invalid_request() {
    // Arrange
    let app = oidc_app().await;
    let request = AuthRequest::new(&app.rp).set("code_challenge", &Pkce::new().challenge);
    // Act
    let response = app.get(&browser(), &request.path()).await;
    // Assert
    assert_redirect_error(&app, &response, "invalid_request");
}

#[tokio::test]
async fn a_malformed_code_challenge_is_sent_back_invalid_request() {
    // Arrange: RFC 7636 §4.2: 43-128 characters.
    let app = oidc_app().await;
    let request = AuthRequest::new(&app.spa)
        .set("code_challenge", "too-short")
        .set("code_challenge_method", "S256");
    // Act
    let response = app.get(&browser(), &request.path()).await;
    // Assert
    assert_redirect_error(&app, &response, "invalid_request");
}

#[tokio::test]
async fn a_repeated_scope_is_sent_back_invalid_request() {
    // Arrange
    let app = oidc_app().await;
    let request = AuthRequest::new(&app.rp).add("scope", "openid");
    // Act
    let response = app.get(&browser(), &request.path()).await;
    // Assert
    assert_redirect_error(&app, &response, "invalid_request");
}

#[tokio::test]
async fn a_request_object_is_sent_back_request_not_supported() {
    // Arrange
    let app = oidc_app().await;
    let request = AuthRequest::new(&app.rp).set("request", "eyJhbGciOiJub25lIn0.e30.");
    // Act
    let response = app.get(&browser(), &request.path()).await;
    // Assert
    assert_redirect_error(&app, &response, "request_not_supported");
}

#[tokio::test]
async fn response_type_token_is_sent_back_unsupported_response_type() {
    // Arrange
    let app = oidc_app().await;
    let request = AuthRequest::new(&app.rp).set("response_type", "token");
    // Act
    let response = app.get(&browser(), &request.path()).await;
    // Assert
    assert_redirect_error(&app, &response, "unsupported_response_type");
}

#[tokio::test]
async fn an_unknown_scope_is_sent_back_invalid_scope() {
    // Arrange
    let app = oidc_app().await;
    let request = AuthRequest::new(&app.rp).set("scope", "openid launch_missiles");
    // Act
    let response = app.get(&browser(), &request.path()).await;
    // Assert
    assert_redirect_error(&app, &response, "invalid_scope");
}

#[tokio::test]
async fn an_oversize_nonce_is_sent_back_invalid_request() {
    // Arrange
    let app = oidc_app().await;
    let request = AuthRequest::new(&app.rp).set("nonce", &"n".repeat(513));
    // Act
    let response = app.get(&browser(), &request.path()).await;
    // Assert
    assert_redirect_error(&app, &response, "invalid_request");
}

#[tokio::test]
async fn a_forged_id_token_hint_is_sent_back_invalid_request() {
    // Arrange
    let app = oidc_app().await;
    let request = AuthRequest::new(&app.rp).set("id_token_hint", "eyJhbGciOiJub25lIn0.e30.");
    // Act
    let response = app.get(&browser(), &request.path()).await;
    // Assert
    assert_redirect_error(&app, &response, "invalid_request");
}

#[tokio::test]
async fn a_post_authorization_request_is_read_like_a_get() {
    // Arrange
    let app = oidc_app().await;
    let request = AuthRequest::new(&app.rp).set("response_type", "token");
    let body = request.path().trim_start_matches("/authorize?").to_owned();
    // Act
    let response = browser()
        .post(app.url("/authorize"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    // Assert
    assert_redirect_error(&app, &response, "unsupported_response_type");
}

#[tokio::test]
async fn the_error_redirect_keeps_the_registered_query_of_the_redirect_uri() {
    // Arrange: a registered redirect URI with a query keeps it (RFC 6749 §3.1.2).
    let app = oidc_app().await;
    let with_query = format!("{REDIRECT_URI}?tenant=7");
    let client = app.add_client(ClientSpec {
        redirect_uris: vec![with_query.clone()],
        ..Default::default()
    });
    let request = AuthRequest::new(&client)
        .set("redirect_uri", &with_query)
        .set("response_type", "token");
    // Act
    let response = app.get(&browser(), &request.path()).await;
    // Assert
    let params = redirect_params(&response);
    assert_eq!(params["tenant"], "7");
    assert_eq!(params["error"], "unsupported_response_type");
}

#[tokio::test]
async fn the_form_post_page_escapes_what_the_client_sent() {
    // Arrange: a state full of HTML metacharacters.
    let app = oidc_app().await;
    let (browser, _) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let nasty = r#""><script>alert('x')</script>&amp;"#;
    let request = AuthRequest::new(&app.rp)
        .set("response_mode", "form_post")
        .set("state", nasty);
    // Act
    let response = app.get(&browser, &request.path()).await;
    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script>alert"), "{html}");
    assert_eq!(hidden_input(&html, "state").as_deref(), Some(nasty));
    assert!(hidden_input(&html, "code").is_some());
}
