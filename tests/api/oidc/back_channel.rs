//! The relying party's back channel by hand: client-authenticated POSTs to `/token`,
//! `/introspect` and `/revoke`, userinfo, and the RFC 6749 §5.2 / RFC 6750 §3
//! error assertions.

use reqwest::{header, Response, StatusCode};
use serde_json::Value;

use super::browser::{browser, code_of, login_and_consent};
use super::support::{AuthRequest, OidcSeed, Pkce, TestApp, TestClient, REDIRECT_URI};
pub use crate::helpers::{assert_oauth_error, jwt_part, tokens_of, Tokens};

/// Exchanges `code` (with `verifier`, if any) at `/token`.
pub async fn exchange(
    app: &TestApp<OidcSeed>,
    client: &TestClient,
    code: &str,
    verifier: Option<&str>,
) -> Response {
    exchange_request(app, client, code, verifier)
        .send()
        .await
        .expect("POST /token")
}

/// The `/token` request [`exchange`] sends, not yet sent.
pub fn exchange_request(
    app: &TestApp<OidcSeed>,
    client: &TestClient,
    code: &str,
    verifier: Option<&str>,
) -> reqwest::RequestBuilder {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
    ];
    if let Some(verifier) = verifier {
        form.push(("code_verifier", verifier));
    }
    app.request_as(client, "/token", &form)
}

/// Uses a refresh token, optionally asking for `scope`.
pub async fn refresh(
    app: &TestApp<OidcSeed>,
    client: &TestClient,
    refresh_token: &str,
    scope: Option<&str>,
) -> Response {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    app.post_as(client, "/token", &form).await
}

/// The whole flow by hand for `client` (PKCE when public): a new browser signs alice
/// in, consents, and the code is exchanged. Returns the browser (signed in) and tokens.
pub async fn tokens_for(
    app: &TestApp<OidcSeed>,
    client: &TestClient,
    request: AuthRequest,
) -> (reqwest::Client, Tokens) {
    let browser = browser();
    let pkce = Pkce::new();
    let response = login_and_consent(app, &browser, &request.pkce(&pkce).path()).await;
    let code = code_of(app, &response);
    let tokens = tokens_of(exchange(app, client, &code, Some(&pkce.verifier)).await).await;
    (browser, tokens)
}

/// Asserts the RFC 6750 §3.1 `invalid_token` answer.
pub fn assert_invalid_token(response: &Response) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
}

/// Introspects `token` as `client` (RFC 7662); asserts 200 and returns the JSON.
pub async fn introspect(app: &TestApp<OidcSeed>, client: &TestClient, token: &str) -> Value {
    let response = app
        .post_as(client, "/introspect", &[("token", token)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// `grant_type=refresh_token` must fail with `invalid_grant`.
pub async fn assert_refresh_refused(
    app: &TestApp<OidcSeed>,
    refresh_token: &str,
    description: &str,
) {
    let response = refresh(app, &app.rp, refresh_token, None).await;
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        description,
    )
    .await;
}
