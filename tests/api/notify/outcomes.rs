//! Every way an approval ends updates the approvers' Slack message in place and reaches
//! the webhook: denied (with the reason), cancelled, expired and revoked; and the
//! requester hears of the outcomes that concern her.

use serde_json::Value;

use super::support::notified_app;

fn last_update(n: &super::support::Notified) -> Value {
    let updates: Vec<_> = n
        .slack
        .received()
        .into_iter()
        .filter(|r| r.path == "/chat.update")
        .collect();
    updates.last().map(|r| r.json()).unwrap_or_default()
}

async fn webhook_types(n: &super::support::Notified, count: usize) -> Vec<String> {
    n.hooks
        .wait_for(count)
        .await
        .iter()
        .map(|h| h.json()["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_denial_updates_the_message_with_its_reason_and_tells_the_requester() {
    // Arrange
    let n = notified_app(10).await;
    let (_alice, pending) = n.app.request_access(&n.app.alice).await;
    n.slack.wait_for(1).await;
    let (bob, _) = n.app.approvers().await;
    // Act
    n.app
        .vote(
            &bob,
            &pending.approval_id,
            "deny",
            Some("not during the freeze"),
        )
        .await;
    // Assert
    n.slack.wait_for(2).await;
    let shown = last_update(&n).to_string();
    assert!(
        shown.to_lowercase().contains("denied") && shown.contains("not during the freeze"),
        "{shown}"
    );
    assert_eq!(
        webhook_types(&n, 2).await,
        ["approval.requested", "approval.decided"]
    );
    let mails = n.mail.wait_for(2).await;
    assert!(
        mails[1].contains("To: alice@example.com") && mails[1].contains("not during the freeze")
    );
}

#[tokio::test]
async fn cancelling_updates_the_message_and_the_requester_is_not_mailed_about_it() {
    // Arrange
    let n = notified_app(10).await;
    let (alice, pending) = n.app.request_access(&n.app.alice).await;
    n.slack.wait_for(1).await;
    let csrf = n.app.csrf(&alice).await;
    // Act
    let path = format!("/approvals/{}/cancel", pending.approval_id);
    n.app
        .post(&alice, &path, &[("csrf_token", csrf.as_str())])
        .await;
    // Assert
    n.slack.wait_for(2).await;
    assert!(last_update(&n)
        .to_string()
        .to_lowercase()
        .contains("cancelled"));
    assert_eq!(
        webhook_types(&n, 2).await,
        ["approval.requested", "approval.cancelled"]
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        n.mail.wait_for(1).await.len(),
        1,
        "only the approvers' mail"
    );
}

#[tokio::test]
async fn expiry_and_revocation_update_the_message() {
    // Arrange: one request nobody decides, one approved then revoked.
    let n = notified_app(10).await;
    let (alice, expiring) = n.app.request_access(&n.app.alice).await;
    let revoked = n.app.request_again(&alice).await;
    n.slack.wait_for(2).await;
    let (bob, _) = n.app.approvers().await;
    n.app.approve(&bob, &revoked).await;
    n.slack.wait_for(3).await;
    // Act: the revocation, then the first request's time runs out (read expires it).
    n.app.revoke(&bob, &revoked).await;
    n.slack.wait_for(4).await;
    let revoked_shown = last_update(&n).to_string().to_lowercase();
    n.app.clock.advance(16 * 60);
    assert_eq!(
        n.app.status_json(&alice, &expiring.approval_id).await["state"],
        "expired"
    );
    // Assert
    n.slack.wait_for(5).await;
    assert!(revoked_shown.contains("revoked"), "{revoked_shown}");
    assert!(last_update(&n)
        .to_string()
        .to_lowercase()
        .contains("expired"));
    let types = webhook_types(&n, 5).await;
    assert!(types.contains(&"approval.revoked".to_owned()), "{types:?}");
    assert!(types.contains(&"approval.expired".to_owned()), "{types:?}");
}
