//! The Teams bot endpoint (`POST /integrations/teams/messages`): Bot Framework tokens
//! checked against the keys a local receiver serves, and approvers' clicks voting
//! through the same rules as the approval page.

use countersign::approval::ApprovalState;
use countersign::audit::Actor;
use countersign::config::RawNotify;
use countersign::manage;
use serde_json::json;

use super::teams_support::{
    bot_app, click, jwk, refusal, serve_keys, signing_keys, ALICE, APPROVE, BOB, CAROL, DAVE, DENY,
    SERVICE_URL, STRANGER,
};
use crate::helpers::TestApp;

#[tokio::test]
async fn a_linked_approver_approving_in_teams_approves_the_request_and_gets_the_updated_card() {
    // Arrange
    let bot = bot_app(true).await;
    let (_alice, pending) = bot.app.request_access(&bot.app.alice).await;
    // Act
    let answer = bot
        .click(&click(BOB, APPROVE, &pending.approval_id, None))
        .await;
    // Assert: the card that replaces the clicked one shows the request approved, with
    // bob's vote and no buttons left.
    assert_eq!(answer["statusCode"], 200);
    assert_eq!(answer["type"], "application/vnd.microsoft.card.adaptive");
    let card = answer["value"].to_string();
    assert_eq!(answer["value"]["version"], "1.5");
    assert!(card.contains("✅ Approved"), "{card}");
    assert!(card.contains(&pending.approval_id), "{card}");
    assert!(!card.contains("Action.Execute"), "{card}");
    assert_eq!(bot.state(&pending.approval_id), ApprovalState::Approved);
    // The vote is bob's, recorded as cast in Teams.
    let votes = bot.app.events("approval.vote");
    assert_eq!(votes.len(), 1);
    assert!(votes[0].actor.contains(&bot.app.bob.id), "{:?}", votes[0]);
    assert!(
        votes[0].details.contains(r#""via":"teams""#),
        "{:?}",
        votes[0]
    );
}

#[tokio::test]
async fn a_vote_short_of_the_quorum_answers_the_card_still_pending() {
    // Arrange: two approvals needed.
    let bot = bot_app(true).await;
    bot.app.set_quorum(2);
    let (_alice, pending) = bot.app.request_access(&bot.app.alice).await;
    // Act
    let first = bot
        .click(&click(BOB, APPROVE, &pending.approval_id, None))
        .await;
    let second = bot
        .click(&click(CAROL, APPROVE, &pending.approval_id, None))
        .await;
    // Assert
    assert!(first["value"].to_string().contains("1 of 2"), "{first}");
    assert!(
        second["value"].to_string().contains("✅ Approved"),
        "{second}"
    );
    assert_eq!(bot.state(&pending.approval_id), ApprovalState::Approved);
}

#[tokio::test]
async fn tokens_that_do_not_prove_the_bot_framework_sent_this_activity_are_refused() {
    // Arrange
    let bot = bot_app(true).await;
    let (_alice, pending) = bot.app.request_access(&bot.app.alice).await;
    let activity = click(BOB, APPROVE, &pending.approval_id, None);
    let with = |change: serde_json::Value| {
        let mut claims = bot.claims();
        for (name, value) in change.as_object().unwrap() {
            claims[name] = value.clone();
        }
        claims
    };
    let now = bot.app.now();
    let (ours, other) = (&signing_keys()[0], &signing_keys()[1]);
    let cases = [
        (
            "wrong audience",
            bot.sign(ours, "k1", &with(json!({"aud": "another-bot"}))),
        ),
        (
            "wrong issuer",
            bot.sign(ours, "k1", &with(json!({"iss": "https://evil.example"}))),
        ),
        ("another key", bot.sign(other, "k1", &bot.claims())),
        (
            "expired",
            bot.sign(
                ours,
                "k1",
                &with(json!({"nbf": now - 7200, "exp": now - 3600})),
            ),
        ),
        (
            "not endorsed for msteams",
            bot.sign(ours, "skype-only", &bot.claims()),
        ),
        (
            "serviceurl mismatch",
            bot.sign(
                ours,
                "k1",
                &with(json!({"serviceurl": "https://evil.example/"})),
            ),
        ),
        (
            "no serviceurl",
            bot.sign(ours, "k1", &with(json!({"serviceurl": null}))),
        ),
    ];
    for (case, token) in cases {
        // Act
        let response = bot.post(Some(&format!("Bearer {token}")), &activity).await;
        // Assert
        assert_eq!(response.status(), 401, "{case}");
        assert!(
            response.headers().contains_key("www-authenticate"),
            "{case}"
        );
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap(),
            json!({"error": "unauthorized"}),
            "{case}"
        );
    }
    for authorization in [None, Some("Basic Ym9iOnNlY3JldA=="), Some("Bearer ")] {
        let response = bot.post(authorization, &activity).await;
        assert_eq!(response.status(), 401, "{authorization:?}");
    }
    // The activity's serviceUrl is what the token is checked against.
    let mut moved = activity.clone();
    moved["serviceUrl"] = json!("https://evil.example/");
    let response = bot
        .post(Some(&format!("Bearer {}", bot.token())), &moved)
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(bot.state(&pending.approval_id), ApprovalState::Pending);
    assert!(bot.app.events("approval.vote").is_empty());
}

