//! The Teams bot's card posted into a conversation (Bot Connector), with the bot's
//! client-credentials token, and updated in place as votes come in.

use countersign::audit::Actor;
use countersign::manage::{self, NotifyChanges, ScopeChanges};
use serde_json::json;

use super::support::notified_app_tuned;
use crate::helpers::HttpReceiver;

const CONVERSATION: &str = "19:approvers@thread.tacv2";

#[tokio::test]
async fn the_bots_card_is_posted_with_decision_buttons_and_updated_in_place() {
    // Arrange: Entra's token endpoint and the Bot Connector, both local.
    let connector = HttpReceiver::start();
    let token_url = format!("{}/oauth2/v2.0/token", connector.url);
    connector.answer_path(
        "/oauth2/v2.0/token",
        200,
        json!({"access_token": "bot-token", "expires_in": 3600}),
    );
    let activities = format!("/v3/conversations/{CONVERSATION}/activities");
    connector.answer_path(&activities, 201, json!({"id": "activity-1"}));
    let n = notified_app_tuned(|raw| {
        raw.teams_app_id = Some("bot-app-id".into());
        raw.teams_app_password = Some("bot-secret".into());
        raw.teams_token_url = Some(token_url.clone());
    })
    .await;
    n.app.set_policy(ScopeChanges {
        allow_chat_decisions: Some(true),
        quorum: Some(2),
        ..ScopeChanges::default()
    });
    let changes = NotifyChanges {
        clear: true,
        teams_conversation: Some((connector.url.clone(), CONVERSATION.into())),
        ..NotifyChanges::default()
    };
    manage::set_group_notify(
        &n.app.store,
        "approvers",
        changes,
        &Actor::System,
        n.app.now(),
    )
    .unwrap();
    // Act
    let (_alice, pending) = n.app.request_access(&n.app.alice).await;
    let (bob, _) = n.app.approvers().await;
    let posted = connector.wait_for(2).await;
    n.app.approve(&bob, &pending.approval_id).await;
    let updated = connector.wait_for(3).await;
    // Assert: a token from client credentials, then the card with Approve/Deny.
    assert_eq!(posted[0].path, "/oauth2/v2.0/token");
    let form = String::from_utf8(posted[0].body.clone()).unwrap();
    assert!(
        form.contains("grant_type=client_credentials") && form.contains("client_id=bot-app-id")
    );
    assert_eq!(posted[1].path, activities);
    assert_eq!(posted[1].header("authorization"), Some("Bearer bot-token"));
    let card = &posted[1].json()["attachments"][0]["content"];
    assert_eq!(card["version"], "1.5");
    assert!(card.to_string().contains("countersign.approve"), "{card}");
    // The vote replaces the same activity (the token is reused).
    assert_eq!(updated[2].path, format!("{activities}/activity-1"));
    assert!(updated[2].json().to_string().contains("1 of 2"));
    assert_eq!(connector.count("/oauth2/v2.0/token"), 1);
}
