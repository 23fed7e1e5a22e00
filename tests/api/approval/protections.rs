//! Protections that had no test of their own (issue 17 item 2): CSRF on cancel and
//! revoke and on a form posted with no CSRF cookie at all; `return_to` never leaving the
//! origin; a client acting for itself never getting a sensitive scope.

use countersign::manage::ClientSpec;
use reqwest::{header, StatusCode};

use super::client::refused;
use super::support::{approval_app, browser, PASSWORD, SENSITIVE};
use crate::helpers::{assert_oauth_error, hidden_input};

#[tokio::test]
async fn cancel_and_revoke_refuse_a_bad_csrf_token_and_change_nothing() {
    // Arrange: one pending request, one approved.
    let app = approval_app().await;
    let (alice, approved, _) = app.approved_tokens().await;
    let pending = app.request_again(&alice).await;
    let (bob, _) = app.approvers().await;
    // Act
    let cancel = app
        .post(
            &alice,
            &format!("/approvals/{pending}/cancel"),
            &[("csrf_token", "forged")],
        )
        .await;
    let revoke = app
        .post(
            &bob,
            &format!("/approvals/{}/revoke", approved.approval_id),
            &[("csrf_token", "forged")],
        )
        .await;
    // Assert
    refused(cancel, StatusCode::FORBIDDEN).await;
    refused(revoke, StatusCode::FORBIDDEN).await;
    assert_eq!(app.status_json(&alice, &pending).await["state"], "pending");
    assert!(app.events("approval.revoked").is_empty());
    assert!(app.events("approval.cancelled").is_empty());
}

#[tokio::test]
async fn a_form_posted_without_any_csrf_cookie_is_refused() {
    // Arrange: a token copied from another browser's page.
    let app = approval_app().await;
    let elsewhere = browser();
    let html = app.get(&elsewhere, "/login").await.text().await.unwrap();
    let token = hidden_input(&html, "csrf_token").unwrap();
    // Act: a fresh client (no cookie) posts it.
    let response = browser()
        .post(app.url("/login"))
        .form(&[
            ("username", "alice"),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    // Assert
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response
        .headers()
        .get(header::SET_COOKIE)
        .is_none_or(|c| { !c.to_str().unwrap_or_default().starts_with("cs_session=") }));
}

#[tokio::test]
async fn return_to_never_leaves_the_origin() {
    let app = approval_app().await;
    for target in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        // Arrange
        let encoded: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        let browser = browser();
        // Act
        let response = crate::helpers::submit_login(
            &browser,
            &app.issuer,
            &format!("/login?return_to={encoded}"),
            "alice",
            PASSWORD,
        )
        .await;
        // Assert: signed in, and sent home rather than away.
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{target}");
        assert_eq!(
            response.headers()[header::LOCATION],
            "/approvals",
            "{target}"
        );
    }
}

#[tokio::test]
async fn client_credentials_never_grant_a_sensitive_scope() {
    // Arrange: a confidential client allowed the sensitive scope and client_credentials.
    let app = approval_app().await;
    let service = app.add_client(ClientSpec {
        name: "Service".into(),
        scopes: vec![SENSITIVE.into()],
        grant_types: vec![countersign::oidc::grant_type::GrantType::ClientCredentials],
        ..ClientSpec::default()
    });
    // Act
    let response = app
        .request_as(
            &service,
            "/token",
            &[("grant_type", "client_credentials"), ("scope", SENSITIVE)],
        )
        .send()
        .await
        .unwrap();
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        "a requested scope needs a countersignature, which needs a user",
    )
    .await;
}