#[tokio::test]
async fn who_may_not_decide_is_told_why_and_nothing_changes() {
    // Arrange: carol is an approver whose account is disabled.
    let bot = bot_app(true).await;
    let (_alice, pending) = bot.app.request_access(&bot.app.alice).await;
    manage::disable_user(&bot.app.store, "carol", &Actor::System, bot.app.now()).unwrap();
    let id = pending.approval_id.as_str();
    let unlinked = "Your Teams account is not linked to countersign; ask an administrator (countersign user link-teams).";
    let not_an_approver = "You are not in a group that approves this request.";
    let cases = [
        (
            "unlinked",
            click(STRANGER, APPROVE, id, None),
            403,
            unlinked,
        ),
        ("disabled", click(CAROL, APPROVE, id, None), 403, unlinked),
        (
            "requester",
            click(ALICE, APPROVE, id, None),
            403,
            "Nobody may decide their own request.",
        ),
        (
            "not an approver",
            click(DAVE, APPROVE, id, None),
            403,
            not_an_approver,
        ),
        // An unknown approval looks exactly like one the clicker may not decide.
        (
            "unknown approval",
            click(BOB, APPROVE, "apv_doesnotexist", None),
            403,
            not_an_approver,
        ),
    ];
    for (case, activity, status, message) in cases {
        // Act
        let answer = bot.click(&activity).await;
        // Assert
        assert_eq!(refusal(&answer), (status, message.to_owned()), "{case}");
    }
    let mut no_aad = click(BOB, APPROVE, id, None);
    no_aad["from"] = json!({"id": "29:1guest"});
    assert_eq!(
        refusal(&bot.click(&no_aad).await),
        (403, unlinked.to_owned())
    );
    assert_eq!(bot.state(id), ApprovalState::Pending);
    assert!(bot.app.events("approval.vote").is_empty());
}

#[tokio::test]
async fn a_request_whose_policy_keeps_decisions_on_the_page_cannot_be_decided_in_teams() {
    // Arrange: the policy does not allow chat decisions (its step-up stays).
    let bot = bot_app(false).await;
    let (_alice, pending) = bot.app.request_access(&bot.app.alice).await;
    // Act
    let approve = bot
        .click(&click(BOB, APPROVE, &pending.approval_id, None))
        .await;
    let deny = bot
        .click(&click(BOB, DENY, &pending.approval_id, Some("no")))
        .await;
    // Assert
    for answer in [approve, deny] {
        let (status, message) = refusal(&answer);
        assert_eq!(status, 403);
        assert!(message.contains("approval page"), "{message}");
    }
    assert_eq!(bot.state(&pending.approval_id), ApprovalState::Pending);
}

#[tokio::test]
async fn a_deny_needs_a_reason_and_with_one_denies_the_request() {
    // Arrange
    let bot = bot_app(true).await;
    let (_alice, pending) = bot.app.request_access(&bot.app.alice).await;
    let id = pending.approval_id.as_str();
    // Act
    let bare = bot.click(&click(BOB, DENY, id, None)).await;
    let blank = bot.click(&click(BOB, DENY, id, Some("   "))).await;
    // Assert
    for answer in [bare, blank] {
        assert_eq!(
            refusal(&answer),
            (400, "Say why you deny the request.".into())
        );
    }
    assert_eq!(bot.state(id), ApprovalState::Pending);
    // Act
    let denied = bot
        .click(&click(BOB, DENY, id, Some("Not during the freeze")))
        .await;
    // Assert: the card says denied and quotes the reason; a second click is refused.
    let card = denied["value"].to_string();
    assert!(
        card.contains("❌ Denied") && card.contains("Not during the freeze"),
        "{card}"
    );
    assert_eq!(bot.state(id), ApprovalState::Denied);
    let again = bot.click(&click(CAROL, APPROVE, id, None)).await;
    assert_eq!(
        refusal(&again),
        (409, "The request is already denied.".into())
    );
}

