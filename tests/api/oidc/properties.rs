//! Property tests of parameter parsing (DESIGN.md §6, §8): whatever arrives at
//! `/authorize` (query or form) or at `/token`, `/introspect`, `/revoke` (any body, any
//! content type, any Authorization header), the server answers with a protocol error
//! or success, never a 5xx, never a dropped connection, and never a redirect to an
//! unverified redirect URI. Bounded: 64 cases each, against one spawned app.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::header::{self, HeaderValue};

use super::support::{oidc_app, OidcSeed, Pkce, TestApp, REDIRECT_URI, SCOPES};

const CASES: u32 = 64;

const AUTHORIZE_NAMES: [&str; 18] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "prompt",
    "max_age",
    "login_hint",
    "id_token_hint",
    "code_challenge",
    "code_challenge_method",
    "request",
    "request_uri",
    "registration",
    "display",
    "ui_locales",
];

const TOKEN_NAMES: [&str; 11] = [
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
    "token",
    "token_type_hint",
    "username",
];

/// Every byte as `%XX`: arbitrary bytes (invalid UTF-8 included) on the wire.
fn percent_all(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A parameter name as it goes on the wire: mostly known names, sometimes junk.
fn wire_name(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(names).prop_map(str::to_owned),
        1 => proptest::collection::vec(any::<u8>(), 0..12).prop_map(|b| percent_all(&b)),
        1 => "[a-z_%+.]{1,12}",
    ]
}

/// A value as it goes on the wire: plausible values, arbitrary bytes, broken escapes.
fn wire_value(plausible: Vec<String>) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(plausible).prop_map(|v| form_encode(&v)),
        2 => proptest::collection::vec(any::<u8>(), 0..48).prop_map(|b| percent_all(&b)),
        2 => "[A-Za-z0-9%+=&._~-]{0,24}",
        1 => Just(String::new()),
        1 => (1usize..2100).prop_map(|n| "x".repeat(n)),
    ]
}

fn pairs(
    names: &'static [&'static str],
    plausible: Vec<String>,
) -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec((wire_name(names), wire_value(plausible)), 0..10)
}

fn join(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// One authorization request: maybe a valid prefix (so later checks run), then random
/// pairs (which may repeat the prefix's names), sent as a GET query or a POST form.
#[derive(Debug, Clone)]
struct AuthorizeCase {
    valid_prefix: bool,
    pairs: Vec<(String, String)>,
    post: bool,
    raw_body: Option<Vec<u8>>,
}

fn authorize_case(app: &TestApp<OidcSeed>) -> impl Strategy<Value = AuthorizeCase> {
    let plausible: Vec<String> = vec![
        app.rp.client_id.clone(),
        app.spa.client_id.clone(),
        REDIRECT_URI.into(),
        format!("{REDIRECT_URI}/"),
        "code".into(),
        "token".into(),
        "openid".into(),
        SCOPES.into(),
        "none".into(),
        "login".into(),
        "none login".into(),
        "form_post".into(),
        "query".into(),
        "fragment".into(),
        "S256".into(),
        "plain".into(),
        "0".into(),
        "-1".into(),
        "99999999999999999999".into(),
        Pkce::new().challenge,
        "a.b.c".into(),
    ];
    (
        any::<bool>(),
        pairs(&AUTHORIZE_NAMES, plausible),
        any::<bool>(),
        proptest::option::weighted(0.1, proptest::collection::vec(any::<u8>(), 0..64)),
    )
        .prop_map(|(valid_prefix, pairs, post, raw_body)| AuthorizeCase {
            valid_prefix,
            pairs,
            post,
            raw_body,
        })
}

impl AuthorizeCase {
    fn encoded(&self, app: &TestApp<OidcSeed>) -> String {
        let mut all = Vec::new();
        if self.valid_prefix {
            all.push(("client_id".to_owned(), app.rp.client_id.clone()));
            all.push(("redirect_uri".to_owned(), form_encode(REDIRECT_URI)));
            all.push(("response_type".to_owned(), "code".to_owned()));
            all.push(("scope".to_owned(), "openid".to_owned()));
        }
        all.extend(self.pairs.iter().cloned());
        join(&all)
    }
}

/// The answer must be a protocol answer: no 5xx, and a 303 only to our own pages or to
/// the registered redirect URI.
fn check_authorize_answer(response: &reqwest::Response) -> Result<(), TestCaseError> {
    let status = response.status();
    prop_assert!(!status.is_server_error(), "answered {status}");
    if status.is_redirection() {
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        prop_assert!(
            location.starts_with('/') || location.starts_with(&format!("{REDIRECT_URI}?")),
            "redirected to {location:?}"
        );
        if let Ok(url) = url::Url::parse(location) {
            for (name, value) in url.query_pairs() {
                if name == "error_description" {
                    check_description(&value)?;
                }
            }
        }
    }
    Ok(())
}

/// RFC 6749 §4.1.2.1, §5.2: printable ASCII without `"` or `\`.
fn check_description(description: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        description
            .chars()
            .all(|c| (' '..='~').contains(&c) && c != '"' && c != '\\'),
        "error_description {description:?}"
    );
    Ok(())
}

