//! Tokens made from an approval (DESIGN.md §1.3, §5.1 step 7): they never outlive the
//! access window, and revoking the approval (page, CLI, admin) kills them at once.

use countersign::manage::ScopeChanges;
use reqwest::StatusCode;

use super::client::{jwt_payload, refused, see_other, tokens_of, Tokens};
use super::support::{approval_app, ApprovalSeed, TestApp};
use crate::helpers::assert_oauth_error;

/// Introspection, refresh and userinfo all accept the tokens.
async fn assert_tokens_live(app: &TestApp<ApprovalSeed>, tokens: &Tokens) {
    assert_eq!(app.introspect(&tokens.access_token).await["active"], true);
    let refresh = tokens.refresh_token.as_deref().expect("a refresh token");
    assert_eq!(app.introspect(refresh).await["active"], true);
    assert_eq!(
        app.userinfo(&tokens.access_token).await.status(),
        StatusCode::OK
    );
}

/// Introspection says inactive, refresh is invalid_grant, userinfo is 401.
async fn assert_tokens_dead(app: &TestApp<ApprovalSeed>, tokens: &Tokens, refused: &str) {
    let access = app.introspect(&tokens.access_token).await;
    assert_eq!(access, serde_json::json!({"active": false}));
    let refresh = tokens.refresh_token.as_deref().expect("a refresh token");
    assert_eq!(app.introspect(refresh).await["active"], false);
    assert_eq!(
        app.userinfo(&tokens.access_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_oauth_error(
        app.refresh(refresh).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        refused,
    )
    .await;
}

#[tokio::test]
async fn tokens_never_outlive_the_access_window() {
    // Arrange
    let app = approval_app().await;
    app.set_policy(ScopeChanges {
        access_duration: Some(5 * 60),
        ..ScopeChanges::default()
    });
    let (_, _, tokens) = app.approved_tokens().await;
    let access_until = app.now() + 5 * 60;
    let refresh_token = tokens.refresh_token.clone().expect("a refresh token");
    // Act
    let within = tokens_of(app.refresh(&refresh_token).await).await;
    let refresh_info = app
        .introspect(within.refresh_token.as_deref().unwrap())
        .await;
    app.clock.advance(5 * 60 + 1);
    let after = app.refresh(within.refresh_token.as_deref().unwrap()).await;
    // Assert
    let access = jwt_payload(&tokens.access_token);
    assert_eq!(access["approval"]["access_until"], access_until);
    assert!(access["exp"].as_i64().unwrap() <= access_until, "{access}");
    assert!(
        tokens.expires_in <= 5 * 60,
        "expires_in {}",
        tokens.expires_in
    );
    let refreshed = jwt_payload(&within.access_token);
    assert!(
        refreshed["exp"].as_i64().unwrap() <= access_until,
        "{refreshed}"
    );
    assert!(
        refresh_info["exp"].as_i64().unwrap() <= access_until,
        "{refresh_info}"
    );
    assert_oauth_error(
        after,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "the approval's access window has ended; a new approval is needed",
    )
    .await;
}

#[tokio::test]
async fn tokens_are_inactive_once_the_access_window_has_ended() {
    // Arrange
    let app = approval_app().await;
    app.set_policy(ScopeChanges {
        access_duration: Some(5 * 60),
        ..ScopeChanges::default()
    });
    let (_, _, tokens) = app.approved_tokens().await;
    assert_tokens_live(&app, &tokens).await;
    // Act
    app.clock.advance(5 * 60 + 1);
    // Assert
    let introspection = app.introspect(&tokens.access_token).await;
    assert_eq!(introspection["active"], false, "{introspection}");
    assert_eq!(
        app.userinfo(&tokens.access_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_approver_revoking_the_approval_kills_its_tokens_at_once() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending, tokens) = app.approved_tokens().await;
    let id = pending.approval_id.clone();
    assert_tokens_live(&app, &tokens).await;
    let bob = app.signed_in(&app.bob).await;
    let (_, review) = app.review(&bob, &id).await;
    assert!(review.contains(&format!("action=\"/approvals/{id}/revoke\"")));
    // Act
    let response = app.revoke(&bob, &id).await;
    // Assert
    assert_eq!(see_other(&response), format!("/approvals/{id}"));
    assert_tokens_dead(&app, &tokens, "the refresh token was revoked").await;
    assert_eq!(app.status_json(&alice, &id).await["state"], "revoked");
}

#[tokio::test]
async fn the_cli_revokes_an_approval_and_its_tokens() {
    // Arrange
    let app = approval_app().await;
    let (_, pending, tokens) = app.approved_tokens().await;
    let id = pending.approval_id.clone();
    // Act
    let printed = app.cli_ok(&["approval", "revoke", &id]);
    // Assert
    assert!(
        printed.contains(&format!("revoked approval {id}")),
        "{printed}"
    );
    assert_tokens_dead(&app, &tokens, "the refresh token was revoked").await;
    let shown = app.cli_json(&["approval", "show", &id, "--json"]);
    assert_eq!(shown["state"], "revoked");
    let revoked = app.events("approval.revoked");
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].actor, "cli");
}

#[tokio::test]
async fn an_admin_may_revoke_any_approval() {
    // Arrange
    let app = approval_app().await;
    let (_, pending, tokens) = app.approved_tokens().await;
    let admin = app.signed_in(&app.admin).await;
    // Act
    let response = app.revoke(&admin, &pending.approval_id).await;
    // Assert
    assert_eq!(
        see_other(&response),
        format!("/approvals/{}", pending.approval_id)
    );
    assert_tokens_dead(&app, &tokens, "the refresh token was revoked").await;
}

#[tokio::test]
async fn someone_who_is_neither_approver_nor_admin_cannot_revoke() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending, tokens) = app.approved_tokens().await;
    let id = pending.approval_id.clone();
    let dave = app.signed_in(&app.dave).await;
    // Act
    let by_dave = app.revoke(&dave, &id).await;
    let by_requester = app.revoke(&alice, &id).await;
    // Assert
    refused(by_dave, StatusCode::NOT_FOUND).await;
    refused(by_requester, StatusCode::FORBIDDEN).await;
    assert_tokens_live(&app, &tokens).await;
    assert_eq!(app.status_json(&alice, &id).await["state"], "redeemed");
    assert!(app.events("approval.revoked").is_empty());
}

