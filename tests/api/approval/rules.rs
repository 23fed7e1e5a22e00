//! Four eyes, enforced by the server (DESIGN.md §1.4, §5.1 step 5, §8 "Approval pages"):
//! never one's own request, only members of a required group, one vote each, a quorum
//! per group, a fresh login when policy asks, and nothing leaks to anyone else.

use countersign::manage::ScopeChanges;
use reqwest::StatusCode;

use super::client::{refused, see_other, tokens_of, without_request_id};
use super::support::{approval_app, browser, APPROVERS};

#[tokio::test]
async fn nobody_may_approve_their_own_request_even_as_a_member_of_the_approver_group() {
    // Arrange
    let app = approval_app().await;
    app.add_member(APPROVERS, &app.alice);
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let csrf = app.csrf(&alice).await;
    // Act
    let inbox = app.inbox(&alice).await;
    let review = app.get(&alice, &format!("/approvals/{id}")).await;
    let vote = app.post_vote(&alice, &id, &csrf, "approve", None).await;
    // Assert
    assert!(!inbox.contains(&id), "her own request is not in her inbox");
    assert_eq!(
        see_other(&review),
        format!("/approvals/{id}/waiting"),
        "the requester is sent to her waiting page"
    );
    let page = refused(vote, StatusCode::FORBIDDEN).await;
    assert!(page.contains("own request"), "the page says why: {page}");
    assert_eq!(app.status_json(&alice, &id).await["state"], "pending");
    assert!(app.events("approval.vote").is_empty());
}

#[tokio::test]
async fn a_user_outside_the_approver_groups_sees_nothing_and_cannot_vote() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let dave = app.signed_in(&app.dave).await;
    let csrf = app.csrf(&dave).await;
    // Act
    let inbox = app.inbox(&dave).await;
    let (review, review_page) = app.review(&dave, &id).await;
    let (_, unknown_page) = app.review(&dave, "no-such-approval").await;
    let vote = app.post_vote(&dave, &id, &csrf, "approve", None).await;
    let unknown_vote = app
        .post_vote(&dave, "no-such-approval", &csrf, "approve", None)
        .await;
    // Assert
    assert!(!inbox.contains(&id), "nothing in dave's inbox");
    assert!(inbox.contains("Nothing is waiting"), "{inbox}");
    assert_eq!(review, StatusCode::NOT_FOUND);
    assert_eq!(
        without_request_id(&review_page),
        without_request_id(&unknown_page),
        "he learns nothing, not even that it exists"
    );
    // Voting answers exactly as the page does (issue 17): the id's existence stays hidden.
    let vote_page = refused(vote, StatusCode::NOT_FOUND).await;
    let unknown_vote_page = refused(unknown_vote, StatusCode::NOT_FOUND).await;
    assert_eq!(
        without_request_id(&vote_page),
        without_request_id(&unknown_vote_page)
    );
    assert_eq!(app.status_json(&alice, &id).await["state"], "pending");
    assert!(app.events("approval.vote").is_empty());
}

#[tokio::test]
async fn a_vote_with_a_bad_csrf_token_is_refused_and_changes_nothing() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let bob = app.signed_in(&app.bob).await;
    // Act
    let vote = app
        .post_vote(&bob, &pending.approval_id, "forged", "approve", None)
        .await;
    // Assert
    refused(vote, StatusCode::FORBIDDEN).await;
    let status = app.status_json(&alice, &pending.approval_id).await;
    assert_eq!(status["state"], "pending");
}

