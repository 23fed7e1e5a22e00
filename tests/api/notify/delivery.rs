//! The outbox worker delivering to local receivers.

use countersign::audit::Actor;
use countersign::manage::{self, ScopeChanges};
use countersign::notify::webhook;
use countersign::store::{self, OutboxFilter};

use super::support::{notified_app, CHANNEL, WEBHOOK_SECRET};

fn text(value: &serde_json::Value) -> String {
    value.to_string()
}

#[tokio::test]
async fn a_new_request_reaches_every_channel_of_the_approver_group() {
    // Arrange
    let n = notified_app(10).await;
    // Act
    let (_alice, pending) = n.app.request_access(&n.app.alice).await;
    // Assert: Slack gets one post in the group's channel, with a link and no buttons
    // (the policy does not allow deciding in chat).
    let slack = n.slack.wait_for(1).await;
    assert_eq!(slack[0].path, "/chat.postMessage");
    assert_eq!(
        slack[0].header("authorization"),
        Some("Bearer xoxb-test-token")
    );
    let post = slack[0].json();
    assert_eq!(post["channel"], CHANNEL);
    let blocks = text(&post["blocks"]);
    assert!(blocks.contains("payments:write"), "{blocks}");
    assert!(
        blocks.contains(&format!("/approvals/{}", pending.approval_id)),
        "{blocks}"
    );
    assert!(
        !blocks.contains("countersign_approve"),
        "no Approve button: {blocks}"
    );
    // Teams: an Adaptive Card posted to the workflow URL, secret query included.
    let teams = n.teams.wait_for(1).await;
    assert_eq!(teams[0].path, "/workflows/run");
    let card = teams[0].json();
    assert_eq!(
        card["attachments"][0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert!(text(&card).contains("payments:write"));
    // The webhook: signed the Standard Webhooks way; the signature verifies.
    let hooks = n.hooks.wait_for(1).await;
    let hook = &hooks[0];
    let (id, ts, signature) = (
        hook.header("webhook-id").unwrap(),
        hook.header("webhook-timestamp").unwrap(),
        hook.header("webhook-signature").unwrap(),
    );
    let now = ts.parse::<i64>().unwrap();
    webhook::verify(WEBHOOK_SECRET, id, ts, signature, &hook.body, now).expect("valid signature");
    let event = hook.json();
    assert_eq!(event["type"], "approval.requested");
    assert_eq!(event["data"]["approval_id"], pending.approval_id.as_str());
    // Mail to the group's address, with the link.
    let mails = n.mail.wait_for(1).await;
    assert!(
        mails[0].contains("To: approvers@example.com"),
        "{}",
        mails[0]
    );
    assert!(
        mails[0].contains(&pending.approval_id),
        "the link is in the mail"
    );
    // Every row is delivered (recorded just after the receiver answered); none is dead.
    wait_until("every row delivered", || {
        let waiting = n
            .app
            .store
            .read(|c| store::list_outbox(c, OutboxFilter::Pending, 100));
        waiting.unwrap().is_empty().then_some(())
    })
    .await;
    let all = n
        .app
        .store
        .read(|c| store::list_outbox(c, OutboxFilter::All, 100))
        .unwrap();
    assert_eq!(all.len(), 4, "one row per channel: {all:?}");
    assert!(all
        .iter()
        .all(|r| r.delivered_at.is_some() && r.attempts == 1));
}

#[tokio::test]
async fn votes_and_the_outcome_update_the_slack_message_in_place_and_reach_the_requester() {
    // Arrange: two approvals needed.
    let n = notified_app(10).await;
    n.app.set_quorum(2);
    let (_alice, pending) = n.app.request_access(&n.app.alice).await;
    let first = n.slack.wait_for(1).await;
    n.mail.wait_for(1).await;
    let (bob, carol) = n.app.approvers().await;
    // Act: bob approves, then carol.
    n.app.approve(&bob, &pending.approval_id).await;
    let after_bob = n.slack.wait_for(2).await;
    n.app.approve(&carol, &pending.approval_id).await;
    let after_carol = n.slack.wait_for(3).await;
    // Assert: the same message, updated (chat.update with the first post's ts).
    let ts = "1700000000.000001";
    assert_eq!(first[0].path, "/chat.postMessage");
    for update in [&after_bob[1], &after_carol[2]] {
        assert_eq!(update.path, "/chat.update");
        assert_eq!(update.json()["ts"], ts);
        assert_eq!(
            update.json()["channel"],
            "C0SLACKCH",
            "the channel Slack answered"
        );
    }
    assert!(
        text(&after_bob[1].json()).contains("1 of 2"),
        "{}",
        text(&after_bob[1].json())
    );
    assert!(text(&after_carol[2].json())
        .to_lowercase()
        .contains("approved"));
    // The requester is told by mail (alice has no linked Slack account).
    let mails = n.mail.wait_for(2).await;
    assert!(mails[1].contains("To: alice@example.com"), "{}", mails[1]);
    assert!(mails[1].to_lowercase().contains("approved"));
    // The outcome also reached Teams (a new card) and the webhook (approval.decided).
    let hooks = n.hooks.wait_for(3).await;
    let types: Vec<String> = hooks.iter().map(|h| h.json()["type"].to_string()).collect();
    assert_eq!(
        types,
        [
            "\"approval.requested\"",
            "\"approval.voted\"",
            "\"approval.decided\""
        ]
    );
    assert_eq!(hooks[2].json()["data"]["outcome"], "approved");
    assert_eq!(n.teams.wait_for(2).await.len(), 2);
}

#[tokio::test]
async fn a_failing_receiver_is_retried_on_schedule_with_the_same_idempotency_key() {
    // Arrange: the webhook consumer fails once.
    let n = notified_app(10).await;
    n.hooks.answer_next(503, serde_json::json!({}), &[]);
    // Act
    n.app.request_access(&n.app.alice).await;
    let first = n.hooks.wait_for(1).await;
    let row = wait_for_attempts(&n.app.store, 1).await;
    // Assert: the next attempt is due about 5 s later (±10 %).
    let wait = row.next_attempt_at - n.app.now();
    assert!((4..=6).contains(&wait), "retry in {wait}s");
    assert!(
        row.last_error.as_deref().unwrap_or("").contains("503"),
        "{row:?}"
    );
    // Act: time passes; the worker tries again and the consumer accepts.
    n.app.clock.advance(wait);
    let both = n.hooks.wait_for(2).await;
    // Assert: the same webhook-id both times (consumers drop repeats by it).
    assert_eq!(first[0].header("webhook-id"), both[1].header("webhook-id"));
    wait_for_delivery(&n.app.store, &row.id).await;
}

#[tokio::test]
async fn a_notification_out_of_attempts_is_dead_lettered_and_can_be_retried() {
    // Arrange: two attempts at most; the consumer fails both.
    let n = notified_app(2).await;
    n.hooks.answer_next(500, serde_json::json!({}), &[]);
    n.hooks.answer_next(500, serde_json::json!({}), &[]);
    n.app.request_access(&n.app.alice).await;
    let row = wait_for_attempts(&n.app.store, 1).await;
    n.app.clock.advance(row.next_attempt_at - n.app.now());
    // Act
    let dead = wait_for_dead(&n.app.store).await;
    // Assert
    assert_eq!(dead.id, row.id);
    assert_eq!(dead.attempts, 2);
    // Act: an administrator retries it; the consumer now accepts.
    manage::retry_outbox(&n.app.store, &dead.id, &Actor::System, n.app.now()).unwrap();
    // Assert
    n.hooks.wait_for(3).await;
    wait_for_delivery(&n.app.store, &dead.id).await;
}

#[tokio::test]
async fn a_slack_error_no_retry_can_fix_is_dead_lettered_at_once() {
    // Arrange
    let n = notified_app(10).await;
    n.slack.answer_next(
        200,
        serde_json::json!({"ok": false, "error": "channel_not_found"}),
        &[],
    );
    // Act
    n.app.request_access(&n.app.alice).await;
    // Assert
    let dead = wait_for_dead(&n.app.store).await;
    assert!(dead.target.starts_with("slack:"));
    assert_eq!(dead.attempts, 1);
    assert_eq!(
        dead.last_error.as_deref(),
        Some("Slack chat.postMessage: channel_not_found")
    );
}

#[tokio::test]
async fn undelivered_notifications_survive_a_restart_and_are_sent_once() {
    // Arrange: the consumer fails; the server restarts before the retry is due.
    let mut n = notified_app(10).await;
    n.hooks.answer_next(500, serde_json::json!({}), &[]);
    n.app.request_access(&n.app.alice).await;
    let row = wait_for_attempts(&n.app.store, 1).await;
    // Act
    n.app.restart().await;
    n.app.clock.advance(row.next_attempt_at - n.app.now() + 1);
    // Assert: the new server delivers it, once, with the same id.
    wait_for_delivery(&n.app.store, &row.id).await;
    let hooks = n.hooks.received();
    assert_eq!(hooks.len(), 2, "one failure, one delivery: {hooks:?}");
    assert_eq!(hooks[0].header("webhook-id"), hooks[1].header("webhook-id"));
}

#[tokio::test]
async fn chat_messages_carry_buttons_only_when_the_policy_lets_chat_decide() {
    // Arrange
    let n = notified_app(10).await;
    n.app.set_policy(ScopeChanges {
        allow_chat_decisions: Some(true),
        ..ScopeChanges::default()
    });
    // Act
    n.app.request_access(&n.app.alice).await;
    // Assert
    let blocks = text(&n.slack.wait_for(1).await[0].json()["blocks"]);
    assert!(blocks.contains("countersign_approve"), "{blocks}");
    assert!(blocks.contains("countersign_deny"), "{blocks}");
}

/// Polls `probe` every 20 ms for at most 10 s.
async fn wait_until<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The webhook row once it has `attempts` failed attempts.
async fn wait_for_attempts(store: &store::Store, attempts: i32) -> store::OutboxRow {
    wait_until("a failed attempt", || {
        let rows = store
            .read(|c| store::list_outbox(c, OutboxFilter::All, 100))
            .unwrap();
        rows.into_iter().find(|r| {
            r.target.starts_with("webhook:")
                && r.attempts == attempts
                && r.delivered_at.is_none()
                && r.locked_until.is_none()
        })
    })
    .await
}

async fn wait_for_dead(store: &store::Store) -> store::OutboxRow {
    wait_until("a dead letter", || {
        store
            .read(|c| store::list_outbox(c, OutboxFilter::Dead, 100))
            .unwrap()
            .into_iter()
            .next()
    })
    .await
}

async fn wait_for_delivery(store: &store::Store, id: &str) {
    wait_until("the delivery", || {
        store
            .read(|c| store::outbox_row(c, id))
            .unwrap()
            .filter(|r| r.delivered_at.is_some())
    })
    .await;
}

#[tokio::test]
async fn reminders_due_together_go_out_as_one_digest_and_skip_decided_requests() {
    // Arrange: reminders 5 min before expiry (requests wait 15 min); three requests.
    let n = super::support::notified_app_with(10, "5m").await;
    let (alice, first) = n.app.request_access(&n.app.alice).await;
    let first = first.approval_id;
    let second = n.app.request_again(&alice).await;
    let decided = n.app.request_again(&alice).await;
    let (bob, _) = n.app.approvers().await;
    n.app.approve(&bob, &decided).await;
    let before = n.slack.wait_for(3 + 1).await.len();
    let mails_before = n.mail.wait_for(4).await.len();
    // Act: ten minutes pass.
    n.app.clock.advance(600);
    // Assert: one new Slack message and one mail listing the two that still wait.
    let slack = n.slack.wait_for(before + 1).await;
    let digest = slack[before].json();
    assert_eq!(slack[before].path, "/chat.postMessage");
    let shown = text(&digest);
    assert!(shown.contains("2 requests still wait"), "{shown}");
    assert!(shown.contains(&first) && shown.contains(&second));
    assert!(
        !shown.contains(&decided),
        "a decided request is not reminded"
    );
    let mails = n.mail.wait_for(mails_before + 1).await;
    assert!(
        mails[mails_before].contains("2 requests still wait"),
        "{}",
        mails[mails_before]
    );
    // Every reminder row is settled: none waits.
    wait_until("reminders settled", || {
        let rows = n
            .app
            .store
            .read(|c| store::list_outbox(c, OutboxFilter::Pending, 100));
        rows.unwrap().is_empty().then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        n.slack.received().len(),
        before + 1,
        "one digest, not one per request"
    );
}

#[tokio::test]
async fn slack_dms_reach_each_linked_member_and_never_the_requester() {
    // Arrange: approvers are told by DM; bob, carol and alice are linked.
    let n = notified_app(10).await;
    let now = n.app.now();
    for (user, slack) in [("bob", "U0BOB"), ("carol", "U0CAROL"), ("alice", "U0ALICE")] {
        manage::link_chat(&n.app.store, user, Some(slack), None, &Actor::System, now).unwrap();
    }
    n.app.add_member("approvers", &n.app.alice);
    let changes = manage::NotifyChanges {
        clear: true,
        slack_dm: true,
        ..manage::NotifyChanges::default()
    };
    manage::set_group_notify(&n.app.store, "approvers", changes, &Actor::System, now).unwrap();
    // Act
    n.app.request_access(&n.app.alice).await;
    // Assert
    let posts = n.slack.wait_for(2).await;
    let mut channels: Vec<String> = posts
        .iter()
        .map(|p| p.json()["channel"].to_string())
        .collect();
    channels.sort();
    assert_eq!(channels, ["\"U0BOB\"", "\"U0CAROL\""]);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(n.slack.received().len(), 2, "no DM to the requester");
}

#[tokio::test]
async fn a_busy_destination_holds_updates_back_but_never_a_new_request() {
    // Arrange: one message per minute per destination; two approvals needed.
    let n = super::support::notified_app_tuned(|raw| raw.rate_per_minute = Some(1)).await;
    n.app.set_quorum(2);
    let (alice, pending) = n.app.request_access(&n.app.alice).await;
    n.slack.wait_for(1).await;
    let (bob, _) = n.app.approvers().await;
    // Act: bob's vote would update the message within the same minute.
    n.app.approve(&bob, &pending.approval_id).await;
    // Assert: held back, not lost; a second request is posted at once all the same.
    let second = n.app.request_again(&alice).await;
    let posts = n.slack.wait_for(2).await;
    assert_eq!(posts[1].path, "/chat.postMessage");
    assert!(text(&posts[1].json()).contains(&second));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(n.slack.received().len(), 2, "the update waits");
    // Act: a minute later.
    n.app.clock.advance(61);
    // Assert
    let all = n.slack.wait_for(3).await;
    assert_eq!(all[2].path, "/chat.update");
    assert!(text(&all[2].json()).contains("1 of 2"));
}
