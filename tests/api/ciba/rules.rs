//! Approval rules (Cedar) over backchannel payments: below the threshold a rule
//! approves without a human, above it two of finance must approve on top of the
//! scope's approvers, and a forbid wins over everything. The decision, the rules
//! that made it and the rule set's version reach the audit log and the tokens.

use countersign::audit::Actor;
use countersign::manage;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::support::{acknowledged, ciba_setup, BINDING};
use crate::approval::support::{approval_app, ApprovalSeed, TestApp};
use crate::helpers::{assert_oauth_error, jwt_part, tokens_of};

const RULES: &str = r#"
@id("small-payments")
permit(principal, action, resource == ActionType::"payment")
when { context.details.amount <= 1000 };

@id("large-payments")
@require("finance:2")
permit(principal, action, resource == ActionType::"payment")
when { context.details.amount > 10000 };

@id("no-contractors")
forbid(principal, action, resource)
when { context.subject.attributes has kind && context.subject.attributes.kind == "contractor" };
"#;

async fn ruled_app() -> (TestApp<ApprovalSeed>, crate::helpers::TestClient) {
    let app = approval_app().await;
    let agent = ciba_setup(&app, None);
    app.add_group("finance");
    app.add_member("finance", &app.dave);
    app.add_member("finance", &app.admin);
    manage::set_rules(&app.store, RULES, &Actor::Cli, app.now()).expect("rules set");
    (app, agent)
}

async fn pay(
    app: &TestApp<ApprovalSeed>,
    agent: &crate::helpers::TestClient,
    amount: i64,
) -> String {
    let details =
        json!([{"type": "payment", "amount": amount, "currency": "EUR", "creditor": "ACME GmbH"}]);
    let response = app
        .bc_authorize(
            agent,
            &[
                ("login_hint", "alice"),
                ("authorization_details", &details.to_string()),
                ("binding_message", BINDING),
            ],
        )
        .await;
    acknowledged(response).await.0
}

#[tokio::test]
async fn below_the_threshold_a_rule_approves_and_the_tokens_say_which() {
    // Arrange
    let (app, agent) = ruled_app().await;
    // Act
    let auth_req_id = pay(&app, &agent, 450).await;
    let tokens = tokens_of(app.poll(&agent, &auth_req_id).await).await;
    // Assert
    let claims = jwt_part(&tokens.access_token, 1);
    assert_eq!(claims["approval"]["approvers"], json!([]));
    assert_eq!(
        claims["approval"]["rules"],
        json!({"version": 1, "outcome": "approve", "matched": ["small-payments"]})
    );
    assert_eq!(claims["authorization_details"][0]["amount"], 450);
    let approved = app.events("approval.approved");
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0].actor, "system");
    let details: Value = serde_json::from_str(&approved[0].details).unwrap();
    assert_eq!(details["rules"]["rules"], json!(["small-payments"]));
}

#[tokio::test]
async fn above_the_threshold_two_of_finance_must_approve_as_well() {
    // Arrange
    let (app, agent) = ruled_app().await;
    let auth_req_id = pay(&app, &agent, 25_000).await;
    let id = app.last_approval_id();
    // Act
    app.bob_decides(&id, "approve").await;
    app.clock.advance(5);
    let after_bob = app.poll(&agent, &auth_req_id).await;
    for member in [&app.dave, &app.admin] {
        let browser = app.signed_in(member).await;
        let voted = app.vote(&browser, &id, "approve", None).await;
        assert_eq!(voted.status(), StatusCode::SEE_OTHER);
    }
    app.clock.advance(5);
    let tokens = tokens_of(app.poll(&agent, &auth_req_id).await).await;
    // Assert
    assert_oauth_error(
        after_bob,
        StatusCode::BAD_REQUEST,
        "authorization_pending",
        "the approvers have not decided yet",
    )
    .await;
    let claims = jwt_part(&tokens.access_token, 1);
    assert_eq!(claims["approval"]["approvers"].as_array().unwrap().len(), 3);
    assert_eq!(claims["approval"]["rules"]["outcome"], "require");
}

#[tokio::test]
async fn a_forbid_wins_and_the_client_hears_it_was_a_rule() {
    // Arrange
    let (app, agent) = ruled_app().await;
    manage::set_attribute(
        &app.store,
        "alice",
        "kind",
        "contractor",
        &Actor::Cli,
        app.now(),
    )
    .expect("attribute");
    // Act
    let auth_req_id = pay(&app, &agent, 450).await;
    let response = app.poll(&agent, &auth_req_id).await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "access_denied",
        "the request was denied by an approval rule",
    )
    .await;
    let denied = app.events("approval.denied");
    let details: Value = serde_json::from_str(&denied[0].details).unwrap();
    assert_eq!(details["rules"]["rules"], json!(["no-contractors"]));
    assert!(app.events("approval.vote").is_empty(), "nobody voted");
}

