//! Where approver groups are told of requests, and whose chat accounts are whose, set
//! from the console (issue 19 with DESIGN.md §5.4): the forms go through the CLI's own
//! calls (checked, audited), listings redact webhook secrets, the scopes page says
//! where a sensitive scope's approvers are notified, and a refused form changes
//! nothing.

use countersign::manage;
use reqwest::StatusCode;

use crate::approval::support::{approval_app, ApprovalSeed, TestApp};
use crate::helpers::{hidden_input, unescape};

async fn set_channels(
    app: &TestApp<ApprovalSeed>,
    admin: &reqwest::Client,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let page = app.get(admin, "/admin/users").await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    let response = app
        .post(admin, "/admin/groups/approvers/notify", &form)
        .await;
    let status = response.status();
    (status, unescape(&response.text().await.unwrap()))
}

fn channels(app: &TestApp<ApprovalSeed>) -> Vec<String> {
    manage::group_channels(&app.store, Some("approvers"))
        .unwrap()
        .into_iter()
        .map(|(_, target)| target.stored())
        .collect()
}

#[tokio::test]
async fn an_admin_sets_where_a_group_is_notified_and_the_scopes_page_says_so() {
    // Arrange
    let app = approval_app().await;
    let admin = app.signed_in(&app.admin).await;
    // Act
    let (status, page) = set_channels(
        &app,
        &admin,
        &[
            ("slack_channel", "C0123456789"),
            ("webhook", "https://hooks.example/countersign?token=SECRET"),
            ("email", "approvers@example.com"),
        ],
    )
    .await;
    let scopes = unescape(&app.get(&admin, "/admin/scopes").await.text().await.unwrap());
    // Assert
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("notified on 3 channel(s)"), "{page}");
    assert!(page.contains("slack:C0123456789"), "{page}");
    assert!(
        page.contains("webhook:https://hooks.example/countersign?…"),
        "{page}"
    );
    assert!(!page.contains("SECRET"), "webhook secrets are never shown");
    assert_eq!(channels(&app).len(), 3);
    assert!(
        scopes.contains("Approvers notified on approvers: email:approvers@example.com, slack:C0123456789, webhook:https://hooks.example/countersign?…"),
        "{scopes}"
    );
    let audited = app.events("group.notify_changed");
    assert_eq!(audited.len(), 1);
    assert!(audited[0].actor.contains(&app.admin.id), "as the admin");
    assert!(!audited[0].details.contains("SECRET"));
}

#[tokio::test]
async fn a_refused_form_changes_nothing_and_an_empty_one_clears_the_channels() {
    // Arrange: the group is notified on Slack.
    let app = approval_app().await;
    let admin = app.signed_in(&app.admin).await;
    set_channels(&app, &admin, &[("slack_channel", "C0123456789")]).await;
    // Act
    let (bad_slack, said) = set_channels(&app, &admin, &[("slack_channel", "general")]).await;
    let (half_teams, _) = set_channels(
        &app,
        &admin,
        &[("teams_service_url", "https://smba.trafficmanager.net/emea/")],
    )
    .await;
    let kept = channels(&app);
    let (cleared, _) = set_channels(&app, &admin, &[]).await;
    let after_clearing = channels(&app);
    // Act: a webhook, then a form without it keeps it (it is never shown back), until
    // the form says to remove it.
    let hook = "https://hooks.example/in?token=SECRET";
    set_channels(&app, &admin, &[("webhook", hook)]).await;
    let (_, form) = set_channels(&app, &admin, &[("email", "ops@example.com")]).await;
    let with_email = channels(&app);
    set_channels(
        &app,
        &admin,
        &[("email", "ops@example.com"), ("remove_webhook", "yes")],
    )
    .await;
    // Assert
    assert_eq!(bad_slack, StatusCode::BAD_REQUEST);
    assert!(said.contains("is not a Slack channel id"), "{said}");
    assert_eq!(half_teams, StatusCode::BAD_REQUEST);
    assert_eq!(kept, ["slack:C0123456789"]);
    assert_eq!(cleared, StatusCode::OK);
    assert!(after_clearing.is_empty());
    let mut expected = vec![
        "email:ops@example.com".to_owned(),
        format!("webhook:{hook}"),
    ];
    expected.sort();
    let mut with_email = with_email;
    with_email.sort();
    assert_eq!(with_email, expected);
    assert!(
        form.contains("value=\"ops@example.com\""),
        "the form shows what is set"
    );
    assert!(!form.contains("SECRET"));
    assert_eq!(channels(&app), ["email:ops@example.com"]);
}

#[tokio::test]
async fn an_admin_links_and_unlinks_a_users_chat_accounts() {
    // Arrange
    let app = approval_app().await;
    let admin = app.signed_in(&app.admin).await;
    let page = app.get(&admin, "/admin/users").await.text().await.unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    let link = |slack: &'static str, teams: &'static str| {
        let (app, admin, csrf) = (&app, admin.clone(), csrf.clone());
        async move {
            let form = [
                ("csrf_token", csrf.as_str()),
                ("slack_user_id", slack),
                ("teams_user_id", teams),
            ];
            app.post(&admin, "/admin/users/bob/chat", &form).await
        }
    };
    let bob_ids = || {
        let user = manage::list_users(&app.store)
            .unwrap()
            .into_iter()
            .find(|u| u.username == "bob")
            .unwrap();
        (user.slack_user_id, user.teams_user_id)
    };
    // Act
    let linked = link("U0123456789", "8D3C1A52-0000-4000-8000-00000000ABCD").await;
    let after_link = bob_ids();
    let refused = link("bob", "").await;
    let after_refusal = bob_ids();
    let unlinked = link("", "").await;
    // Assert
    assert_eq!(linked.status(), StatusCode::OK);
    assert_eq!(
        after_link,
        (
            Some("U0123456789".into()),
            Some("8d3c1a52-0000-4000-8000-00000000abcd".into())
        )
    );
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(unescape(&refused.text().await.unwrap()).contains("is not a Slack user id"));
    assert_eq!(after_refusal, after_link, "a refused form changes nothing");
    assert_eq!(unlinked.status(), StatusCode::OK);
    assert_eq!(bob_ids(), (None, None));
}
