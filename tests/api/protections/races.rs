//! Races with exactly one outcome (STYLE.md §2.3: transitions are compare-and-swap under
//! the approval's row lock): the requester cancelling while an approver approves; an
//! approver revoking while the client redeems the code (after a revoke that succeeded no
//! token is live, DESIGN.md §5.1 step 7); and parallel refreshes of one refresh token,
//! whose losers count as reuse (RFC 9700 §4.14.2), so the winner's rotated token dies too.

use reqwest::StatusCode;

use crate::approval::client::see_other;
use crate::approval::support::{approval_app, ApprovalSeed, TestApp};
use crate::helpers::{assert_oauth_error, tokens_of, Tokens};
use crate::oidc::support::{
    assert_invalid_token, assert_refresh_refused, introspect, oidc_app, refresh, tokens_for,
    AuthRequest,
};

/// The approved / cancelled / denied transitions of one approval.
fn decisions(app: &TestApp<ApprovalSeed>, approval_id: &str) -> Vec<String> {
    app.events_about(&format!("approval:{approval_id}"))
        .into_iter()
        .map(|event| event.action)
        .filter(|a| {
            ["approval.approved", "approval.cancelled", "approval.denied"].contains(&a.as_str())
        })
        .collect()
}

/// The requester's answer from the waiting page once decided (the continue hop).
async fn continue_from_waiting(
    app: &TestApp<ApprovalSeed>,
    browser: &reqwest::Client,
    approval_id: &str,
) -> reqwest::Response {
    let waiting = app
        .get(browser, &format!("/approvals/{approval_id}/waiting"))
        .await;
    let resume = see_other(&waiting);
    assert!(
        resume.starts_with("/authorize/continue?request="),
        "{resume}"
    );
    app.get(browser, &resume).await
}

/// Introspection, refresh and userinfo all refuse the tokens.
async fn assert_dead(app: &TestApp<ApprovalSeed>, tokens: &Tokens, round: usize) {
    let access = app.introspect(&tokens.access_token).await;
    assert_eq!(access["active"], false, "round {round}: {access}");
    let refresh_token = tokens.refresh_token.as_deref().unwrap();
    assert_eq!(app.introspect(refresh_token).await["active"], false);
    assert_eq!(
        app.userinfo(&tokens.access_token).await.status(),
        StatusCode::UNAUTHORIZED,
        "round {round}"
    );
    let refused = app.refresh(refresh_token).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "round {round}");
}

#[tokio::test]
async fn a_concurrent_cancel_and_approve_have_exactly_one_outcome() {
    // Arrange
    let app = approval_app().await;
    let (alice, first) = app.request_access(&app.alice).await;
    let bob = app.signed_in(&app.bob).await;
    let (alice_csrf, bob_csrf) = (app.csrf(&alice).await, app.csrf(&bob).await);
    let mut next = Some(first.approval_id);
    for round in 0..20 {
        let id = match next.take() {
            Some(id) => id,
            None => app.request_again(&alice).await,
        };
        let cancel_path = format!("/approvals/{id}/cancel");
        let cancel_form = [("csrf_token", alice_csrf.as_str())];
        // Act
        let (cancel, approve) = tokio::join!(
            app.post(&alice, &cancel_path, &cancel_form),
            app.post_vote(&bob, &id, &bob_csrf, "approve", None),
        );
        // Assert: one winner, one 409, one audited decision.
        let state = app.status_json(&alice, &id).await["state"]
            .as_str()
            .unwrap()
            .to_owned();
        let (winner, loser, event) = match state.as_str() {
            "approved" => (approve.status(), cancel.status(), "approval.approved"),
            _ => (cancel.status(), approve.status(), "approval.cancelled"),
        };
        assert!(
            state == "approved" || state == "cancelled",
            "round {round}: {state}"
        );
        assert_eq!(winner, StatusCode::SEE_OTHER, "round {round}: the winner");
        assert_eq!(loser, StatusCode::CONFLICT, "round {round}: the loser");
        assert_eq!(decisions(&app, &id), vec![event], "round {round}");
        // Assert: the flow ends the way the winner says.
        let answer = continue_from_waiting(&app, &alice, &id).await;
        if state == "approved" {
            app.code_of(&answer);
            assert_eq!(app.status_json(&alice, &id).await["state"], "redeemed");
        } else {
            let description = app.error_of(&answer, "access_denied");
            assert!(description.contains("cancelled"), "round {round}");
        }
    }
    app.assert_chain_verifies();
}