#[tokio::test]
async fn between_the_thresholds_the_scope_policy_alone_applies() {
    // Arrange
    let (app, agent) = ruled_app().await;
    let auth_req_id = pay(&app, &agent, 4500).await;
    // Act
    app.bob_decides(&app.last_approval_id(), "approve").await;
    let tokens = tokens_of(app.poll(&agent, &auth_req_id).await).await;
    // Assert
    let claims = jwt_part(&tokens.access_token, 1);
    assert_eq!(claims["approval"]["approvers"], json!([app.bob.id]));
    assert!(claims["approval"]["rules"].is_null(), "no rule matched");
}

#[tokio::test]
async fn rules_are_checked_versioned_and_audited_when_set() {
    // Arrange
    let app = approval_app().await;
    app.add_group("finance");
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let good = write("good.cedar", RULES);
    let broken = write("broken.cedar", "permit(principal,");
    let ghost = write(
        "ghost.cedar",
        r#"@require("ghosts") permit(principal, action, resource);"#,
    );
    // Act
    let first = app.cli_ok(&["rules", "set", &good]);
    let second = app.cli_ok(&["rules", "set", &good]);
    let bad = app.cli(&["rules", "set", &broken]);
    let unknown = app.cli(&["rules", "set", &ghost]);
    let shown = app.cli_ok(&["rules", "show"]);
    // Assert
    assert_eq!(first, "rules version 1 in force\n");
    assert_eq!(second, "rules version 2 in force\n");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not Cedar"));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("\"ghosts\", which does not exist"));
    assert!(shown.starts_with("# version 2\n"), "{shown}");
    assert!(shown.contains("small-payments"));
    assert_eq!(app.events("rules.updated").len(), 2);
}

#[tokio::test]
async fn in_the_browser_flow_a_rule_approves_at_consent_for_whom_it_names() {
    // Arrange
    let app = approval_app().await;
    app.add_group("treasury");
    app.add_member("treasury", &app.alice);
    let rules = r#"
        @id("treasury-pays")
        permit(principal in Group::"treasury", action, resource == Scope::"payments:write");
    "#;
    manage::set_rules(&app.store, rules, &Actor::Cli, app.now()).expect("rules");
    // Act
    let alice = crate::approval::support::browser();
    let request = app
        .sign_in_to_consent(&alice, &app.alice, crate::approval::support::SCOPES)
        .await;
    let answer = app.consent(&alice, &request, "allow", None).await;
    let code = app.code_of(&answer);
    let carol = crate::approval::support::browser();
    let carol_request = app
        .sign_in_to_consent(&carol, &app.carol, crate::approval::support::SCOPES)
        .await;
    let carol_answer = app.consent(&carol, &carol_request, "allow", None).await;
    // Assert
    assert!(
        !code.is_empty(),
        "alice is in treasury: straight back with a code"
    );
    assert_eq!(
        carol_answer.status(),
        StatusCode::SEE_OTHER,
        "carol is not: her request waits"
    );
    assert!(carol_answer.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("/waiting"));
}

#[tokio::test]
async fn a_ping_client_is_pinged_when_a_rule_decides_at_once() {
    // Arrange
    let client_side = crate::helpers::HttpReceiver::start();
    let app = TestApp::builder()
        .notify(countersign::config::RawNotify {
            poll_interval: Some("20ms".into()),
            ..Default::default()
        })
        .spawn()
        .await
        .seeded(ApprovalSeed::seed);
    let agent = ciba_setup(&app, Some(format!("{}/cb", client_side.url)));
    app.add_group("finance");
    manage::set_rules(&app.store, RULES, &Actor::Cli, app.now()).expect("rules set");
    let details =
        json!([{"type": "payment", "amount": 450, "currency": "EUR", "creditor": "ACME GmbH"}]);
    // Act
    let response = app
        .bc_authorize(
            &agent,
            &[
                ("login_hint", "alice"),
                ("authorization_details", &details.to_string()),
                ("client_notification_token", "token-of-the-agent-0123456789"),
            ],
        )
        .await;
    let (auth_req_id, _) = acknowledged(response).await;
    let pings = client_side.wait_for(1).await;
    // Assert
    assert_eq!(pings[0].json(), json!({"auth_req_id": auth_req_id}));
    tokens_of(app.poll(&agent, &auth_req_id).await).await;
}