#[tokio::test]
async fn a_quorum_of_two_needs_two_distinct_approvers() {
    // Arrange
    let app = approval_app().await;
    app.set_quorum(2);
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let (bob, carol) = app.approvers().await;
    let bob_csrf = app.csrf(&bob).await;
    // Act
    app.approve(&bob, &id).await;
    let after_bob = app.status_json(&alice, &id).await;
    let bob_again = app.post_vote(&bob, &id, &bob_csrf, "approve", None).await;
    app.approve(&carol, &id).await;
    // Assert
    assert_eq!(after_bob["state"], "pending", "one approval of two");
    let page = refused(bob_again, StatusCode::CONFLICT).await;
    assert!(page.contains("already decided"), "{page}");
    assert_eq!(app.status_json(&alice, &id).await["state"], "approved");
    let response = app.continue_after_decision(&alice, &pending).await;
    let tokens = tokens_of(app.exchange_response(&app.code_of(&response)).await).await;
    let claims = super::client::jwt_payload(&tokens.access_token);
    let mut approvers: Vec<&str> = claims["approval"]["approvers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    approvers.sort_unstable();
    let mut expected = vec![app.bob.id.as_str(), app.carol.id.as_str()];
    expected.sort_unstable();
    assert_eq!(approvers, expected);
}

#[tokio::test]
async fn each_approver_group_must_reach_its_own_quorum() {
    // Arrange
    let app = approval_app().await;
    app.add_group("security");
    let eve = app.add_user("eve", None, &["security"]);
    app.set_policy(ScopeChanges {
        approver_groups: Some(vec![APPROVERS.into(), "security".into()]),
        ..ScopeChanges::default()
    });
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let (bob, carol, eve) = (
        app.signed_in(&app.bob).await,
        app.signed_in(&app.carol).await,
        app.signed_in(&eve).await,
    );
    let (_, review) = app.review(&bob, &id).await;
    // Act
    app.approve(&bob, &id).await;
    app.approve(&carol, &id).await;
    let without_security = app.status_json(&alice, &id).await;
    app.approve(&eve, &id).await;
    // Assert
    assert!(
        review.contains("1 approval from approvers, 1 approval from security"),
        "the review page says who must approve"
    );
    assert_eq!(
        without_security["state"], "pending",
        "two approvers do not make up for security"
    );
    assert_eq!(app.status_json(&alice, &id).await["state"], "approved");
}

#[tokio::test]
async fn an_approver_whose_sign_in_is_too_old_signs_in_again_before_deciding() {
    // Arrange
    let app = approval_app().await;
    app.set_policy(ScopeChanges {
        approver_max_age: Some(10 * 60),
        ..ScopeChanges::default()
    });
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let bob = app.signed_in(&app.bob).await;
    let csrf = app.csrf(&bob).await;
    app.clock.advance(11 * 60);
    // Act
    let stale = app.post_vote(&bob, &id, &csrf, "approve", None).await;
    let login_path = see_other(&stale);
    let still = app.status_json(&alice, &id).await;
    let login_page = app.get(&bob, &login_path).await.text().await.unwrap();
    let relogin = app.login(&bob, &login_path, &app.bob).await;
    // Assert
    assert_eq!(
        login_path,
        format!("/login?return_to=%2Fapprovals%2F{id}&fresh=1")
    );
    assert_eq!(
        still["state"], "pending",
        "the stale vote counted for nothing"
    );
    assert!(
        login_page.contains("recent sign-in"),
        "the login page says why"
    );
    assert_eq!(see_other(&relogin), format!("/approvals/{id}"));
    app.approve(&bob, &id).await;
    assert_eq!(app.status_json(&alice, &id).await["state"], "approved");
}

#[tokio::test]
async fn the_status_endpoint_answers_only_the_requester() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let (bob, dave) = (
        app.signed_in(&app.bob).await,
        app.signed_in(&app.dave).await,
    );
    let unknown = app.status(&alice, "no-such-approval").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let unknown = unknown.text().await.unwrap();
    // Act
    let answers = [
        ("bob", app.status(&bob, &id).await),
        ("dave", app.status(&dave, &id).await),
    ];
    let anonymous = app.status(&browser(), &id).await;
    let bob_waiting = app.get(&bob, &format!("/approvals/{id}/waiting")).await;
    // Assert
    for (who, response) in answers {
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{who}");
        assert_eq!(
            response.text().await.unwrap(),
            unknown,
            "{who} learns nothing"
        );
    }
    // Without a session it is sent to sign in, like every /approvals… route.
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    let location = anonymous.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("/login?return_to="), "{location}");
    refused(bob_waiting, StatusCode::NOT_FOUND).await;
    assert_eq!(app.status_json(&alice, &id).await["state"], "pending");
}

