//! Crowds at one decision point: a hundred simultaneous votes on one approval decide it
//! exactly once (one final state, one decision event, exactly the votes the quorum rules
//! let count, no server error), and fifty simultaneous exchanges of one authorization
//! code issue tokens exactly once, every replay being refused and revoking what was
//! issued (RFC 6749 §4.1.2, DESIGN.md §2.5). Parallel refreshes of one refresh token are
//! `oidc::refresh_race`.

use std::sync::Arc;

use countersign::ids::ApprovalId;
use countersign::store;
use reqwest::StatusCode;
use tokio::sync::Barrier;

use crate::approval::support::{approval_app, ApprovalSeed, TestApp, User, APPROVERS};
use crate::oidc::support::{
    assert_oauth_error, assert_refresh_refused, code_of, exchange_request, introspect,
    login_and_consent, oidc_app, AuthRequest, Pkce,
};

/// Approvers voting at once.
const VOTERS: usize = 10;
/// Votes each of them sends at once.
const VOTES_EACH: usize = 10;
/// Approvals needed.
const QUORUM: usize = 3;
/// Exchanges of one code sent at once.
const EXCHANGES: usize = 50;

/// `VOTERS` approvers signed in, each with its browser and CSRF token.
async fn voters(app: &TestApp<ApprovalSeed>) -> Vec<(User, reqwest::Client, String)> {
    let mut users = vec![app.bob.clone(), app.carol.clone()];
    for n in users.len()..VOTERS {
        users.push(app.add_user(&format!("approver{n}"), None, &[APPROVERS]));
    }
    let mut signed_in = Vec::new();
    for user in users {
        let browser = app.signed_in(&user).await;
        let csrf = app.csrf(&browser).await;
        signed_in.push((user, browser, csrf));
    }
    signed_in
}

#[tokio::test]
async fn a_hundred_simultaneous_votes_on_one_approval_decide_it_exactly_once() {
    // Arrange: ten approvers, three approvals needed; each approver sends ten votes at
    // once, approve and deny alternating (any deny denies).
    let app = Arc::new(approval_app().await);
    app.set_quorum(QUORUM as i64);
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let start = Arc::new(Barrier::new(VOTERS * VOTES_EACH));
    let mut votes = Vec::new();
    for (v, (_, browser, csrf)) in voters(&app).await.into_iter().enumerate() {
        for k in 0..VOTES_EACH {
            let (app, id, start) = (app.clone(), id.clone(), start.clone());
            let (browser, csrf) = (browser.clone(), csrf.clone());
            let (decision, comment) = match (v + k) % 2 {
                0 => ("approve", None),
                _ => ("deny", Some("not now")),
            };
            votes.push(tokio::spawn(async move {
                start.wait().await;
                let vote = app.post_vote(&browser, &id, &csrf, decision, comment);
                vote.await.status()
            }));
        }
    }
    // Act
    let mut statuses = Vec::new();
    for vote in votes {
        statuses.push(vote.await.unwrap());
    }
    // Assert: every vote was counted (303) or refused as too late (409), none failed.
    let counted = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!(counted + refused, statuses.len(), "{statuses:?}");
    // Assert: one final state, one decision event, and the counted votes are exactly
    // what the rules allow: QUORUM approvals and no deny, or one deny and fewer.
    let state = app.status_json(&alice, &id).await["state"].clone();
    let events = app.events_about(&format!("approval:{id}"));
    let decisions: Vec<&str> = events
        .iter()
        .map(|e| e.action.as_str())
        .filter(|a| *a == "approval.approved" || *a == "approval.denied")
        .collect();
    assert_eq!(decisions, [format!("approval.{}", state.as_str().unwrap())]);
    let recorded = app
        .store
        .read(|c| store::decisions_for(c, &ApprovalId::new(id.as_str())))
        .unwrap();
    let approvals = recorded.iter().filter(|d| d.decision.as_str() == "approve");
    let approvals = approvals.count();
    let denials = recorded.len() - approvals;
    match state.as_str() {
        Some("approved") => assert_eq!((approvals, denials), (QUORUM, 0)),
        _ => assert!(denials == 1 && approvals < QUORUM, "{recorded:?}"),
    }
    assert_eq!(
        counted,
        recorded.len(),
        "a 303 for each counted vote, no other"
    );
    let vote_events = events.iter().filter(|e| e.action == "approval.vote");
    assert_eq!(
        vote_events.count(),
        recorded.len(),
        "one event per counted vote"
    );
    app.assert_chain_verifies();
}

#[tokio::test]
async fn fifty_simultaneous_exchanges_of_one_code_issue_tokens_once_and_revoke_them() {
    // Arrange: one code (PKCE), fifty exchanges ready to go at once.
    let app = Arc::new(oidc_app().await);
    let browser = crate::helpers::browser();
    let pkce = Pkce::new();
    let request = AuthRequest::new(&app.rp).pkce(&pkce).path();
    let code = code_of(&app, &login_and_consent(&app, &browser, &request).await);
    let start = Arc::new(Barrier::new(EXCHANGES));
    let exchanges: Vec<_> = (0..EXCHANGES)
        .map(|_| {
            let (app, code, verifier, start) = (
                app.clone(),
                code.clone(),
                pkce.verifier.clone(),
                start.clone(),
            );
            tokio::spawn(async move {
                let request = exchange_request(&app, &app.rp, &code, Some(&verifier));
                start.wait().await;
                request.send().await.expect("POST /token")
            })
        })
        .collect();
    // Act
    let mut answers = Vec::new();
    for exchange in exchanges {
        answers.push(exchange.await.unwrap());
    }
    // Assert: exactly one 200; every other answer is the replay's invalid_grant.
    let (mut won, mut replays) = (Vec::new(), 0);
    for answer in answers {
        if answer.status() == StatusCode::OK {
            won.push(crate::helpers::tokens_of(answer).await);
        } else {
            let why = "the authorization code was already used; tokens issued from it are revoked";
            assert_oauth_error(answer, StatusCode::BAD_REQUEST, "invalid_grant", why).await;
            replays += 1;
        }
    }
    assert_eq!((won.len(), replays), (1, EXCHANGES - 1));
    // Assert: the replays revoked what the winner got (RFC 6749 §4.1.2), and each was
    // recorded, the grant revoked by the first.
    let tokens = &won[0];
    let introspection = introspect(&app, &app.rp, &tokens.access_token).await;
    assert_eq!(introspection["active"], false, "{introspection}");
    let refresh_token = tokens.refresh_token.as_deref().expect("a refresh token");
    let revoked = "the refresh token was revoked";
    assert_refresh_refused(&app, refresh_token, revoked).await;
    let rows = app.store.read(|c| store::audit_rows_after(c, 0, 10_000));
    let replays: Vec<_> = rows
        .unwrap()
        .into_iter()
        .filter(|row| row.action == "code.replay_detected")
        .collect();
    assert_eq!(replays.len(), EXCHANGES - 1);
    let revoking = replays
        .iter()
        .filter(|row| row.details.contains("\"grant_revoked\":true"));
    assert_eq!(revoking.count(), 1, "{replays:?}");
}
