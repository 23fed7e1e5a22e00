//! A real browser for the journeys: Debian's headless `chromium`, driven over WebDriver
//! (`chromedriver` on a free loopback port, one per test, a fresh profile each time),
//! with what every journey checks on every page: no console errors, and an axe-core
//! accessibility pass with no serious or critical violation. Screenshots land in
//! `target/screenshots/`.
//!
//! Nothing is downloaded at run time: `.ci/run` installs `chromium` and
//! `chromium-driver` with apt and axe-core with `npm ci` in `tests/browser`, and sets
//! `BROWSER_TESTS=required`. Without them (a developer's machine), the journeys say so
//! on stderr and pass without running, as the PostgreSQL pass does without a server.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// Where the axe-core script is installed.
const AXE: &str = "tests/browser/node_modules/axe-core/axe.min.js";

/// How the browser starts.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Window size in CSS pixels.
    pub size: (u32, u32),
    /// Emulate a phone of `size` (desktop Chrome windows cannot be that narrow).
    pub phone: bool,
    /// JavaScript on.
    pub javascript: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            size: (1280, 900),
            phone: false,
            javascript: true,
        }
    }
}

/// One browser with its own chromedriver; both end when dropped.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

/// The chromedriver process, leading its own process group with the Chromium it starts;
/// the whole group is killed and the driver reaped when dropped (also when a journey
/// fails before its browser is built). Killing only chromedriver left each journey's
/// headless Chromium running, reparented to init, and they piled up across runs.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        // `kill -KILL -- -PGID`: std has no process-group signal, and the group is ours
        // (`process_group(0)` at spawn).
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The browser and its driver, or `None` (with a warning) where they are not installed
/// and not required.
pub async fn browser(options: Options) -> Option<Browser> {
    let (Some(chromium), Some(driver)) = (find("chromium"), find("chromedriver")) else {
        let required = std::env::var("BROWSER_TESTS").is_ok_and(|v| v == "required");
        assert!(
            !required,
            "BROWSER_TESTS=required but chromium or chromedriver is missing"
        );
        eprintln!("warning: chromium/chromedriver not installed: browser journey not run (.ci/run installs them)");
        return None;
    };
    let port = free_port();
    let driver = Driver(
        Command::new(driver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let profile = tempfile::tempdir().expect("a profile directory");
    let mut args = vec![
        "--headless=new".to_owned(),
        "--disable-gpu".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        format!("--user-data-dir={}", profile.path().display()),
        format!("--window-size={},{}", options.size.0, options.size.1),
    ];
    // Root (CI containers) cannot use Chromium's sandbox.
    if is_root() {
        args.push("--no-sandbox".to_owned());
    }
    if !options.javascript {
        args.push("--blink-settings=scriptEnabled=false".to_owned());
    }
    let mut chrome = json!({"binary": chromium, "args": args});
    if options.phone {
        chrome["mobileEmulation"] = json!({"deviceMetrics": {
            "width": options.size.0, "height": options.size.1, "pixelRatio": 3.0, "touch": true,
        }});
    }
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": chrome,
        "goog:loggingPrefs": {"browser": "ALL"},
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        return None;
    };
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let client = loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            Ok(client) => break client,
            Err(error) => {
                assert!(
                    Instant::now() < deadline,
                    "chromedriver never answered: {error}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    Some(Browser {
        client,
        _driver: driver,
        _profile: profile,
    })
}

/// How long `fill` and `click` wait for their element (a page still loading after the
/// previous click, on a busy machine).
const FIND_WITHIN: Duration = Duration::from_secs(10);

impl Browser {
    /// Opens `url` and waits until the document has loaded.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
    }

    /// Types `value` into the field named `name`, replacing what it held (waiting,
    /// bounded, for it to appear: a click may still be loading the page).
    pub async fn fill(&self, name: &str, value: &str) {
        let field = self
            .client
            .wait()
            .at_most(FIND_WITHIN)
            .for_element(Locator::Css(&format!("[name=\"{name}\"]")))
            .await
            .expect("the field");
        field.clear().await.expect("clearing");
        field.send_keys(value).await.expect("typing");
    }

    /// Chooses the option `value` of the select named `name`.
    pub async fn select(&self, name: &str, value: &str) {
        self.click(&format!(
            "select[name=\"{name}\"] option[value=\"{value}\"]"
        ))
        .await;
    }

    /// Clicks the element `css` selects (submitting its form, following its link).
    pub async fn click(&self, css: &str) {
        let element = self
            .client
            .wait()
            .at_most(FIND_WITHIN)
            .for_element(Locator::Css(css))
            .await
            .expect("the element");
        element.click().await.expect("the click");
    }

    /// The page's visible text ("" while a page is being replaced: a refresh or a
    /// navigation can make the body stale between finding and reading it).
    pub async fn text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The current path (and query).
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("a URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits (polling, bounded) until the page's text contains `text`.
    pub async fn wait_for_text(&self, text: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let shown = self.text().await;
            if shown.contains(text) {
                return shown;
            }
            assert!(
                Instant::now() < deadline,
                "never showed {text:?}; shows: {shown}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs `script` and returns its value.
    pub async fn eval(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .expect("the script runs")
    }

    /// Saves a screenshot as `target/screenshots/<name>.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("the screenshot directory");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("the screenshot is written");
        path
    }

    /// Asserts the browser logged no console error (nor an uncaught exception, nor a
    /// failed resource) since the last call.
    pub async fn assert_no_console_errors(&self, page: &str) {
        let logs = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .expect("the browser log");
        let errors: Vec<&Value> = logs
            .as_array()
            .map(|entries| entries.iter().filter(|e| e["level"] == "SEVERE").collect())
            .unwrap_or_default();
        assert!(errors.is_empty(), "console errors on {page}: {errors:?}");
    }

    /// Runs axe-core on the page; asserts no serious or critical violation.
    pub async fn assert_accessible(&self, page: &str) {
        let axe = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(AXE))
            .expect("axe-core is installed (npm ci in tests/browser)");
        self.client
            .execute(&axe, vec![])
            .await
            .expect("axe-core loads");
        let run = "const done = arguments[arguments.length - 1]; \
                   axe.run(document).then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length})))) \
                   .catch(e => done([{id: 'axe-failed', impact: 'critical', help: String(e)}]));";
        let violations = self
            .client
            .execute_async(run, vec![])
            .await
            .expect("axe-core runs");
        let bad: Vec<&Value> = violations
            .as_array()
            .map(|all| {
                all.iter()
                    .filter(|v| v["impact"] == "serious" || v["impact"] == "critical")
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            bad.is_empty(),
            "accessibility violations on {page}: {bad:?}"
        );
    }

    /// The page's checks: no console errors, accessible, and a screenshot.
    pub async fn check_page(&self, name: &str) {
        self.assert_no_console_errors(name).await;
        self.assert_accessible(name).await;
        self.screenshot(name).await;
    }
}

/// WebDriver's virtual authenticator (WebAuthn Level 2 §11.3): a CTAP2 platform
/// authenticator with resident keys and user verification that always succeeds.
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/webauthn/authenticator",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let options = json!({
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
            "hasUserVerification": true, "isUserVerified": true,
            "isUserConsenting": true,
        });
        (http::Method::POST, Some(options.to_string()))
    }
}

impl Browser {
    /// Gives the browser a virtual passkey authenticator (the WebDriver extension).
    pub async fn add_virtual_authenticator(&self) {
        self.client
            .issue_cmd(AddVirtualAuthenticator)
            .await
            .expect("a virtual authenticator");
    }

    /// Signs this browser out by forgetting its cookies (its authenticator stays).
    pub async fn forget_cookies(&self) {
        self.client
            .delete_all_cookies()
            .await
            .expect("delete the cookies");
    }
}

/// chromedriver's browser log (the `se/log` extension; W3C WebDriver has no log).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

fn find(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    })
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}
