//! Cookies carry `Secure` when the issuer is https (RFC 6265 §4.1.2.5; OAuth 2.0
//! Security BCP, RFC 9700 §4.16 on cookie hygiene), so a session or CSRF cookie is never
//! sent over plain HTTP; and not when the issuer is plain http on loopback (local use),
//! where a `Secure` cookie would never come back. Checked on the policy itself and on
//! every cookie a sign-in and a sign-out set, with an https issuer served over HTTP on
//! loopback as behind a TLS-terminating proxy.

use countersign::config::{Config, RawSettings};
use countersign::http::cookies::{CookiePolicy, CSRF, SESSION};
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Response, StatusCode};
use secrecy::SecretString;

use crate::helpers::{hidden_input, http_client, TestApp, PASSWORD, TEST_SECRET_KEY};
use crate::oidc::support::OidcSeed;

fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// `name=value` of the cookie `name` among `set`.
fn pair(set: &[String], name: &str) -> String {
    let cookie = set.iter().find(|c| c.starts_with(&format!("{name}=")));
    assert!(cookie.is_some(), "no {name} cookie in {set:?}");
    cookie.unwrap().split(';').next().unwrap().to_owned()
}

/// Signs alice in and out again by hand (no cookie store: a store would rightly refuse
/// `Secure` cookies over HTTP); returns every `Set-Cookie` the app sent.
async fn cookies_of_a_sign_in_and_out(app: &TestApp<OidcSeed>) -> Vec<String> {
    let http = http_client();
    let page = http.get(app.url("/login")).send().await.unwrap();
    let mut seen = set_cookies(&page);
    let csrf_cookie = pair(&seen, CSRF);
    let csrf = hidden_input(&page.text().await.unwrap(), "csrf_token").unwrap();
    let form = [
        ("username", app.alice.username.as_str()),
        ("password", PASSWORD),
        ("csrf_token", csrf.as_str()),
    ];
    let login = http
        .post(app.url("/login"))
        .header(COOKIE, &csrf_cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER, "signed in");
    let session = pair(&set_cookies(&login), SESSION);
    seen.extend(set_cookies(&login));
    let both = format!("{csrf_cookie}; {session}");
    let form = [("confirm", "yes"), ("csrf_token", csrf.as_str())];
    let logout = http
        .post(app.url("/logout"))
        .header(COOKIE, &both)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::OK, "signed out");
    seen.extend(set_cookies(&logout));
    seen
}

fn is_secure(cookie: &str) -> bool {
    cookie
        .split(';')
        .skip(1)
        .any(|attribute| attribute.trim().eq_ignore_ascii_case("secure"))
}

#[tokio::test]
async fn under_an_https_issuer_every_cookie_is_secure() {
    // Arrange
    let app = TestApp::builder()
        .https_issuer()
        .spawn()
        .await
        .seeded(OidcSeed::seed);
    // Act
    let cookies = cookies_of_a_sign_in_and_out(&app).await;
    // Assert: the CSRF cookie, the session cookie and the session's removal.
    assert_eq!(cookies.len(), 3, "{cookies:?}");
    assert!(cookies.iter().all(|c| is_secure(c)), "{cookies:?}");
}

#[tokio::test]
async fn under_an_http_loopback_issuer_no_cookie_is_secure() {
    // Arrange
    let app = TestApp::builder().spawn().await.seeded(OidcSeed::seed);
    // Act
    let cookies = cookies_of_a_sign_in_and_out(&app).await;
    // Assert
    assert_eq!(cookies.len(), 3, "{cookies:?}");
    assert!(cookies.iter().all(|c| !is_secure(c)), "{cookies:?}");
}

#[test]
fn the_cookie_policy_is_secure_exactly_when_the_issuer_is_https() {
    for (issuer, secure) in [
        ("https://id.example.com", true),
        ("https://127.0.0.1:8443", true),
        ("http://127.0.0.1:8080", false),
        ("http://localhost:8080", false),
    ] {
        let config = Config::from_raw(RawSettings {
            issuer: Some(issuer.into()),
            ..RawSettings::default()
        })
        .unwrap();
        let policy = CookiePolicy::new(&config, &SecretString::from(TEST_SECRET_KEY));
        assert_eq!(policy.secure, secure, "{issuer}");
        for cookie in [
            policy.build(SESSION, "v".into()),
            policy.removal(SESSION),
            policy.removal(CSRF),
        ] {
            assert_eq!(cookie.secure(), Some(secure), "{issuer}: {cookie}");
            assert_eq!(cookie.http_only(), Some(true), "{issuer}: {cookie}");
        }
    }
}