#[tokio::test]
async fn approval_pages_send_a_visitor_without_a_session_to_sign_in_first() {
    // Arrange
    let app = approval_app().await;
    let (_alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let visitor = browser();
    // Act
    let inbox = app.get(&visitor, "/approvals").await;
    let review = app.get(&visitor, &format!("/approvals/{id}")).await;
    let login_path = see_other(&review);
    let signed_in = app.login(&visitor, &login_path, &app.bob).await;
    // Assert
    assert_eq!(see_other(&inbox), "/login?return_to=%2Fapprovals");
    assert_eq!(login_path, format!("/login?return_to=%2Fapprovals%2F{id}"));
    assert_eq!(see_other(&signed_in), format!("/approvals/{id}"));
    let (status, page) = app.review(&visitor, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("alice"),
        "the review page names the requester"
    );
}

#[tokio::test]
async fn one_denial_denies_even_after_other_approvals() {
    // Arrange
    let app = approval_app().await;
    app.set_quorum(2);
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let (bob, carol) = app.approvers().await;
    app.approve(&bob, &id).await;
    // Act
    let denial = app.vote(&carol, &id, "deny", Some("wrong supplier")).await;
    // Assert
    assert_eq!(see_other(&denial), format!("/approvals/{id}"));
    let status = app.status_json(&alice, &id).await;
    assert_eq!(status["state"], "denied");
    assert_eq!(status["comment"], "wrong supplier");
}

#[tokio::test]
async fn a_policy_edit_does_not_change_the_requirements_of_a_pending_approval() {
    // Arrange: requested under quorum 1, then the policy asks for 2.
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    app.set_quorum(2);
    let bob = app.signed_in(&app.bob).await;
    // Act
    app.approve(&bob, &pending.approval_id).await;
    let next = app.request_again(&alice).await;
    app.approve(&bob, &next).await;
    // Assert
    let recorded = app.status_json(&alice, &pending.approval_id).await;
    assert_eq!(
        recorded["state"], "approved",
        "the recorded quorum of 1 applies"
    );
    let newer = app.status_json(&alice, &next).await;
    assert_eq!(
        newer["state"], "pending",
        "a new request gets the new quorum of 2"
    );
}

#[tokio::test]
async fn a_request_waiting_for_approval_never_changes_owner() {
    // Arrange: alice's request waits for approval; bob, an approver, knows its id.
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let bob = app.signed_in(&app.bob).await;
    let csrf = app.csrf(&bob).await;
    let request = pending.request_id.as_str();
    // Act: bob opens and answers the consent of alice's request as his own.
    let page = app.get(&bob, &format!("/consent?request={request}")).await;
    let post = app
        .post(
            &bob,
            "/consent",
            &[
                ("request", request),
                ("decision", "allow"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    let resume = app
        .get(&bob, &format!("/authorize/continue?request={request}"))
        .await;
    // Assert: refused each time, and the request is still alice's to finish.
    for (what, response) in [
        ("consent page", page),
        ("consent", post),
        ("continue", resume),
    ] {
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{what}");
        assert!(response.headers().get("location").is_none(), "{what}");
    }
    assert_eq!(
        app.status_json(&alice, &pending.approval_id).await["state"],
        "pending"
    );
    let (approver, _) = app.approvers().await;
    app.approve(&approver, &pending.approval_id).await;
    let response = app.continue_after_decision(&alice, &pending).await;
    let tokens = app.exchange(&app.code_of(&response)).await;
    let claims = crate::helpers::jwt_part(&tokens.id_token.expect("an ID token"), 1);
    assert_eq!(
        claims["sub"],
        app.alice.id.as_str(),
        "the tokens are alice's"
    );
}

#[tokio::test]
async fn a_form_with_a_repeated_field_is_a_400_saying_which_and_changes_nothing() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let (bob, _) = app.approvers().await;
    let csrf = app.csrf(&bob).await;
    // Act: "decision" twice; then a login form with undecodable bytes.
    let vote = app
        .post(
            &bob,
            &format!("/approvals/{}", pending.approval_id),
            &[
                ("decision", "approve"),
                ("decision", "deny"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    let login = browser()
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=%FF%FE&password=x&csrf_token=y")
        .send()
        .await
        .unwrap();
    // Assert
    let page = refused(vote, StatusCode::BAD_REQUEST).await;
    assert!(page.contains("appears more than once"), "{page}");
    let page = refused(login, StatusCode::BAD_REQUEST).await;
    assert!(page.contains("is not valid text"), "{page}");
    assert_eq!(
        app.status_json(&alice, &pending.approval_id).await["state"],
        "pending"
    );
}

#[tokio::test]
async fn the_inbox_lists_fifty_requests_a_page_oldest_first() {
    // Arrange: 51 requests from alice.
    let app = approval_app().await;
    let (alice, first) = app.request_access(&app.alice).await;
    let mut ids = vec![first.approval_id];
    for _ in 0..50 {
        app.clock.advance(1);
        ids.push(app.request_again(&alice).await);
    }
    let (bob, _) = app.approvers().await;
    // Act
    let page_one = app.inbox(&bob).await;
    let page_two = app
        .get(&bob, "/approvals?page=1")
        .await
        .text()
        .await
        .unwrap();
    // Assert: the oldest 50, a link on, then the last one.
    assert!(page_one.contains(&ids[0]) && page_one.contains(&ids[49]));
    assert!(!page_one.contains(&ids[50]));
    assert!(
        page_one.contains("href=\"/approvals?page=1\""),
        "{page_one}"
    );
    assert!(page_two.contains(&ids[50]) && !page_two.contains(&ids[0]));
    assert!(page_two.contains("href=\"/approvals?page=0\""));
    // Voted requests leave the approver's inbox.
    app.approve(&bob, &ids[0]).await;
    assert!(!app.inbox(&bob).await.contains(&ids[0]));
}
