//! An approved request that is never redeemed does not stay redeemable: it expires at
//! the end of its access window (DESIGN.md §2.3: `Pending | Approved` + Expire →
//! Expired, applied on read and by the sweep; §5.1 step 6: expired → `access_denied`
//! with a description saying so). Time moves on the app's fixed clock, never by sleeping.

use reqwest::StatusCode;

use crate::approval::support::{approval_app, ApprovalSeed, TestApp};

/// The default access duration of a sensitive scope (`scope add`): one hour.
const ACCESS_DURATION: i64 = 60 * 60;

/// The lifecycle events of one approval, in order.
fn lifecycle(app: &TestApp<ApprovalSeed>, approval_id: &str) -> Vec<(String, String)> {
    app.events_about(&format!("approval:{approval_id}"))
        .into_iter()
        .filter(|e| e.action != "approval.vote")
        .map(|e| (e.action, e.actor))
        .collect()
}

#[tokio::test]
async fn an_approved_request_never_redeemed_expires_at_the_end_of_its_window() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let bob = app.signed_in(&app.bob).await;
    app.approve(&bob, &id).await;
    assert_eq!(app.status_json(&alice, &id).await["state"], "approved");
    // Act: the window ends, and only then does alice come back (no sweep runs).
    app.clock.advance(ACCESS_DURATION);
    let response = app.continue_after_decision(&alice, &pending).await;
    // Assert: access_denied, no code, and the approval is expired for good.
    let description = app.error_of(&response, "access_denied");
    assert!(description.contains("expired"), "{description}");
    assert_eq!(app.status_json(&alice, &id).await["state"], "expired");
    let again = app
        .get(
            &alice,
            &format!("/authorize/continue?request={}", pending.request_id),
        )
        .await;
    assert_eq!(
        again.status(),
        StatusCode::BAD_REQUEST,
        "nothing to continue"
    );
    let expected = [
        "approval.requested",
        "approval.approved",
        "approval.expired",
    ];
    let actions: Vec<String> = lifecycle(&app, &id).into_iter().map(|(a, _)| a).collect();
    assert_eq!(actions, expected);
    assert_eq!(lifecycle(&app, &id)[2].1, "system");
}

#[tokio::test]
async fn an_approved_request_is_still_redeemable_a_second_before_its_window_ends() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let bob = app.signed_in(&app.bob).await;
    app.approve(&bob, &pending.approval_id).await;
    // Act
    app.clock.advance(ACCESS_DURATION - 1);
    let response = app.continue_after_decision(&alice, &pending).await;
    // Assert
    let code = app.code_of(&response);
    app.exchange(&code).await;
    let state = app.status_json(&alice, &pending.approval_id).await["state"].clone();
    assert_eq!(state, "redeemed");
}

#[tokio::test]
async fn the_sweep_expires_an_approved_request_nobody_redeemed() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let bob = app.signed_in(&app.bob).await;
    app.approve(&bob, &pending.approval_id).await;
    app.clock.advance(ACCESS_DURATION);
    // Act: one pass of the sweep `serve` runs; nobody reads the approval first.
    let looked_at = countersign::startup::sweep_once(&app.store, app.now()).unwrap();
    // Assert
    assert_eq!(looked_at, 1);
    let events = lifecycle(&app, &pending.approval_id);
    assert_eq!(
        events.last(),
        Some(&("approval.expired".to_owned(), "system".to_owned()))
    );
    let response = app.continue_after_decision(&alice, &pending).await;
    let description = app.error_of(&response, "access_denied");
    assert!(description.contains("expired"), "{description}");
}