#[tokio::test]
async fn cleaning_up_stale_requests_keeps_approvals_and_their_limits() {
    // Arrange: an 8 h access window, far longer than the request's own lifetime.
    let app = approval_app().await;
    app.set_policy(ScopeChanges {
        access_duration: Some(8 * 3600),
        ..ScopeChanges::default()
    });
    let (_, _, tokens) = app.approved_tokens().await;
    let approval_id = jwt_payload(&tokens.access_token)["approval"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh_token = tokens.refresh_token.clone().expect("a refresh token");
    // Act: the sweep's clean-up runs long after every request expired.
    app.clock.advance(2 * 3600);
    let later = app.now();
    app.store
        .write(|c| countersign::store::delete_expired_requests(c, later + 86_400))
        .unwrap();
    let refreshed = tokens_of(app.refresh(&refresh_token).await).await;
    // Assert: the approval is still there, and tokens still carry and obey it.
    let kept = app
        .store
        .read(|c| {
            countersign::store::approval_by_id(
                c,
                &countersign::ids::ApprovalId::new(approval_id.as_str()),
            )
        })
        .unwrap();
    assert!(kept.is_some(), "the approval record survives");
    let access = jwt_payload(&refreshed.access_token);
    assert_eq!(access["approval"]["id"], approval_id.as_str());
    let refresh_info = app
        .introspect(refreshed.refresh_token.as_deref().unwrap())
        .await;
    let access_until = access["approval"]["access_until"].as_i64().unwrap();
    assert!(refresh_info["exp"].as_i64().unwrap() <= access_until);
}
