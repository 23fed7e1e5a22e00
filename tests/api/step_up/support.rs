//! Fixtures of the step-up suites: enrolling an approver's authenticator app through
//! the account page, the codes their app would show at the app's time, and votes that
//! carry a code.

use countersign::approval::ApproverFactor;
use countersign::manage::ScopeChanges;
use reqwest::{Response, StatusCode};
use totp_rs::{Builder, Secret};

pub use crate::approval::browser::Pending;
pub use crate::approval::client::jwt_payload;
pub use crate::approval::support::{approval_app, ApprovalSeed, TestApp};
use crate::helpers::{hidden_input, see_other, unescape};

/// An enrolled authenticator app: its key and the recovery codes shown at enrolment.
pub struct App {
    /// The base32 key.
    pub secret: String,
    /// The ten recovery codes.
    pub recovery_codes: Vec<String>,
}

impl App {
    /// The code the app shows at `unix` seconds.
    pub fn code_at(&self, unix: i64) -> String {
        code_at(&self.secret, unix)
    }
}

/// The code a TOTP app with `secret` shows at `unix` seconds (RFC 6238 defaults).
pub fn code_at(secret: &str, unix: i64) -> String {
    let totp = Builder::new()
        .with_secret(Secret::try_from_base32(secret).expect("a base32 key"))
        .build()
        .expect("a TOTP");
    totp.generate(u64::try_from(unix).expect("a positive time"))
        .to_string()
}

/// The text between `start` and the next `end` after it.
pub fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = html.find(start)? + start.len();
    let to = html[from..].find(end)? + from;
    Some(&html[from..to])
}

impl TestApp<ApprovalSeed> {
    /// Asks for `factor` on every decision on the sensitive scope.
    pub fn require_factor(&self, factor: ApproverFactor) {
        self.set_policy(ScopeChanges {
            approver_factor: Some(factor),
            ..ScopeChanges::default()
        });
    }

    /// The account page of `browser`'s user (asserting 200).
    pub async fn account_page(&self, browser: &reqwest::Client) -> String {
        let page = self.get(browser, "/account").await;
        assert_eq!(page.status(), StatusCode::OK, "the account page");
        page.text().await.unwrap()
    }

    /// Starts enrolment from the account page; returns the key shown and the page.
    pub async fn start_enrolment(&self, browser: &reqwest::Client) -> (String, String) {
        let account = self.account_page(browser).await;
        let csrf = hidden_input(&account, "csrf_token").expect("a CSRF token");
        let page = self
            .post(browser, "/account/totp", &[("csrf_token", &csrf)])
            .await;
        assert_eq!(page.status(), StatusCode::OK, "the enrolment page");
        let html = page.text().await.unwrap();
        let secret = between(&html, "Key: <code>", "</code>")
            .expect("the key is shown")
            .to_owned();
        (secret, html)
    }

    /// Posts the enrolment's first code.
    pub async fn confirm_enrolment(&self, browser: &reqwest::Client, code: &str) -> Response {
        let csrf = hidden_input(&self.account_page(browser).await, "csrf_token").unwrap();
        self.post(
            browser,
            "/account/totp/confirm",
            &[("csrf_token", &csrf), ("code", code)],
        )
        .await
    }

    /// Enrols an authenticator app for `browser`'s user, end to end.
    pub async fn enrol(&self, browser: &reqwest::Client) -> App {
        let (secret, _) = self.start_enrolment(browser).await;
        let confirmed = self
            .confirm_enrolment(browser, &code_at(&secret, self.now()))
            .await;
        assert_eq!(
            confirmed.status(),
            StatusCode::OK,
            "the first code confirms"
        );
        let html = confirmed.text().await.unwrap();
        let recovery_codes = html
            .split("<li><code>")
            .skip(1)
            .filter_map(|part| part.split("</code>").next())
            .map(str::to_owned)
            .collect();
        App {
            secret,
            recovery_codes,
        }
    }

    /// Votes from the review page with `code` typed in the code field.
    pub async fn vote_with_code(
        &self,
        browser: &reqwest::Client,
        approval_id: &str,
        decision: &str,
        code: Option<&str>,
    ) -> Response {
        let (status, html) = self.review(browser, approval_id).await;
        let csrf = hidden_input(&html, "csrf_token");
        assert!(
            csrf.is_some(),
            "the review form has a CSRF token: {status} {html}"
        );
        let csrf = csrf.unwrap_or_default();
        let mut form = vec![("decision", decision), ("csrf_token", csrf.as_str())];
        if decision == "deny" {
            form.push(("comment", "not today"));
        }
        if let Some(code) = code {
            form.push(("code", code));
        }
        self.post(browser, &format!("/approvals/{approval_id}"), &form)
            .await
    }

    /// Asserts a vote was accepted (303 back to the review page).
    pub fn assert_accepted(&self, response: &Response, approval_id: &str) {
        assert_eq!(see_other(response), format!("/approvals/{approval_id}"));
    }

    /// Asserts a vote was refused with `status` and a page saying `says`.
    pub async fn assert_refused(&self, response: Response, status: StatusCode, says: &str) {
        assert_eq!(response.status(), status);
        let html = unescape(&response.text().await.unwrap());
        assert!(html.contains(says), "the page says {says:?}: {html}");
    }

    /// The approval's state as its requester's status poll says.
    pub async fn state_of(&self, requester: &reqwest::Client, pending: &Pending) -> String {
        let status = self.status_json(requester, &pending.approval_id).await;
        status["state"].as_str().unwrap_or_default().to_owned()
    }
}
