//! Web helpers shared by every suite: the cookie "browser", the login form, the page
//! readers (hidden inputs, form action), the redirect assertions and the RFC 6749 §5.2
//! error assertion.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::{header, Response, StatusCode};
use serde_json::Value;

/// Every seeded user's password.
pub const PASSWORD: &str = "correct horse battery staple";
/// The redirect URI every test client registers.
pub const REDIRECT_URI: &str = "http://rp.example/callback";
/// The post-logout redirect URI the confidential clients register.
pub const POST_LOGOUT_URI: &str = "http://rp.example/signed-out";

/// `issuer + path`; an absolute URL is returned unchanged.
pub fn url_on(issuer: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        path.to_owned()
    } else {
        format!("{issuer}{path}")
    }
}

/// The "browser": a cookie store, and no redirect following (tests follow each hop).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser")
}

/// Opens the login page at `login_path` on `issuer` (asserting 200), then submits
/// `username` and `password` with the page's CSRF token and its hidden `request` or
/// `return_to`; returns the answer to the POST.
pub async fn submit_login(
    browser: &reqwest::Client,
    issuer: &str,
    login_path: &str,
    username: &str,
    password: &str,
) -> Response {
    let page = browser
        .get(url_on(issuer, login_path))
        .send()
        .await
        .expect("GET");
    assert_eq!(page.status(), StatusCode::OK, "the login page {login_path}");
    let html = page.text().await.unwrap();
    let csrf = hidden_input(&html, "csrf_token").expect("the login form has a CSRF token");
    let mut form = vec![
        ("username", username.to_owned()),
        ("password", password.to_owned()),
        ("csrf_token", csrf),
    ];
    for name in ["request", "return_to"] {
        if let Some(value) = hidden_input(&html, name) {
            form.push((name, value));
        }
    }
    browser
        .post(url_on(issuer, "/login"))
        .form(&form)
        .send()
        .await
        .expect("POST /login")
}

/// Asserts a 303 and returns its `Location`.
pub fn see_other(response: &Response) -> String {
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "expected a 303 from {}",
        response.url()
    );
    response
        .headers()
        .get(header::LOCATION)
        .expect("a 303 has a Location")
        .to_str()
        .expect("Location is ASCII")
        .to_owned()
}

/// Asserts a 303 to a location starting with `prefix`; returns it.
pub fn see_other_to(response: &Response, prefix: &str) -> String {
    let location = see_other(response);
    assert!(
        location.starts_with(prefix),
        "expected a 303 to {prefix}…, got {location}"
    );
    location
}

/// The parameters of a 303 to `REDIRECT_URI` (asserts both).
pub fn redirect_params(response: &Response) -> HashMap<String, String> {
    let location = see_other(response);
    assert!(
        location.starts_with(&format!("{REDIRECT_URI}?")),
        "expected a redirect to the client, got {location}"
    );
    url::Url::parse(&location)
        .expect("an absolute redirect")
        .query_pairs()
        .into_owned()
        .collect()
}

/// Reads `<input type="hidden" name="NAME" value="…">` from a page (HTML-unescaped).
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = start + html[start..].find('"')?;
    Some(unescape(&html[start..end]))
}

/// Reads the `action` of the page's first form.
pub fn form_action(html: &str) -> Option<String> {
    let marker = "action=\"";
    let start = html.find(marker)? + marker.len();
    let end = start + html[start..].find('"')?;
    Some(unescape(&html[start..end]))
}

/// Undoes HTML escaping: the named entities askama may use and `&#N;` / `&#xH;`.
pub fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The decoded header or payload (`part` 0 or 1) of a JWT, unverified.
pub fn jwt_part(token: &str, part: usize) -> Value {
    let segment = token.split('.').nth(part).expect("a JWT segment");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64url")).expect("JSON")
}

/// A successful token response.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// RFC 9068 access token.
    pub access_token: String,
    /// Refresh token, when issued.
    pub refresh_token: Option<String>,
    /// ID token, when issued.
    pub id_token: Option<String>,
    /// Granted scope.
    pub scope: String,
    /// Seconds the access token lasts.
    pub expires_in: i64,
}

/// Asserts a 200 token response (`no-store`, `token_type` Bearer, `expires_in`) and
/// reads it.
pub async fn tokens_of(response: Response) -> Tokens {
    let status = response.status();
    let no_store = response.headers().get(header::CACHE_CONTROL).cloned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "token response {body}");
    assert_eq!(
        no_store.as_ref().map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    assert_eq!(body["token_type"], "Bearer", "{body}");
    let text = |key: &str| body[key].as_str().map(str::to_owned);
    Tokens {
        access_token: text("access_token").expect("access_token"),
        refresh_token: text("refresh_token"),
        id_token: text("id_token"),
        scope: text("scope").unwrap_or_default(),
        expires_in: body["expires_in"].as_i64().expect("expires_in"),
    }
}

/// Asserts an RFC 6749 §5.2 error: `status`, `Cache-Control: no-store`, and a JSON body
/// whose `error` is `error` and whose `error_description` is exactly `description`.
/// Returns the headers for further checks.
pub async fn assert_oauth_error(
    response: Response,
    status: StatusCode,
    error: &str,
    description: &str,
) -> header::HeaderMap {
    let url = response.url().clone();
    assert_eq!(response.status(), status, "from {url}");
    let headers = response.headers().clone();
    assert_eq!(
        headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap()),
        Some("no-store"),
        "from {url}"
    );
    let body: Value = response.json().await.expect("a JSON error");
    assert_eq!(body["error"], error, "from {url}: {body}");
    assert_eq!(body["error_description"], description, "from {url}: {body}");
    headers
}
