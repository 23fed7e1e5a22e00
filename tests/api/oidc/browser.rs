//! The "browser": reqwest with a cookie store that follows no redirect, so every hop of
//! the flow (303s to login, continue, consent, the client) is asserted by the test; and
//! the page readers (hidden inputs, form action) and redirect assertions.

use reqwest::{header, Response, StatusCode};

use super::support::{OidcSeed, TestApp, PASSWORD, STATE};
use crate::helpers::submit_login;
pub use crate::helpers::{
    browser, form_action, hidden_input, redirect_params, see_other, see_other_to,
};

/// Opens the login page at `login_path` (asserting 200), then submits `username` and
/// `password` with the page's CSRF token and hidden `request`; returns the POST answer.
pub async fn login(
    app: &TestApp<OidcSeed>,
    browser: &reqwest::Client,
    login_path: &str,
    username: &str,
    password: &str,
) -> Response {
    submit_login(browser, &app.issuer, login_path, username, password).await
}

/// Signs alice in without an authorization request (a bare `/login`).
pub async fn sign_in(app: &TestApp<OidcSeed>, browser: &reqwest::Client) {
    let response = login(app, browser, "/login", &app.alice.username, PASSWORD).await;
    see_other_to(&response, "/approvals");
}

/// Opens the consent page at `consent_path` (asserting 200) and answers `decision`.
pub async fn consent(
    app: &TestApp<OidcSeed>,
    browser: &reqwest::Client,
    consent_path: &str,
    decision: &str,
) -> Response {
    let page = app.get(browser, consent_path).await;
    assert_eq!(page.status(), StatusCode::OK, "the consent page");
    let html = page.text().await.unwrap();
    let csrf = hidden_input(&html, "csrf_token").expect("the consent form has a CSRF token");
    let request = hidden_input(&html, "request").expect("the consent form names the request");
    browser
        .post(app.url("/consent"))
        .form(&[
            ("request", request.as_str()),
            ("decision", decision),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .expect("POST /consent")
}

/// Without a session: authorize → 303 login → sign in as alice → 303 continue →
/// 303 consent → allow. Returns the answer to the consent POST (the client's response).
pub async fn login_and_consent(
    app: &TestApp<OidcSeed>,
    browser: &reqwest::Client,
    authorize: &str,
) -> Response {
    let (_, consent_path) = login_to_consent(app, browser, authorize).await;
    consent(app, browser, &consent_path, "allow").await
}

/// Without a session: authorize → 303 login → sign in as alice → 303 continue →
/// 303 consent. Returns the continue path and the consent path.
pub async fn login_to_consent(
    app: &TestApp<OidcSeed>,
    browser: &reqwest::Client,
    authorize: &str,
) -> (String, String) {
    let response = app.get(browser, authorize).await;
    let login_path = see_other_to(&response, "/login?request=");
    let response = login(app, browser, &login_path, &app.alice.username, PASSWORD).await;
    let resume = see_other_to(&response, "/authorize/continue?request=");
    let response = app.get(browser, &resume).await;
    let consent_path = see_other_to(&response, "/consent?request=");
    (resume, consent_path)
}

/// A code redirect: asserts `state` and `iss` came back and returns the code.
pub fn code_of(app: &TestApp<OidcSeed>, response: &Response) -> String {
    let params = redirect_params(response);
    assert_eq!(params.get("state").map(String::as_str), Some(STATE));
    assert_eq!(params.get("iss"), Some(&app.issuer), "RFC 9207 iss");
    assert!(!params.contains_key("error"), "{params:?}");
    params["code"].clone()
}

/// Asserts an error redirect (RFC 6749 §4.1.2.1 + RFC 9207): `error`, a description,
/// the request's `state` and `iss` equal to the issuer.
pub fn assert_redirect_error(app: &TestApp<OidcSeed>, response: &Response, error: &str) {
    let params = redirect_params(response);
    assert_eq!(
        params.get("error").map(String::as_str),
        Some(error),
        "{params:?}"
    );
    assert!(params.contains_key("error_description"), "{params:?}");
    assert_eq!(params.get("state").map(String::as_str), Some(STATE));
    assert_eq!(params.get("iss"), Some(&app.issuer), "RFC 9207 iss");
    assert!(!params.contains_key("code"));
}

/// Asserts the error page: 400, HTML, no `Location` (never a redirect); returns the body.
pub async fn assert_error_page(response: Response) -> String {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response.headers().get(header::LOCATION).is_none(),
        "an error page never redirects"
    );
    let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    response.text().await.unwrap()
}

/// True when a response set (or cleared) the session cookie to a non-empty value.
pub fn sets_session_cookie(response: &Response) -> bool {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with("cs_session=") && !v.starts_with("cs_session=;"))
}
