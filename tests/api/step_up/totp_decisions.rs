//! A scope whose policy asks for a code at every decision (`--approver-factor totp`):
//! no vote counts without a valid one, a code works once (RFC 6238 §5.2), one step of
//! drift is accepted, recovery codes stand in once each, wrong codes are throttled, and
//! the tokens and the audit trail say how each approver proved themselves (RFC 8176).

use countersign::approval::ApproverFactor;
use countersign::manage::{self, ScopeChanges};
use reqwest::StatusCode;
use serde_json::json;

use super::support::{approval_app, jwt_payload, ApprovalSeed, TestApp};
use crate::approval::support::SENSITIVE;

/// An app whose sensitive scope asks for a TOTP code, with bob enrolled.
async fn totp_app() -> (TestApp<ApprovalSeed>, reqwest::Client, super::support::App) {
    let app = approval_app().await;
    app.require_factor(ApproverFactor::Totp);
    let bob = app.signed_in(&app.bob).await;
    let enrolled = app.enrol(&bob).await;
    // The enrolment used the current step: decide in the next one.
    app.clock.advance(30);
    (app, bob, enrolled)
}

#[tokio::test]
async fn a_vote_counts_only_with_a_valid_code_and_the_tokens_say_how_the_approver_proved_it() {
    // Arrange
    let (app, bob, enrolled) = totp_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let (_, review) = app.review(&bob, &id).await;
    // Act
    let without = app.vote_with_code(&bob, &id, "approve", None).await;
    let wrong = app
        .vote_with_code(&bob, &id, "approve", Some("000000"))
        .await;
    let right = app
        .vote_with_code(&bob, &id, "approve", Some(&enrolled.code_at(app.now())))
        .await;
    // Assert
    assert!(
        review.contains("name=\"code\""),
        "the review page asks for the code"
    );
    app.assert_refused(
        without,
        StatusCode::FORBIDDEN,
        "asks for a code from your authenticator app",
    )
    .await;
    app.assert_refused(wrong, StatusCode::FORBIDDEN, "The code is not valid")
        .await;
    app.assert_accepted(&right, &id);
    assert_eq!(app.state_of(&alice, &pending).await, "approved");
    let votes = app.events("approval.vote");
    assert_eq!(votes.len(), 1, "only the vote with a valid code counts");
    let details: serde_json::Value = serde_json::from_str(&votes[0].details).unwrap();
    assert_eq!(details["amr"], json!(["pwd", "otp", "mfa"]), "{details}");
    let response = app.continue_after_decision(&alice, &pending).await;
    let tokens = app.exchange(&app.code_of(&response)).await;
    let claim = &jwt_payload(tokens.id_token.as_deref().unwrap())["approval"];
    assert_eq!(
        claim["proofs"],
        json!([{"sub": app.bob.id, "amr": ["pwd", "otp", "mfa"]}]),
        "{claim}"
    );
    assert_eq!(jwt_payload(&tokens.access_token)["approval"], *claim);
    let shown = app.cli_ok(&["approval", "show", &id]);
    assert!(shown.contains("(pwd+otp+mfa)"), "{shown}");
}

#[tokio::test]
async fn a_code_is_accepted_once_even_on_another_request() {
    // Arrange
    let (app, bob, enrolled) = totp_app().await;
    let (alice, first) = app.request_access(&app.alice).await;
    let second = app.request_again(&alice).await;
    let code = enrolled.code_at(app.now());
    app.assert_accepted(
        &app.vote_with_code(&bob, &first.approval_id, "approve", Some(&code))
            .await,
        &first.approval_id,
    );
    // Act
    let replayed = app
        .vote_with_code(&bob, &second, "approve", Some(&code))
        .await;
    app.clock.advance(30);
    let next = app
        .vote_with_code(&bob, &second, "approve", Some(&enrolled.code_at(app.now())))
        .await;
    // Assert
    app.assert_refused(replayed, StatusCode::FORBIDDEN, "a code works once")
        .await;
    app.assert_accepted(&next, &second);
}

