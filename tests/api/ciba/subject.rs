//! A policy that asks the subject too: with `--subject-confirms`, the user an agent
//! acts for confirms on their own approval page, besides the approver groups, and
//! never fills an approver's slot.

use countersign::manage::ScopeChanges;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::support::{ciba_setup, SENSITIVE};
use crate::approval::support::{approval_app, APPROVERS};
use crate::helpers::{jwt_part, tokens_of};

#[tokio::test]
async fn the_subject_confirms_as_well_and_the_tokens_name_both() {
    // Arrange
    let app = approval_app().await;
    let agent = ciba_setup(&app, None);
    app.update_scope(
        SENSITIVE,
        ScopeChanges {
            subject_confirms: Some(true),
            ..ScopeChanges::default()
        },
    );
    app.add_member(APPROVERS, &app.alice);
    let auth_req_id = app.ask_payment(&agent, &[]).await;
    let id = app.last_approval_id();
    // Act
    app.bob_decides(&id, "approve").await;
    app.clock.advance(5);
    let after_bob: Value = app.poll(&agent, &auth_req_id).await.json().await.unwrap();
    let alice = app.signed_in(&app.alice).await;
    let inbox = app.inbox(&alice).await;
    let (status, page) = app.review(&alice, &id).await;
    let confirmed = app.vote(&alice, &id, "approve", None).await;
    app.clock.advance(5);
    let tokens = tokens_of(app.poll(&agent, &auth_req_id).await).await;
    // Assert
    assert_eq!(
        after_bob["error"], "authorization_pending",
        "bob alone is not enough"
    );
    assert!(inbox.contains(&id), "her inbox lists what she must confirm");
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("the user&#39;s own confirmation"), "{page}");
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
    let claims = jwt_part(&tokens.access_token, 1);
    assert_eq!(
        claims["approval"]["approvers"],
        json!([app.bob.id, app.alice.id])
    );
    let votes = app.events("approval.vote");
    let alice_vote: Value = serde_json::from_str(&votes[1].details).unwrap();
    assert_eq!(
        alice_vote["groups"],
        json!(["the subject"]),
        "her approver group is not used"
    );
}

#[tokio::test]
async fn without_the_policy_the_subject_still_cannot_decide() {
    // Arrange
    let app = approval_app().await;
    let agent = ciba_setup(&app, None);
    app.ask_payment(&agent, &[]).await;
    let id = app.last_approval_id();
    let alice = app.signed_in(&app.alice).await;
    let csrf = app.csrf(&alice).await;
    // Act
    let vote = app.post_vote(&alice, &id, &csrf, "approve", None).await;
    // Assert
    assert_eq!(vote.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_approving_rule_spares_the_approvers_but_not_the_subject() {
    // Arrange
    let app = approval_app().await;
    let agent = ciba_setup(&app, None);
    app.update_scope(
        SENSITIVE,
        ScopeChanges {
            subject_confirms: Some(true),
            ..ScopeChanges::default()
        },
    );
    countersign::manage::set_rules(
        &app.store,
        r#"@id("all") permit(principal, action, resource);"#,
        &countersign::audit::Actor::Cli,
        app.now(),
    )
    .expect("rules");
    let auth_req_id = app.ask_payment(&agent, &[]).await;
    let id = app.last_approval_id();
    // Act
    let before: Value = app.poll(&agent, &auth_req_id).await.json().await.unwrap();
    let alice = app.signed_in(&app.alice).await;
    let confirmed = app.vote(&alice, &id, "approve", None).await;
    app.clock.advance(5);
    let tokens = tokens_of(app.poll(&agent, &auth_req_id).await).await;
    // Assert
    assert_eq!(
        before["error"], "authorization_pending",
        "alice has not confirmed"
    );
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
    let claims = jwt_part(&tokens.access_token, 1);
    assert_eq!(
        claims["approval"]["approvers"],
        json!([app.alice.id]),
        "no approver was needed"
    );
}
