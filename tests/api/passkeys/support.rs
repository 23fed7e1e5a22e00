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

    /// This browser's CSRF token (bound to its cookie, the same on every page), from
    /// the sign-in page, which always has a form (the account page may have none).
    pub async fn account_csrf(&self, browser: &reqwest::Client) -> String {
        let page = self.get(browser, "/login").await.text().await.unwrap();
        hidden_input(&page, "csrf_token").expect("a CSRF token")
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

    /// Registers `key` like [`TestApp::register`]; the passkey as a discoverable
    /// authenticator keeps it (its credential id and its user handle).
    pub async fn register_held(
        &self,
        browser: &reqwest::Client,
        key: &mut SoftPasskey,
        name: &str,
    ) -> Held {
        let (ceremony, options) = self.start_registration(browser, name).await;
        let json = serde_json::to_value(&options).unwrap();
        assert_eq!(
            json["publicKey"]["authenticatorSelection"]["residentKey"], "preferred",
            "registration asks for a discoverable credential"
        );
        let user_handle = json["publicKey"]["user"]["id"].as_str().unwrap().to_owned();
        let credential = key.do_registration(self.origin(), options).unwrap();
        let response = self
            .finish_registration(browser, &ceremony, &credential)
            .await;
        assert_eq!(ok_json(response).await["name"], name);
        Held {
            credential_id: credential.id,
            user_handle,
        }
    }

    /// `POST /login/passkey` (asserting success): the ceremony id and the options.
    pub async fn start_sign_in(
        &self,
        browser: &reqwest::Client,
    ) -> (String, RequestChallengeResponse) {
        let csrf = self.account_csrf(browser).await;
        let response = self
            .post(browser, "/login/passkey", &[("csrf_token", &csrf)])
            .await;
        let body = ok_json(response).await;
        let options = serde_json::from_value(body["options"].clone()).unwrap();
        (body["ceremony_id"].as_str().unwrap().to_owned(), options)
    }

    /// What a discoverable authenticator answers to `options` (which name no
    /// credential): `key` asserts with `held`, and says whose it is. The soft passkey
    /// only answers for credentials it is told of, and keeps no user handle: the test
    /// tells it and adds the handle, which is not signed (WebAuthn L2 §5.2.2).
    pub fn discoverable_answer(
        &self,
        key: &mut SoftPasskey,
        held: &Held,
        options: &RequestChallengeResponse,
    ) -> PublicKeyCredential {
        let mut json = serde_json::to_value(options).unwrap();
        assert_eq!(json["publicKey"]["allowCredentials"], serde_json::json!([]));
        json["publicKey"]["allowCredentials"] =
            serde_json::json!([{"type": "public-key", "id": held.credential_id}]);
        let told = serde_json::from_value(json).unwrap();
        let credential = key.do_authentication(self.origin(), told).unwrap();
        let mut json = serde_json::to_value(&credential).unwrap();
        json["response"]["userHandle"] = held.user_handle.clone().into();
        serde_json::from_value(json).unwrap()
    }

    /// `POST /login/passkey/{ceremony}` with `credential` and `fields`.
    pub async fn finish_sign_in(
        &self,
        browser: &reqwest::Client,
        ceremony: &str,
        credential: &PublicKeyCredential,
        fields: &[(&str, &str)],
    ) -> Response {
        let csrf = self.account_csrf(browser).await;
        let credential = serde_json::to_string(credential).unwrap();
        let mut form = vec![("csrf_token", csrf.as_str()), ("credential", &credential)];
        form.extend_from_slice(fields);
        self.post(browser, &format!("/login/passkey/{ceremony}"), &form)
            .await
    }

    /// A new browser signed in with `key`'s passkey `held` (asserting success).
    pub async fn signed_in_with_passkey(
        &self,
        key: &mut SoftPasskey,
        held: &Held,
    ) -> reqwest::Client {
        let browser = crate::helpers::browser();
        let (ceremony, options) = self.start_sign_in(&browser).await;
        let answer = self.discoverable_answer(key, held, &options);
        let signed_in = self.finish_sign_in(&browser, &ceremony, &answer, &[]).await;
        assert_eq!(ok_json(signed_in).await["location"], "/approvals");
        browser
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

/// A passkey as a discoverable authenticator holds it.
#[derive(Debug, Clone)]
pub struct Held {
    /// Its credential id (base64url).
    pub credential_id: String,
    /// The user handle it was registered with (base64url).
    pub user_handle: String,
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
