//! Concurrent decisions (STYLE.md §2.3): votes lock the approval and transitions are
//! compare-and-swap, so racing votes have exactly one outcome and one audit event.

use reqwest::StatusCode;

use super::support::{approval_app, ApprovalSeed, TestApp};

/// The approval.approved / approval.denied events of one approval.
fn transitions(app: &TestApp<ApprovalSeed>, approval_id: &str) -> Vec<String> {
    app.events_about(&format!("approval:{approval_id}"))
        .into_iter()
        .map(|event| event.action)
        .filter(|action| action == "approval.approved" || action == "approval.denied")
        .collect()
}

#[tokio::test]
async fn a_concurrent_approve_and_deny_have_exactly_one_outcome() {
    // Arrange
    let app = approval_app().await;
    let (alice, first) = app.request_access(&app.alice).await;
    let (bob, carol) = app.approvers().await;
    let (bob_csrf, carol_csrf) = (app.csrf(&bob).await, app.csrf(&carol).await);
    let mut next = Some(first.approval_id);
    for round in 0..20 {
        let id = match next.take() {
            Some(id) => id,
            None => app.request_again(&alice).await,
        };
        // Act
        let (approve, deny) = tokio::join!(
            app.post_vote(&bob, &id, &bob_csrf, "approve", None),
            app.post_vote(&carol, &id, &carol_csrf, "deny", Some("not this time")),
        );
        // Assert
        let state = app.status_json(&alice, &id).await["state"]
            .as_str()
            .unwrap()
            .to_owned();
        let (winner, loser, event) = match state.as_str() {
            "approved" => (approve.status(), deny.status(), "approval.approved"),
            _ => (deny.status(), approve.status(), "approval.denied"),
        };
        assert!(
            state == "approved" || state == "denied",
            "round {round}: {state}"
        );
        assert_eq!(winner, StatusCode::SEE_OTHER, "round {round}: the winner");
        assert_eq!(loser, StatusCode::CONFLICT, "round {round}: the loser");
        assert_eq!(transitions(&app, &id), vec![event], "round {round}");
    }
    app.assert_chain_verifies();
}

#[tokio::test]
async fn two_concurrent_last_votes_approve_exactly_once() {
    // Arrange
    let app = approval_app().await;
    app.set_quorum(2);
    let (alice, first) = app.request_access(&app.alice).await;
    let (bob, carol) = app.approvers().await;
    let (bob_csrf, carol_csrf) = (app.csrf(&bob).await, app.csrf(&carol).await);
    let mut next = Some(first.approval_id);
    for round in 0..10 {
        let id = match next.take() {
            Some(id) => id,
            None => app.request_again(&alice).await,
        };
        // Act
        let (by_bob, by_carol) = tokio::join!(
            app.post_vote(&bob, &id, &bob_csrf, "approve", None),
            app.post_vote(&carol, &id, &carol_csrf, "approve", None),
        );
        // Assert: neither vote is lost, and the quorum fires once.
        assert_eq!(by_bob.status(), StatusCode::SEE_OTHER, "round {round}");
        assert_eq!(by_carol.status(), StatusCode::SEE_OTHER, "round {round}");
        assert_eq!(
            app.status_json(&alice, &id).await["state"],
            "approved",
            "round {round}"
        );
        assert_eq!(
            transitions(&app, &id),
            vec!["approval.approved"],
            "round {round}"
        );
    }
    app.assert_chain_verifies();
}

#[tokio::test]
async fn concurrent_continues_after_approval_issue_exactly_one_code() {
    // Arrange
    let app = approval_app().await;
    let (alice, first) = app.request_access(&app.alice).await;
    let bob = app.signed_in(&app.bob).await;
    let mut next = Some(first.approval_id);
    for round in 0..5 {
        let id = match next.take() {
            Some(id) => id,
            None => app.request_again(&alice).await,
        };
        app.approve(&bob, &id).await;
        let waiting = app.get(&alice, &format!("/approvals/{id}/waiting")).await;
        let resume = super::client::see_other(&waiting);
        // Act
        let (one, two) = tokio::join!(app.get(&alice, &resume), app.get(&alice, &resume));
        // Assert
        let mut statuses = [one.status(), two.status()];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::SEE_OTHER, StatusCode::BAD_REQUEST],
            "round {round}: one code, one refusal"
        );
        let redeemed: Vec<_> = app
            .events_about(&format!("approval:{id}"))
            .into_iter()
            .filter(|e| e.action == "approval.redeemed")
            .collect();
        assert_eq!(redeemed.len(), 1, "round {round}");
    }
    app.assert_chain_verifies();
}
