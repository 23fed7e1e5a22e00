//! Bad backchannel requests (CIBA Core §13, RFC 9396 §5): each gets the spec's error
//! as RFC 6749 §5.2 JSON, with a description that names no request value, and
//! changes nothing (no approval, no audit event).

use reqwest::StatusCode;
use serde_json::json;

use super::support::{ciba_setup, payment, SENSITIVE};
use crate::approval::support::approval_app;
use crate::helpers::assert_oauth_error;

/// A request's form, the error it gets, and its description.
type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);

#[tokio::test]
async fn unusable_requests_get_their_error_and_change_nothing() {
    // Arrange
    let app = approval_app().await;
    let agent = ciba_setup(&app, None);
    app.add_user("mallory", None, &[]);
    countersign::manage::disable_user(
        &app.store,
        "mallory",
        &countersign::audit::Actor::Cli,
        app.now(),
    )
    .expect("disabled");
    let pay = payment().to_string();
    let wrong_type = json!([{"type": "refund", "amount": 1}]).to_string();
    let too_much =
        json!([{"type": "payment", "amount": 2000000, "currency": "EUR", "creditor": "ACME"}])
            .to_string();
    let as_text =
        json!([{"type": "payment", "amount": "4500", "currency": "EUR", "creditor": "ACME"}])
            .to_string();
    let long_message = "x".repeat(121);
    let cases: Vec<Case> = vec![
        (
            vec![("authorization_details", &pay)],
            "invalid_request",
            "exactly one of login_hint and id_token_hint is required",
        ),
        (
            vec![("login_hint", "alice"), ("id_token_hint", "x"), ("authorization_details", &pay)],
            "invalid_request",
            "exactly one of login_hint and id_token_hint is required",
        ),
        (
            vec![("login_hint", "nobody"), ("authorization_details", &pay)],
            "unknown_user_id",
            "no such user",
        ),
        (
            vec![("login_hint", "mallory"), ("authorization_details", &pay)],
            "unknown_user_id",
            "no such user",
        ),
        (
            vec![("login_hint", "alice"), ("authorization_details", "{not json")],
            "invalid_authorization_details",
            "authorization_details is not valid JSON",
        ),
        (
            vec![("login_hint", "alice"), ("authorization_details", "[]")],
            "invalid_authorization_details",
            "authorization_details must not be empty",
        ),
        (
            vec![("login_hint", "alice"), ("authorization_details", &wrong_type)],
            "invalid_authorization_details",
            "authorization_details entry 1 has a type this server does not know",
        ),
        (
            vec![("login_hint", "alice"), ("authorization_details", &too_much)],
            "invalid_authorization_details",
            "authorization_details entry 1 does not satisfy the schema of its type at /properties/amount/maximum",
        ),
        (
            vec![("login_hint", "alice"), ("authorization_details", &as_text)],
            "invalid_authorization_details",
            "authorization_details entry 1 does not satisfy the schema of its type at /properties/amount/type",
        ),
        (
            vec![("login_hint", "alice"), ("scope", "openid")],
            "invalid_scope",
            "nothing in the request needs approval: ask for a sensitive scope or for authorization_details",
        ),
        (
            vec![("login_hint", "alice"), ("scope", SENSITIVE)],
            "invalid_scope",
            "scope must include openid",
        ),
        (
            vec![("login_hint", "alice"), ("scope", "openid email")],
            "invalid_scope",
            "a requested scope is unknown or not allowed for this client",
        ),
        (
            vec![("login_hint", "alice"), ("authorization_details", &pay), ("binding_message", &long_message)],
            "invalid_binding_message",
            "binding_message must be at most 120 printable characters",
        ),
        (
            vec![("login_hint", "alice"), ("authorization_details", &pay), ("requested_expiry", "-5")],
            "invalid_request",
            "requested_expiry must be a positive integer",
        ),
        (
            vec![("login_hint", "alice"), ("authorization_details", &pay), ("request", "eyJ")],
            "invalid_request",
            "signed authentication requests (request) are not supported",
        ),
        (
            vec![("login_hint_token", "eyJ"), ("authorization_details", &pay)],
            "invalid_request",
            "login_hint_token is not supported; send login_hint or id_token_hint",
        ),
    ];
    let head = app.audit_head();
    // Act / Assert
    for (form, error, description) in cases {
        let response = app.bc_authorize(&agent, &form).await;
        assert_oauth_error(response, StatusCode::BAD_REQUEST, error, description).await;
    }
    assert_eq!(app.audit_head(), head, "nothing was recorded");
    assert!(app.events("approval.requested").is_empty());
}

#[tokio::test]
async fn only_confidential_clients_registered_for_ciba_may_ask() {
    // Arrange
    let app = approval_app().await;
    ciba_setup(&app, None);
    let code_client = app.seed.client.clone();
    let pay = payment().to_string();
    let form = [
        ("login_hint", "alice"),
        ("authorization_details", pay.as_str()),
    ];
    // Act
    let unregistered = app.bc_authorize(&code_client, &form).await;
    let no_auth = app
        .http
        .post(app.url("/bc-authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    // Assert
    assert_oauth_error(
        unregistered,
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        "the client is not registered for CIBA",
    )
    .await;
    assert_eq!(
        no_auth.status(),
        StatusCode::UNAUTHORIZED,
        "CIBA 13: always 401"
    );
    assert!(no_auth.headers().contains_key("www-authenticate"));
    let body: serde_json::Value = no_auth.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn a_client_without_the_policy_scope_may_not_ask_for_its_action_type() {
    // Arrange
    let app = approval_app().await;
    ciba_setup(&app, None);
    let limited = app.add_client(countersign::manage::ClientSpec {
        name: "Reporting agent".into(),
        scopes: vec!["openid".into()],
        grant_types: vec![countersign::oidc::grant_type::GrantType::Ciba],
        ..Default::default()
    });
    // Act
    let response = app
        .bc_authorize(
            &limited,
            &[
                ("login_hint", "alice"),
                ("authorization_details", &payment().to_string()),
            ],
        )
        .await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_authorization_details",
        "the client may not request the type of authorization_details entry 1",
    )
    .await;
}

#[tokio::test]
async fn a_sensitive_scope_alone_is_enough_to_ask() {
    // Arrange
    let app = approval_app().await;
    let agent = ciba_setup(&app, None);
    let scope = format!("openid {SENSITIVE}");
    // Act
    let response = app
        .bc_authorize(&agent, &[("login_hint", "alice"), ("scope", &scope)])
        .await;
    // Assert
    let (_, body) = super::support::acknowledged(response).await;
    assert_eq!(body["interval"], 5);
    assert_eq!(app.events("approval.requested").len(), 1);
}