#[tokio::test]
async fn one_step_of_drift_is_accepted_and_two_are_not() {
    // Arrange
    let (app, bob, enrolled) = totp_app().await;
    app.clock.advance(90);
    let (alice, first) = app.request_access(&app.alice).await;
    let second = app.request_again(&alice).await;
    // Act
    let two_behind = app
        .vote_with_code(
            &bob,
            &first.approval_id,
            "approve",
            Some(&enrolled.code_at(app.now() - 60)),
        )
        .await;
    let one_behind = app
        .vote_with_code(
            &bob,
            &first.approval_id,
            "approve",
            Some(&enrolled.code_at(app.now() - 30)),
        )
        .await;
    let one_ahead = app
        .vote_with_code(
            &bob,
            &second,
            "approve",
            Some(&enrolled.code_at(app.now() + 30)),
        )
        .await;
    // Assert
    app.assert_refused(two_behind, StatusCode::FORBIDDEN, "The code is not valid")
        .await;
    app.assert_accepted(&one_behind, &first.approval_id);
    app.assert_accepted(&one_ahead, &second);
}

#[tokio::test]
async fn a_recovery_code_stands_in_once() {
    // Arrange
    let (app, bob, enrolled) = totp_app().await;
    let (alice, first) = app.request_access(&app.alice).await;
    let second = app.request_again(&alice).await;
    let recovery = enrolled.recovery_codes[3].clone();
    // Act
    let used = app
        .vote_with_code(&bob, &first.approval_id, "approve", Some(&recovery))
        .await;
    let reused = app
        .vote_with_code(&bob, &second, "approve", Some(&recovery))
        .await;
    // Assert
    app.assert_accepted(&used, &first.approval_id);
    app.assert_refused(reused, StatusCode::FORBIDDEN, "The code is not valid")
        .await;
    assert!(app
        .account_page(&bob)
        .await
        .contains("Recovery codes left: 9"));
}

#[tokio::test]
async fn wrong_codes_are_throttled_like_passwords_and_the_failures_are_audited() {
    // Arrange
    let (app, bob, enrolled) = totp_app().await;
    let (_, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    for _ in 0..5 {
        let wrong = app
            .vote_with_code(&bob, &id, "approve", Some("000000"))
            .await;
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    }
    // Act
    let right_but_late = app
        .vote_with_code(&bob, &id, "approve", Some(&enrolled.code_at(app.now())))
        .await;
    app.clock.advance(5 * 60);
    let after_the_lockout = app
        .vote_with_code(&bob, &id, "approve", Some(&enrolled.code_at(app.now())))
        .await;
    // Assert
    app.assert_refused(
        right_but_late,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many wrong codes",
    )
    .await;
    assert_eq!(app.events("step_up.failed").len(), 5);
    app.assert_accepted(&after_the_lockout, &id);
}

#[tokio::test]
async fn an_approver_without_an_authenticator_app_is_told_to_enrol_one() {
    // Arrange
    let app = approval_app().await;
    app.require_factor(ApproverFactor::Any);
    let (alice, pending) = app.request_access(&app.alice).await;
    let carol = app.signed_in(&app.carol).await;
    // Act
    let vote = app
        .vote_with_code(&carol, &pending.approval_id, "approve", Some("123456"))
        .await;
    // Assert
    app.assert_refused(vote, StatusCode::FORBIDDEN, "enrol it on your account page")
        .await;
    assert_eq!(app.state_of(&alice, &pending).await, "pending");
}

#[tokio::test]
async fn a_typed_code_never_meets_a_passkey_requirement() {
    // Arrange
    let app = approval_app().await;
    let bob = app.signed_in(&app.bob).await;
    let enrolled = app.enrol(&bob).await;
    app.clock.advance(30);
    app.require_factor(ApproverFactor::Passkey);
    let (alice, pending) = app.request_access(&app.alice).await;
    // Act
    let vote = app
        .vote_with_code(
            &bob,
            &pending.approval_id,
            "approve",
            Some(&enrolled.code_at(app.now())),
        )
        .await;
    // Assert
    assert_eq!(vote.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.state_of(&alice, &pending).await, "pending");
    assert!(app.events("approval.vote").is_empty());
}

#[tokio::test]
async fn a_factor_keeps_decisions_off_chat() {
    // Arrange
    let app = approval_app().await;
    app.require_factor(ApproverFactor::Totp);
    let changes = ScopeChanges {
        allow_chat_decisions: Some(true),
        ..ScopeChanges::default()
    };
    // Act
    let refused = manage::update_scope(
        &app.store,
        SENSITIVE,
        changes,
        &countersign::audit::Actor::Cli,
        app.now(),
    );
    // Assert
    let error = refused.expect_err("chat decisions with a factor are refused");
    assert!(
        error
            .to_string()
            .contains("cannot be combined with --chat-decisions"),
        "{error}"
    );
}
