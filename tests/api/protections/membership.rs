//! Membership is checked when the vote is cast, not when the request was made (DESIGN.md
//! §5.1 step 5: approver ∈ the group): an approver removed from the group while a
//! request waits can no longer see or decide it, and is refused exactly as any
//! non-member is (404, learning nothing); the remaining members still decide.

use countersign::audit::Actor;
use countersign::manage;
use reqwest::StatusCode;

use crate::approval::client::{hidden_input, refused, without_request_id};
use crate::approval::support::{approval_app, APPROVERS};

#[tokio::test]
async fn an_approver_removed_from_the_group_while_a_request_waits_can_no_longer_decide_it() {
    // Arrange: bob has the review page (and its CSRF token) open when he is removed.
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let (bob, carol) = app.approvers().await;
    let (status, html) = app.review(&bob, &id).await;
    assert_eq!(status, StatusCode::OK, "bob may decide before");
    let csrf = hidden_input(&html, "csrf_token").unwrap();
    let dave = app.signed_in(&app.dave).await;
    let dave_csrf = app.csrf(&dave).await;
    manage::remove_member(&app.store, APPROVERS, "bob", &Actor::Cli, app.now()).unwrap();
    // Act
    let vote = app.post_vote(&bob, &id, &csrf, "approve", None).await;
    let outsider = app.post_vote(&dave, &id, &dave_csrf, "approve", None).await;
    let (review, _) = app.review(&bob, &id).await;
    // Assert: the same answer as a non-member's, and nothing changed.
    let vote_page = refused(vote, StatusCode::NOT_FOUND).await;
    let outsider_page = refused(outsider, StatusCode::NOT_FOUND).await;
    assert_eq!(
        without_request_id(&vote_page),
        without_request_id(&outsider_page)
    );
    assert_eq!(review, StatusCode::NOT_FOUND);
    assert!(!app.inbox(&bob).await.contains(&id));
    assert_eq!(app.status_json(&alice, &id).await["state"], "pending");
    assert!(app.events("approval.vote").is_empty());
    // Act: a remaining member decides.
    app.approve(&carol, &id).await;
    // Assert
    assert_eq!(app.status_json(&alice, &id).await["state"], "approved");
    let votes = app.events("approval.vote");
    assert_eq!(votes.len(), 1);
    assert_eq!(votes[0].actor, format!("user:{}", app.carol.id));
}
