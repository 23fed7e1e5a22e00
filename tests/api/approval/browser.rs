//! The browser hops of the countersigned flow: login, consent, the waiting page, the
//! approver's inbox, review page and votes. Each helper asserts the 303s it follows.

use reqwest::{Response, StatusCode};
use serde_json::Value;

use super::client::{hidden_input, see_other, see_other_to, waiting_of, Tokens};
use super::support::{
    browser, ApprovalSeed, TestApp, User, NONCE, PASSWORD, REDIRECT_URI, SCOPES, STATE,
};
use crate::helpers::submit_login;

// Browser hops.

impl TestApp<ApprovalSeed> {
    /// Opens the login page at `login_path` (asserting 200) and signs in as `who` with
    /// its CSRF token and hidden fields; returns the answer to the POST.
    pub async fn login(&self, browser: &reqwest::Client, login_path: &str, who: &User) -> Response {
        submit_login(browser, &self.issuer, login_path, &who.username, PASSWORD).await
    }

    /// A new browser signed in as `who` through a bare `/login`.
    pub async fn signed_in(&self, who: &User) -> reqwest::Client {
        let browser = browser();
        let response = self.login(&browser, "/login", who).await;
        assert_eq!(
            see_other(&response),
            "/approvals",
            "a bare login goes to the inbox (DESIGN.md §8)"
        );
        browser
    }

    /// New browsers signed in as bob and as carol, the two approvers.
    pub async fn approvers(&self) -> (reqwest::Client, reqwest::Client) {
        (
            self.signed_in(&self.bob).await,
            self.signed_in(&self.carol).await,
        )
    }

    /// This browser's CSRF token (from the login page; it is the same on every form).
    pub async fn csrf(&self, browser: &reqwest::Client) -> String {
        let html = self.get(browser, "/login").await.text().await.unwrap();
        hidden_input(&html, "csrf_token").expect("a CSRF token")
    }

    /// GET `/authorize?…` for `scope`, plus `extra` parameters.
    pub async fn authorize(
        &self,
        browser: &reqwest::Client,
        scope: &str,
        extra: &[(&str, &str)],
    ) -> Response {
        self.get(browser, &self.authorize_path(scope, extra)).await
    }

