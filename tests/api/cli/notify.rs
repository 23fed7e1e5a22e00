//! `group set-notify`, `user link-slack|link-teams|unlink-chat` and `outbox list|retry`:
//! what each prints and stores. Webhook URLs are never shown with their query (where
//! Teams puts its secret), neither when set nor when listed.

use countersign::store::{self, OutboxRow};

use super::{seed_group, seed_user, Cli};

#[test]
fn a_groups_channels_are_set_shown_redacted_and_cleared() {
    // Arrange
    let cli = Cli::new();
    seed_group(&cli.store(), "approvers", &[]);
    // Act
    let set = cli.ok(&[
        "group",
        "set-notify",
        "approvers",
        "--slack-channel",
        "C0123456789",
        "--teams-webhook",
        "https://x.logic.azure.com/workflows/1/invoke?sig=SECRET",
        "--email",
        "approvers@example.com",
    ]);
    let cleared = cli.ok(&["group", "set-notify", "approvers", "--clear"]);
    // Assert
    assert_eq!(
        set,
        "approvers\temail:approvers@example.com\napprovers\tslack:C0123456789\n\
         approvers\tteams:https://x.logic.azure.com/workflows/1/invoke?…\n"
    );
    assert!(!set.contains("SECRET"));
    assert_eq!(cleared, "approvers is notified nowhere\n");
    let audit = cli.ok(&["audit", "export"]);
    assert!(audit.contains("group.notify_changed"));
    assert!(
        !audit.contains("SECRET"),
        "the audit trail holds the redacted URL only"
    );
}

#[test]
fn chat_accounts_are_linked_and_unlinked() {
    // Arrange
    let cli = Cli::new();
    seed_user(&cli.store(), "bob");
    seed_user(&cli.store(), "carol");
    // Act
    let slack = cli.ok(&["user", "link-slack", "bob", "U0123456789"]);
    let teams = cli.ok(&[
        "user",
        "link-teams",
        "bob",
        "6F2C4E3A-0B1D-4C5E-9A8B-7C6D5E4F3A2B",
    ]);
    let taken = cli.run(&["user", "link-slack", "carol", "U0123456789"]);
    // Assert
    assert_eq!(slack, "linked bob to Slack user U0123456789\n");
    assert_eq!(
        teams,
        "linked bob to Teams user 6F2C4E3A-0B1D-4C5E-9A8B-7C6D5E4F3A2B\n"
    );
    assert!(!taken.success());
    assert!(
        taken.stderr.contains("already linked to another user"),
        "{}",
        taken.stderr
    );
    let bob = cli
        .store()
        .read(|c| store::user_by_teams_id(c, "6f2c4e3a-0b1d-4c5e-9a8b-7c6d5e4f3a2b"))
        .unwrap()
        .unwrap();
    assert_eq!(bob.slack_user_id.as_deref(), Some("U0123456789"));
    // Act
    let unlinked = cli.ok(&["user", "unlink-chat", "bob"]);
    // Assert
    assert_eq!(unlinked, "unlinked bob from Slack and Teams\n");
    let bob = cli
        .store()
        .read(|c| store::user_by_username(c, "bob"))
        .unwrap()
        .unwrap();
    assert_eq!((bob.slack_user_id, bob.teams_user_id), (None, None));
}

#[test]
fn dead_notifications_are_listed_and_retried() {
    // Arrange: one dead webhook notification.
    let cli = Cli::new();
    let dead = OutboxRow {
        id: "n1".into(),
        kind: "requested".into(),
        target: "webhook:https://hooks.example.com/in?token=SECRET".into(),
        payload: "{}".into(),
        attempts: 10,
        next_attempt_at: 0,
        delivered_at: None,
        last_error: Some("the receiver answered 500 Internal Server Error".into()),
        created_at: 0,
        approval_id: None,
        locked_until: None,
        dead_at: Some(100),
    };
    cli.store()
        .write(|c| store::insert_outbox(c, &dead))
        .unwrap();
    // Act
    let pending = cli.json(&["outbox", "list", "--json"]);
    let listed = cli.json(&["outbox", "list", "--state", "dead", "--json"]);
    let retried = cli.ok(&["outbox", "retry", "n1"]);
    let after = cli.json(&["outbox", "list", "--json"]);
    // Assert
    assert_eq!(pending, serde_json::json!([]));
    assert_eq!(listed[0]["id"], "n1");
    assert_eq!(listed[0]["state"], "dead");
    assert_eq!(
        listed[0]["target"],
        "webhook:https://hooks.example.com/in?…"
    );
    assert_eq!(retried, "notification n1 will be sent again now\n");
    assert_eq!(after[0]["state"], "pending");
    assert_eq!(after[0]["attempts"], 0);
}