async fn send_authorize(
    app: &TestApp<OidcSeed>,
    case: &AuthorizeCase,
) -> Result<(), TestCaseError> {
    let encoded = case.encoded(app);
    let request = if case.post {
        let body = case
            .raw_body
            .clone()
            .unwrap_or_else(|| encoded.into_bytes());
        app.http
            .post(app.url("/authorize"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
    } else {
        app.http.get(app.url(&format!("/authorize?{encoded}")))
    };
    let response = request
        .send()
        .await
        .map_err(|e| TestCaseError::fail(format!("no answer: {e}")))?;
    check_authorize_answer(&response)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    })
}

/// The app still serves after the run (nothing panicked a worker away).
async fn assert_still_healthy(app: &TestApp<OidcSeed>) {
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
}

#[test]
fn arbitrary_authorization_requests_never_yield_a_server_error() {
    // Arrange
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime.block_on(oidc_app());
    let strategy = authorize_case(&app);
    // Act
    let result = runner().run(&strategy, |case| {
        runtime.block_on(send_authorize(&app, &case))
    });
    // Assert
    assert!(result.is_ok(), "{result:?}");
    runtime.block_on(assert_still_healthy(&app));
}

/// One request to a client-authenticated endpoint.
#[derive(Debug, Clone)]
struct TokenCase {
    path: &'static str,
    content_type: Option<&'static str>,
    authorization: Option<String>,
    pairs: Vec<(String, String)>,
    raw_body: Option<Vec<u8>>,
}

fn authorization_header(app: &TestApp<OidcSeed>) -> impl Strategy<Value = Option<String>> {
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!(
            "{}:{}",
            app.rp.client_id,
            app.rp.secret.clone().unwrap_or_default()
        ))
    );
    prop_oneof![
        2 => Just(None),
        2 => Just(Some(basic)),
        1 => proptest::collection::vec(any::<u8>(), 0..40)
            .prop_map(|b| Some(format!("Basic {}", STANDARD.encode(b)))),
        1 => "[ -~]{0,40}".prop_map(Some),
        1 => Just(Some("Bearer abc".to_owned())),
    ]
}

fn token_case(app: &TestApp<OidcSeed>) -> impl Strategy<Value = TokenCase> {
    let plausible: Vec<String> = vec![
        "authorization_code".into(),
        "refresh_token".into(),
        "client_credentials".into(),
        "password".into(),
        app.rp.client_id.clone(),
        app.rp.secret.clone().unwrap_or_default(),
        app.spa.client_id.clone(),
        REDIRECT_URI.into(),
        Pkce::new().verifier,
        "openid".into(),
        SCOPES.into(),
        "access_token".into(),
    ];
    let content_types = proptest::sample::select(vec![
        Some("application/x-www-form-urlencoded"),
        Some("application/x-www-form-urlencoded; charset=UTF-8"),
        Some("application/json"),
        Some("text/plain"),
        None,
    ]);
    (
        proptest::sample::select(vec!["/token", "/token", "/introspect", "/revoke"]),
        content_types,
        authorization_header(app),
        pairs(&TOKEN_NAMES, plausible),
        proptest::option::weighted(0.15, proptest::collection::vec(any::<u8>(), 0..64)),
    )
        .prop_map(
            |(path, content_type, authorization, pairs, raw_body)| TokenCase {
                path,
                content_type,
                authorization,
                pairs,
                raw_body,
            },
        )
}

async fn send_token(app: &TestApp<OidcSeed>, case: &TokenCase) -> Result<(), TestCaseError> {
    let body = case
        .raw_body
        .clone()
        .unwrap_or_else(|| join(&case.pairs).into_bytes());
    let mut request = app.http.post(app.url(case.path)).body(body);
    if let Some(content_type) = case.content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    if let Some(value) = case
        .authorization
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        request = request.header(header::AUTHORIZATION, value);
    }
    let response = request
        .send()
        .await
        .map_err(|e| TestCaseError::fail(format!("no answer: {e}")))?;
    let status = response.status();
    prop_assert!(!status.is_server_error(), "answered {status}");
    if status.is_client_error() {
        prop_assert_eq!(
            response
                .headers()
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
        if status == reqwest::StatusCode::UNAUTHORIZED {
            prop_assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
        }
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| TestCaseError::fail(format!("not JSON: {e}")))?;
        prop_assert!(body["error"].is_string(), "{}", body);
        check_description(body["error_description"].as_str().unwrap_or_default())?;
    }
    Ok(())
}

#[test]
fn arbitrary_token_requests_never_yield_a_server_error() {
    // Arrange
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime.block_on(oidc_app());
    let strategy = token_case(&app);
    // Act
    let result = runner().run(&strategy, |case| runtime.block_on(send_token(&app, &case)));
    // Assert
    assert!(result.is_ok(), "{result:?}");
    runtime.block_on(assert_still_healthy(&app));
}
