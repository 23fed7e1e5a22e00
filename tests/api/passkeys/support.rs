//! The passkey suites' fixtures: the countersignature seed on an app whose issuer is
//! `http://localhost:<port>`, the test as the browser's WebAuthn client (what
//! `static/passkeys.js` does: start, ask the authenticator, post the answer), and TOTP
//! enrolment for the tests that mix factors.

use countersign::approval::ApproverFactor;
use countersign::manage::ScopeChanges;
use reqwest::{Response, StatusCode};
use serde_json::Value;
use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url, WebauthnAuthenticator,
};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

pub use crate::approval::support::{ApprovalSeed, TestApp};
use crate::helpers::hidden_input;

/// The approval app with `http://localhost:<port>` as its issuer.
pub async fn passkey_app() -> TestApp<ApprovalSeed> {
    TestApp::builder()
        .localhost_issuer()
        .spawn()
        .await
        .seeded(ApprovalSeed::seed)
}

/// A software passkey that claims user verification (as a platform authenticator
/// with a PIN or biometrics would).
pub fn soft_passkey() -> SoftPasskey {
    SoftPasskey::new(true)
}

impl TestApp<ApprovalSeed> {
    /// The sensitive scope asks for `factor` at each decision.
    pub fn require(&self, factor: ApproverFactor) {
        self.set_policy(ScopeChanges {
            approver_factor: Some(factor),
            ..ScopeChanges::default()
        });
    }

    /// The origin browsers see: the issuer.
    pub fn origin(&self) -> Url {
        Url::parse(&self.issuer).unwrap()
    }

    // `account_page` (GET /account, asserting 200) is the step-up suite's.

    /// This browser's CSRF token, from its account page.
    pub async fn account_csrf(&self, browser: &reqwest::Client) -> String {
        hidden_input(&self.account_page(browser).await, "csrf_token").expect("a CSRF token")
    }

    /// `POST /account/passkeys` (`name`): the ceremony id and the creation options.
    pub async fn start_registration(
        &self,
        browser: &reqwest::Client,
        name: &str,
    ) -> (String, CreationChallengeResponse) {
        let csrf = self.account_csrf(browser).await;
        let response = self
            .post(
                browser,
                "/account/passkeys",
                &[("csrf_token", &csrf), ("name", name)],
            )
            .await;
        let body = ok_json(response).await;
        let options = serde_json::from_value(body["options"].clone()).unwrap();
        (body["ceremony_id"].as_str().unwrap().to_owned(), options)
    }

    /// `POST /account/passkeys/{ceremony}` with the authenticator's answer.
    pub async fn finish_registration(
        &self,
        browser: &reqwest::Client,
        ceremony: &str,
        credential: &RegisterPublicKeyCredential,
    ) -> Response {
        let csrf = self.account_csrf(browser).await;
        let credential = serde_json::to_string(credential).unwrap();
        self.post(
            browser,
            &format!("/account/passkeys/{ceremony}"),
            &[("csrf_token", &csrf), ("credential", &credential)],
        )
        .await
    }

    /// Registers `key` as a passkey called `name` (asserting success); its credential
    /// id.
    pub async fn register(
        &self,
        browser: &reqwest::Client,
        key: &mut SoftPasskey,
        name: &str,
    ) -> String {
        let (ceremony, options) = self.start_registration(browser, name).await;
        let credential = key.do_registration(self.origin(), options).unwrap();
        let response = self
            .finish_registration(browser, &ceremony, &credential)
            .await;
        assert_eq!(ok_json(response).await["name"], name);
        credential.id
    }

    /// `POST /approvals/{id}/ceremony` (`decision`, `comment`).
    pub async fn start_vote(
        &self,
        browser: &reqwest::Client,
        approval_id: &str,
        decision: &str,
        comment: Option<&str>,
    ) -> Response {
        let csrf = self.account_csrf(browser).await;
        let mut form = vec![("csrf_token", csrf.as_str()), ("decision", decision)];
        if let Some(comment) = comment {
            form.push(("comment", comment));
        }
        self.post(
            browser,
            &format!("/approvals/{approval_id}/ceremony"),
            &form,
        )
        .await
    }

    /// Starts an approve ceremony (asserting success): its id and request options.
    pub async fn started_vote(
        &self,
        browser: &reqwest::Client,
        approval_id: &str,
    ) -> (String, RequestChallengeResponse) {
        let body = ok_json(self.start_vote(browser, approval_id, "approve", None).await).await;
        let options = serde_json::from_value(body["options"].clone()).unwrap();
        (body["ceremony_id"].as_str().unwrap().to_owned(), options)
    }

    /// `POST /approvals/{id}/ceremony/{ceremony}` with an assertion.
    pub async fn finish_vote(
        &self,
        browser: &reqwest::Client,
        approval_id: &str,
        ceremony: &str,
        credential: &PublicKeyCredential,
    ) -> Response {
        let csrf = self.account_csrf(browser).await;
        let credential = serde_json::to_string(credential).unwrap();
        self.post(
            browser,
            &format!("/approvals/{approval_id}/ceremony/{ceremony}"),
            &[("csrf_token", &csrf), ("credential", &credential)],
        )
        .await
    }

    /// Approves with `key`: start, assert, finish. The answer to the finish.
    pub async fn approve_with_passkey(
        &self,
        browser: &reqwest::Client,
        key: &mut SoftPasskey,
        approval_id: &str,
    ) -> Response {
        let (ceremony, options) = self.started_vote(browser, approval_id).await;
        let assertion = key.do_authentication(self.origin(), options).unwrap();
        self.finish_vote(browser, approval_id, &ceremony, &assertion)
            .await
    }

    /// Enrols an authenticator app for `browser`'s user through the account page; a
    /// generator of its codes.
    pub async fn enrol_totp(&self, browser: &reqwest::Client) -> totp_rs::Totp {
        let csrf = self.account_csrf(browser).await;
        let page = self
            .post(browser, "/account/totp", &[("csrf_token", &csrf)])
            .await;
        let html = page.text().await.unwrap();
        let secret = html
            .split("Key: <code>")
            .nth(1)
            .and_then(|rest| rest.split("</code>").next())
            .expect("the enrolment page shows the key");
        let totp = totp_rs::Builder::new()
            .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
            .build()
            .unwrap();
        let code = self.code(&totp, 0);
        let confirmed = self
            .post(
                browser,
                "/account/totp/confirm",
                &[("csrf_token", &csrf), ("code", &code)],
            )
            .await;
        assert_eq!(confirmed.status(), StatusCode::OK, "TOTP confirmed");
        totp
    }

    /// The code of `totp` at the app's clock, `steps` time steps later.
    pub fn code(&self, totp: &totp_rs::Totp, steps: i64) -> String {
        let at = u64::try_from(self.now() + 30 * steps).unwrap();
        totp.generate(at).to_string()
    }
}

/// Asserts 200 and returns the JSON body.
pub async fn ok_json(response: Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::OK, "refused: {body}");
    body
}

/// Asserts `status` and returns the JSON `error` sentence.
pub async fn refused_json(response: Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status, "the expected refusal");
    let body: Value = response.json().await.unwrap();
    body["error"].as_str().unwrap_or_default().to_owned()
}
