//! Fixtures of the CIBA suites: the approval seed (alice the subject, bob and carol in
//! `approvers`) plus an action type `payment` approved under `payments:write`, and a
//! CIBA client (poll mode unless a ping endpoint is given) that acts for alice.

use countersign::audit::Actor;
use countersign::manage::{self, ActionTypeChanges, ClientSpec};
use countersign::oidc::ciba::DeliveryMode;
use countersign::oidc::grant_type::GrantType;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

pub use crate::approval::support::{ApprovalSeed, TestApp, TestClient, SENSITIVE};

/// The schema of `payment`: an amount up to 1,000,000, a currency, a creditor.
pub fn payment_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["type", "amount", "currency", "creditor"],
        "properties": {
            "type": {"const": "payment"},
            "amount": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000000},
            "currency": {"enum": ["EUR", "USD", "GBP"]},
            "creditor": {"type": "string", "minLength": 1, "maxLength": 140}
        },
        "additionalProperties": false
    })
}

/// The payment of the README's walkthrough.
pub fn payment() -> Value {
    json!([{"type": "payment", "amount": 4500, "currency": "EUR", "creditor": "ACME GmbH"}])
}

/// The binding message the agent shows.
pub const BINDING: &str = "Pay ACME 4500 EUR - W4SP";

/// Registers `payment` and a CIBA client (`ping`: its notification endpoint).
pub fn ciba_setup(app: &TestApp<ApprovalSeed>, ping: Option<String>) -> TestClient {
    manage::add_action_type(
        &app.store,
        "payment",
        ActionTypeChanges {
            description: Some("A payment from the company account".into()),
            schema: Some(payment_schema().to_string()),
            policy_scope: Some(SENSITIVE.into()),
            ..ActionTypeChanges::default()
        },
        &Actor::Cli,
        app.now(),
    )
    .expect("action type");
    app.add_client(ClientSpec {
        name: "Payments Agent".into(),
        scopes: vec!["openid".into(), "profile".into(), SENSITIVE.into()],
        grant_types: vec![GrantType::Ciba],
        backchannel_mode: ping.as_ref().map(|_| DeliveryMode::Ping),
        backchannel_notification_endpoint: ping,
        ..ClientSpec::default()
    })
}

/// A successful acknowledgement: `(auth_req_id, body)`.
pub async fn acknowledged(response: Response) -> (String, Value) {
    let status = response.status();
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(status, StatusCode::OK, "acknowledgement {body}");
    let id = body["auth_req_id"]
        .as_str()
        .expect("auth_req_id")
        .to_owned();
    (id, body)
}

impl TestApp<ApprovalSeed> {
    /// `POST /bc-authorize` as `client` with `form`.
    pub async fn bc_authorize(&self, client: &TestClient, form: &[(&str, &str)]) -> Response {
        self.post_as(client, "/bc-authorize", form).await
    }

    /// Asks for the README's payment for alice.
    pub async fn ask_payment(&self, client: &TestClient, form: &[(&str, &str)]) -> String {
        let details = payment().to_string();
        let mut all = vec![
            ("login_hint", "alice"),
            ("authorization_details", details.as_str()),
            ("binding_message", BINDING),
        ];
        all.extend_from_slice(form);
        acknowledged(self.bc_authorize(client, &all).await).await.0
    }

    /// One poll at `/token`.
    pub async fn poll(&self, client: &TestClient, auth_req_id: &str) -> Response {
        self.post_as(
            client,
            "/token",
            &[
                ("grant_type", "urn:openid:params:grant-type:ciba"),
                ("auth_req_id", auth_req_id),
            ],
        )
        .await
    }

    /// The approval the last backchannel request created (from the audit log).
    pub fn last_approval_id(&self) -> String {
        let requested = self.events("approval.requested");
        let target = &requested.last().expect("an approval was requested").target;
        target.trim_start_matches("approval:").to_owned()
    }

    /// bob approves (or denies, with a comment) on the page.
    pub async fn bob_decides(&self, approval_id: &str, decision: &str) -> String {
        let bob = self.signed_in(&self.bob).await;
        let (status, page) = self.review(&bob, approval_id).await;
        assert_eq!(status, StatusCode::OK, "bob's review page");
        let comment = (decision == "deny").then_some("not this creditor");
        let voted = self.vote(&bob, approval_id, decision, comment).await;
        assert_eq!(
            voted.status(),
            StatusCode::SEE_OTHER,
            "the vote is accepted"
        );
        page
    }
}
