//! Web fixtures shared by the OIDC and approval suites: the real app served on its own
//! thread with its clock at the real time ([`Server`]), the cookie "browser", the login
//! form, the page readers (hidden inputs, form action) and the redirect assertions.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use countersign::clock::FixedClock;
use countersign::startup::Application;
use reqwest::{header, Response, StatusCode};
use serde_json::Value;

use crate::helpers::{build_app, TestDb};

/// Every seeded user's password.
pub const PASSWORD: &str = "correct horse battery staple";
/// The redirect URI every test client registers.
pub const REDIRECT_URI: &str = "http://rp.example/callback";
/// The post-logout redirect URI the confidential clients register.
pub const POST_LOGOUT_URI: &str = "http://rp.example/signed-out";

/// One running server: dropping it (or [`Server::stop`]) shuts it down.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub issuer: String,
    /// Its clock (starts at the real time); advance it instead of sleeping.
    pub clock: FixedClock,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _data_dir: tempfile::TempDir,
}

impl Server {
    /// Builds the real application on `db` (`demo` as `serve --demo`) with its clock at
    /// the real time (JWT libraries check `iat`/`exp` against the system clock), and
    /// serves it on its own thread.
    pub async fn start(db: &TestDb, demo: bool) -> Server {
        let clock = FixedClock::at(chrono::Utc::now().timestamp());
        let (app, issuer, data_dir) = build_app(db, &clock, demo).await;
        let (stop, thread) = serve_in_background(app);
        Server {
            issuer,
            clock,
            stop: Some(stop),
            thread: Some(thread),
            _data_dir: data_dir,
        }
    }

    /// Stops the server and waits until its listener is closed.
    pub fn stop(mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the server thread ends cleanly");
        }
    }
}

/// Serves `app` on its own thread, in a `LocalSet` as actix expects (its background
/// tasks are `spawn_local`ed), until the returned sender is dropped.
fn serve_in_background(
    app: Application,
) -> (
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        tokio::task::LocalSet::new().block_on(&runtime, async move {
            tokio::select! {
                served = app.run_until_stopped() => served.expect("the server runs"),
                _ = stopped => {}
            }
        });
    });
    (stop, thread)
}

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