#[tokio::test]
async fn a_code_whose_approval_was_revoked_before_the_exchange_gives_no_live_token() {
    // Arrange: approved and continued: the client holds a code, not yet exchanged.
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let bob = app.signed_in(&app.bob).await;
    app.approve(&bob, &id).await;
    let code = app.code_of(&continue_from_waiting(&app, &alice, &id).await);
    // Act
    let revoked = app.revoke(&bob, &id).await;
    let exchanged = app.exchange_response(&code).await;
    // Assert
    assert_eq!(see_other(&revoked), format!("/approvals/{id}"));
    assert_eq!(app.status_json(&alice, &id).await["state"], "revoked");
    assert_oauth_error(
        exchanged,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "the grant behind this code was revoked",
    )
    .await;
}

#[tokio::test]
async fn a_revoke_racing_the_code_exchange_never_leaves_a_live_token() {
    // Arrange
    let app = approval_app().await;
    let (alice, first) = app.request_access(&app.alice).await;
    let bob = app.signed_in(&app.bob).await;
    let bob_csrf = app.csrf(&bob).await;
    let mut next = Some(first.approval_id);
    // Ten rounds: on SQLite and on PostgreSQL both orders happen.
    for round in 0..10 {
        let id = match next.take() {
            Some(id) => id,
            None => app.request_again(&alice).await,
        };
        app.approve(&bob, &id).await;
        let code = app.code_of(&continue_from_waiting(&app, &alice, &id).await);
        let revoke_path = format!("/approvals/{id}/revoke");
        let revoke_form = [("csrf_token", bob_csrf.as_str())];
        // Act
        let (revoked, exchanged) = tokio::join!(
            app.post(&bob, &revoke_path, &revoke_form),
            app.exchange_response(&code),
        );
        // Assert: the revoke succeeds; the exchange fails, or its tokens are dead.
        assert_eq!(revoked.status(), StatusCode::SEE_OTHER, "round {round}");
        assert_eq!(app.status_json(&alice, &id).await["state"], "revoked");
        if exchanged.status() == StatusCode::OK {
            assert_dead(&app, &tokens_of(exchanged).await, round).await;
        } else {
            assert_eq!(exchanged.status(), StatusCode::BAD_REQUEST, "round {round}");
        }
    }
    app.assert_chain_verifies();
}

#[tokio::test]
async fn parallel_refreshes_count_as_reuse_so_the_winners_rotated_token_dies_too() {
    // Arrange
    let app = std::sync::Arc::new(oidc_app().await);
    let (_, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let token = tokens.refresh_token.unwrap();
    // Act: five refreshes of the same token at once.
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let (app, token) = (app.clone(), token.clone());
            tokio::spawn(async move { refresh(&app, &app.rp, &token, None).await })
        })
        .collect();
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for task in tasks {
        let response = task.await.unwrap();
        match response.status() {
            StatusCode::OK => winners.push(tokens_of(response).await),
            _ => losers.push(response),
        }
    }
    // Assert: one rotation won; every other answer is the reuse refusal.
    assert_eq!((winners.len(), losers.len()), (1, 4));
    for loser in losers {
        assert_oauth_error(
            loser,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the refresh token was already used; the grant is revoked",
        )
        .await;
    }
    // Assert: the server cannot tell a racing client from a thief replaying the token,
    // so the grant is gone, the winner's rotated tokens with it (RFC 9700 §4.14.2).
    let winner = winners.pop().unwrap();
    let rotated = winner.refresh_token.as_deref().unwrap();
    assert_refresh_refused(&app, rotated, "the refresh token was revoked").await;
    assert_invalid_token(&app.userinfo(&winner.access_token).await);
    let access = introspect(&app, &app.rp, &winner.access_token).await;
    assert_eq!(access["active"], false);
}