#[tokio::test]
async fn other_activities_are_acknowledged_and_bad_bodies_refused() {
    // Arrange
    let bot = bot_app(true).await;
    let token = format!("Bearer {}", bot.token());
    let message = json!({"type": "message", "text": "hi", "channelId": "msteams",
        "serviceUrl": SERVICE_URL, "from": {"id": "29:1x"}});
    // Act + Assert: a message is acknowledged with an empty 200.
    let response = bot.post(Some(&token), &message).await;
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.unwrap().is_empty());
    // A verb the card never carries is an invoke error; a body that is no activity, 400.
    let steal = bot
        .click(&click(BOB, "countersign.steal", "apv_1", None))
        .await;
    assert_eq!(refusal(&steal).0, 400);
    let response = bot.post(Some(&token), &json!({"hello": "world"})).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn without_a_teams_app_id_the_bot_endpoint_does_not_exist() {
    // Arrange
    let app = TestApp::builder()
        .notify(RawNotify {
            reminder_before: Some("off".into()),
            ..RawNotify::default()
        })
        .spawn()
        .await;
    // Act
    let response = app
        .http
        .post(app.url("/integrations/teams/messages"))
        .header("authorization", "Bearer x.y.z")
        .json(&click(BOB, APPROVE, "apv_1", None))
        .send()
        .await
        .unwrap();
    // Assert
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn keys_that_cannot_be_fetched_answer_503_and_decide_nothing() {
    // Arrange: the metadata endpoint fails.
    let bot = bot_app(true).await;
    bot.keys
        .answer_path("/metadata", 500, json!({"error": "down"}));
    let (_alice, pending) = bot.app.request_access(&bot.app.alice).await;
    let activity = click(BOB, APPROVE, &pending.approval_id, None);
    // Act
    let response = bot
        .post(Some(&format!("Bearer {}", bot.token())), &activity)
        .await;
    // Assert
    assert_eq!(response.status(), 503);
    assert_eq!(bot.state(&pending.approval_id), ApprovalState::Pending);
    // Once the metadata is back (and a minute has passed), the same click works.
    let metadata = json!({"jwks_uri": format!("{}/keys", bot.keys.url)});
    bot.keys.answer_path("/metadata", 200, metadata);
    bot.app.clock.advance(61);
    let answer = bot.click(&activity).await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(bot.state(&pending.approval_id), ApprovalState::Approved);
}

#[tokio::test]
async fn keys_are_cached_a_day_and_an_unknown_kid_refetches_them_at_most_hourly() {
    // Arrange: one click fetches the keys.
    let bot = bot_app(true).await;
    let (_alice, pending) = bot.app.request_access(&bot.app.alice).await;
    let activity = click(STRANGER, APPROVE, &pending.approval_id, None);
    bot.click(&activity).await;
    bot.click(&activity).await;
    assert_eq!(
        (bot.keys.count("/metadata"), bot.keys.count("/keys")),
        (1, 1)
    );
    // The Bot Framework rolls over to k2.
    serve_keys(&bot.keys, &[jwk(&signing_keys()[1], "k2", &["msteams"])]);
    let rolled = || bot.sign(&signing_keys()[1], "k2", &bot.claims());
    // Act + Assert: within the hour of the last fetch, an unknown kid refetches nothing.
    let response = bot
        .post(Some(&format!("Bearer {}", rolled())), &activity)
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(bot.keys.count("/keys"), 1);
    // An hour later it refetches once, and the new key verifies.
    bot.app.clock.advance(3600);
    let response = bot
        .post(Some(&format!("Bearer {}", rolled())), &activity)
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(bot.keys.count("/keys"), 2);
    // The old key is gone now; the keys are refetched after a day even without a miss.
    let response = bot
        .post(Some(&format!("Bearer {}", bot.token())), &activity)
        .await;
    assert_eq!(response.status(), 401);
    bot.app.clock.advance(24 * 3600);
    let response = bot
        .post(Some(&format!("Bearer {}", rolled())), &activity)
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(bot.keys.count("/keys"), 3);
}