    /// `/authorize?response_type=code&client_id&redirect_uri&scope&state&nonce…`.
    pub fn authorize_path(&self, scope: &str, extra: &[(&str, &str)]) -> String {
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", self.client.client_id.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("scope", scope),
            ("state", STATE),
            ("nonce", NONCE),
        ];
        pairs.extend_from_slice(extra);
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("/authorize?{query}")
    }

    /// The consent page of `request_id` (asserting 200); returns its HTML.
    pub async fn consent_page(&self, browser: &reqwest::Client, request_id: &str) -> String {
        let page = self
            .get(browser, &format!("/consent?request={request_id}"))
            .await;
        assert_eq!(page.status(), StatusCode::OK, "the consent page");
        page.text().await.unwrap()
    }

    /// Opens the consent page and answers `decision` (with `justification`, if any).
    pub async fn consent(
        &self,
        browser: &reqwest::Client,
        request_id: &str,
        decision: &str,
        justification: Option<&str>,
    ) -> Response {
        let html = self.consent_page(browser, request_id).await;
        let csrf = hidden_input(&html, "csrf_token").expect("the consent form has a CSRF token");
        assert_eq!(hidden_input(&html, "request").as_deref(), Some(request_id));
        let mut form = vec![
            ("request", request_id),
            ("decision", decision),
            ("csrf_token", csrf.as_str()),
        ];
        if let Some(justification) = justification {
            form.push(("justification", justification));
        }
        self.post(browser, "/consent", &form).await
    }

    /// Without a session: authorize `scope` → 303 login → sign in as `who` → 303
    /// continue → 303 consent. Returns the request id (the consent page is next).
    pub async fn sign_in_to_consent(
        &self,
        browser: &reqwest::Client,
        who: &User,
        scope: &str,
    ) -> String {
        let path = self.authorize_path(scope, &[]);
        self.sign_in_to_consent_at(browser, who, &path).await
    }

    /// Like [`TestApp::sign_in_to_consent`], for any authorization URL or path.
    pub async fn sign_in_to_consent_at(
        &self,
        browser: &reqwest::Client,
        who: &User,
        authorize: &str,
    ) -> String {
        let response = self.get(browser, authorize).await;
        let login_path = see_other_to(&response, "/login?request=");
        let request_id = login_path["/login?request=".len()..].to_owned();
        let response = self.login(browser, &login_path, who).await;
        assert_eq!(
            see_other(&response),
            format!("/authorize/continue?request={request_id}")
        );
        let response = self
            .get(
                browser,
                &format!("/authorize/continue?request={request_id}"),
            )
            .await;
        assert_eq!(
            see_other(&response),
            format!("/consent?request={request_id}")
        );
        request_id
    }

    /// A new browser in which `who` signs in, consents to `SCOPES` and lands on the
    /// waiting page. Returns the browser, the request id and the approval id.
    pub async fn request_access(&self, who: &User) -> (reqwest::Client, Pending) {
        let browser = browser();
        let pending = self.request_access_in(&browser, who, SCOPES).await;
        (browser, pending)
    }

    /// Like [`TestApp::request_access`], in `browser`, for `scope`.
    pub async fn request_access_in(
        &self,
        browser: &reqwest::Client,
        who: &User,
        scope: &str,
    ) -> Pending {
        let request_id = self.sign_in_to_consent(browser, who, scope).await;
        let response = self.consent(browser, &request_id, "allow", None).await;
        let approval_id = waiting_of(&response);
        Pending {
            request_id,
            approval_id,
        }
    }

    /// For a signed-in user who consented before: authorize `SCOPES` → 303 straight to
    /// a new waiting page. Returns the new approval id.
    pub async fn request_again(&self, browser: &reqwest::Client) -> String {
        let response = self.authorize(browser, SCOPES, &[]).await;
        waiting_of(&response)
    }

    /// The waiting page (asserting 200 while pending); returns its HTML.
    pub async fn waiting_page(&self, browser: &reqwest::Client, approval_id: &str) -> String {
        let page = self
            .get(browser, &format!("/approvals/{approval_id}/waiting"))
            .await;
        assert_eq!(page.status(), StatusCode::OK, "the waiting page");
        page.text().await.unwrap()
    }

    /// Once decided: the waiting page 303s to `/authorize/continue?request=…`, which
    /// answers for the client. Returns that answer.
    pub async fn continue_after_decision(
        &self,
        browser: &reqwest::Client,
        pending: &Pending,
    ) -> Response {
        let response = self
            .get(
                browser,
                &format!("/approvals/{}/waiting", pending.approval_id),
            )
            .await;
        let resume = format!("/authorize/continue?request={}", pending.request_id);
        assert_eq!(
            see_other(&response),
            resume,
            "decided: the waiting page continues"
        );
        self.get(browser, &resume).await
    }

    /// `GET /approvals/{id}/status` with `browser`.
    pub async fn status(&self, browser: &reqwest::Client, approval_id: &str) -> Response {
        self.get(browser, &format!("/approvals/{approval_id}/status"))
            .await
    }

    /// The requester's status JSON (asserting 200).
    pub async fn status_json(&self, browser: &reqwest::Client, approval_id: &str) -> Value {
        let response = self.status(browser, approval_id).await;
        assert_eq!(response.status(), StatusCode::OK, "the status endpoint");
        response.json().await.unwrap()
    }

    /// The approver's inbox HTML (asserting 200).
    pub async fn inbox(&self, browser: &reqwest::Client) -> String {
        let page = self.get(browser, "/approvals").await;
        assert_eq!(page.status(), StatusCode::OK, "the inbox");
        page.text().await.unwrap()
    }

    /// The review page: status and HTML.
    pub async fn review(
        &self,
        browser: &reqwest::Client,
        approval_id: &str,
    ) -> (StatusCode, String) {
        let page = self
            .get(browser, &format!("/approvals/{approval_id}"))
            .await;
        (page.status(), page.text().await.unwrap())
    }

    /// POSTs a vote with an explicit CSRF token.
    pub async fn post_vote(
        &self,
        browser: &reqwest::Client,
        approval_id: &str,
        csrf: &str,
        decision: &str,
        comment: Option<&str>,
    ) -> Response {
        let mut form = vec![("decision", decision), ("csrf_token", csrf)];
        if let Some(comment) = comment {
            form.push(("comment", comment));
        }
        self.post(browser, &format!("/approvals/{approval_id}"), &form)
            .await
    }

    /// Opens the review page (asserting 200 and a decision form) and votes from it.
    pub async fn vote(
        &self,
        browser: &reqwest::Client,
        approval_id: &str,
        decision: &str,
        comment: Option<&str>,
    ) -> Response {
        let (status, html) = self.review(browser, approval_id).await;
        assert_eq!(status, StatusCode::OK, "the review page");
        assert!(
            html.contains(&format!("action=\"/approvals/{approval_id}\"")),
            "the review page has a decision form"
        );
        let csrf = hidden_input(&html, "csrf_token").expect("the review form has a CSRF token");
        self.post_vote(browser, approval_id, &csrf, decision, comment)
            .await
    }

    /// Votes approve from the review page and asserts it was accepted (303 back to it).
    pub async fn approve(&self, browser: &reqwest::Client, approval_id: &str) {
        let response = self.vote(browser, approval_id, "approve", None).await;
        assert_eq!(see_other(&response), format!("/approvals/{approval_id}"));
    }

    /// POSTs the revoke form with `browser`'s CSRF token.
    pub async fn revoke(&self, browser: &reqwest::Client, approval_id: &str) -> Response {
        let csrf = self.csrf(browser).await;
        self.post(
            browser,
            &format!("/approvals/{approval_id}/revoke"),
            &[("csrf_token", csrf.as_str())],
        )
        .await
    }

    /// The whole approve path: alice requests `SCOPES`, bob approves, alice continues
    /// and the code is exchanged. Returns alice's browser, her approval and the tokens.
    pub async fn approved_tokens(&self) -> (reqwest::Client, Pending, Tokens) {
        let (alice, pending) = self.request_access(&self.alice).await;
        let bob = self.signed_in(&self.bob).await;
        self.approve(&bob, &pending.approval_id).await;
        let response = self.continue_after_decision(&alice, &pending).await;
        let code = self.code_of(&response);
        let tokens = self.exchange(&code).await;
        (alice, pending, tokens)
    }
}

/// A request waiting for its countersignature.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The stored authorization request.
    pub request_id: String,
    /// Its approval.
    pub approval_id: String,
}
