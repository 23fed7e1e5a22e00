//! Brokered sign-in against a real upstream (a second countersign): the first login
//! creates and links the user, later logins find it by `iss` + `sub`, mapped groups
//! follow the upstream at every login, and a brokered approver countersigns.

use countersign::audit::Actor;
use countersign::manage;
use reqwest::StatusCode;

use super::support::{location, start_path, Brokering, Browsers, UPSTREAM, UPSTREAM_APPROVERS};
use crate::helpers::{browser, TestApp};

fn users_named(b: &Brokering, name: &str) -> usize {
    manage::list_users(&b.down.store)
        .unwrap()
        .iter()
        .filter(|u| u.name.as_deref() == Some(name))
        .count()
}

#[tokio::test]
async fn a_first_upstream_login_creates_a_linked_user_without_a_password_and_the_next_finds_it() {
    // Arrange
    let b = Brokering::new().await;
    let browsers = Browsers::new();
    // Act
    let first = b.sign_in(&browsers, &start_path(), &b.ursula).await;
    let again = Browsers {
        down: browser(),
        up: browsers.up.clone(),
    };
    let second = b.sign_in(&again, &start_path(), &b.ursula).await;
    // Assert
    assert_eq!(location(&first), "/approvals");
    assert_eq!(location(&second), "/approvals");
    let (username, has_password, _) = b.linked().expect("a linked user");
    assert_eq!(username, "ursula");
    assert!(!has_password, "a brokered user has no local password");
    assert_eq!(
        users_named(&b, "Ursula Upstream"),
        1,
        "the second login found it"
    );
    let inbox = b.down.get(&again.down, "/approvals").await;
    assert_eq!(
        inbox.status(),
        StatusCode::OK,
        "the new session is signed in"
    );
}

#[tokio::test]
async fn the_login_page_offers_each_upstream_and_the_sign_in_continues_the_authorization_request() {
    // Arrange
    let b = Brokering::new().await;
    let browsers = Browsers::new();
    let response = b
        .down
        .authorize(&browsers.down, "openid profile", &[])
        .await;
    let login_path = location(&response);
    let request_id = login_path
        .strip_prefix("/login?request=")
        .expect("the login page")
        .to_owned();
    // Act
    let page = b
        .down
        .get(&browsers.down, &login_path)
        .await
        .text()
        .await
        .unwrap();
    let start = format!("/login/upstream/{UPSTREAM}?request={request_id}");
    let response = b.sign_in(&browsers, &start, &b.ursula).await;
    // Assert
    assert!(page.contains(&format!("href=\"{start}\"")), "{page}");
    assert!(page.contains(&format!("Sign in with {UPSTREAM}")));
    assert_eq!(
        location(&response),
        format!("/authorize/continue?request={request_id}")
    );
}

#[tokio::test]
async fn mapped_upstream_groups_make_a_brokered_user_the_approver_of_a_countersigned_request() {
    // Arrange
    let b = Brokering::new().await;
    let (alice, pending) = b.down.request_access(&b.down.alice).await;
    let browsers = Browsers::new();
    // Act
    b.sign_in(&browsers, &start_path(), &b.ursula).await;
    b.down.approve(&browsers.down, &pending.approval_id).await;
    let response = b.down.continue_after_decision(&alice, &pending).await;
    let tokens = b.down.exchange(&b.down.code_of(&response)).await;
    // Assert
    let (_, _, groups) = b.linked().expect("a linked user");
    assert_eq!(groups, vec!["approvers".to_owned()]);
    assert!(tokens.scope.split(' ').any(|s| s == "payments:write"));
}

#[tokio::test]
async fn a_group_removed_upstream_is_removed_locally_at_the_next_login_and_unmapped_groups_stay() {
    // Arrange: two upstream groups map to `approvers`; `auditors` is local only.
    let b = Brokering::new().await;
    let browsers = Browsers::new();
    b.sign_in(&browsers, &start_path(), &b.ursula).await;
    let (username, _, _) = b.linked().unwrap();
    b.down.add_group("auditors");
    manage::add_member(
        &b.down.store,
        "auditors",
        &username,
        &Actor::Cli,
        b.down.now(),
    )
    .unwrap();
    let leave = |group: &str| {
        manage::remove_member(&b.up.store, group, "ursula", &Actor::Cli, b.up.now()).unwrap();
    };
    // Act
    leave(UPSTREAM_APPROVERS);
    b.sign_in(&browsers, &start_path(), &b.ursula).await;
    let (_, _, still_staff) = b.linked().unwrap();
    leave("staff");
    b.sign_in(&browsers, &start_path(), &b.ursula).await;
    let (_, _, neither) = b.linked().unwrap();
    // Assert
    assert_eq!(
        still_staff,
        vec!["approvers", "auditors"],
        "staff still maps"
    );
    assert_eq!(
        neither,
        vec!["auditors"],
        "approvers gone, auditors untouched"
    );
}

#[tokio::test]
async fn a_local_user_with_the_same_email_is_not_taken_over() {
    // Arrange: a local `ursula` with the upstream user's address.
    let b = Brokering::new().await;
    let local = b.down.add_user("ursula", None, &[]);
    assert_eq!(local.email, b.ursula.email);
    let browsers = Browsers::new();
    // Act
    let response = b.sign_in(&browsers, &start_path(), &b.ursula).await;
    // Assert
    assert_eq!(location(&response), "/approvals");
    let (username, _, groups) = b.linked().expect("a new linked user");
    assert_eq!(username, "ursula-2", "a new account beside the local one");
    assert_eq!(groups, vec!["approvers"]);
    let groups = manage::list_groups(&b.down.store).unwrap();
    let approvers = groups.iter().find(|(g, _)| g.name == "approvers").unwrap();
    assert!(
        !approvers.1.contains(&"ursula".to_owned()),
        "the local user gained nothing"
    );
}

#[tokio::test]
async fn a_disabled_linked_user_is_refused() {
    // Arrange
    let b = Brokering::new().await;
    let browsers = Browsers::new();
    b.sign_in(&browsers, &start_path(), &b.ursula).await;
    let (username, _, _) = b.linked().unwrap();
    manage::disable_user(&b.down.store, &username, &Actor::Cli, b.down.now()).unwrap();
    // Act
    let fresh = Browsers {
        down: browser(),
        up: browsers.up.clone(),
    };
    let response = b.sign_in(&fresh, &start_path(), &b.ursula).await;
    // Assert
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("disabled"));
}

#[tokio::test]
async fn with_local_passwords_off_only_upstreams_sign_in() {
    // Arrange
    let b = Brokering::start(TestApp::builder().local_passwords(false)).await;
    let browsers = Browsers::new();
    // Act
    let page = b
        .down
        .get(&browsers.down, "/login")
        .await
        .text()
        .await
        .unwrap();
    let refused = b
        .down
        .post(
            &browsers.down,
            "/login",
            &[
                ("username", "alice"),
                ("password", crate::helpers::PASSWORD),
            ],
        )
        .await;
    let brokered = b.sign_in(&browsers, &start_path(), &b.ursula).await;
    // Assert
    assert!(!page.contains("name=\"password\""), "no password form");
    assert!(page.contains(&format!("Sign in with {UPSTREAM}")));
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Passwords are turned off"));
    assert_eq!(location(&brokered), "/approvals");
}

#[tokio::test]
async fn someone_who_came_through_the_upstream_signs_in_there_not_with_a_passkey() {
    // Arrange: ursula signed in through the upstream and registered a passkey here
    // (it proves her decisions).
    let b = Brokering::start(TestApp::builder().localhost_issuer()).await;
    let browsers = Browsers::new();
    b.sign_in(&browsers, &start_path(), &b.ursula).await;
    let mut key = crate::passkeys::support::soft_passkey();
    let held = b
        .down
        .register_held(&browsers.down, &mut key, "laptop")
        .await;
    // Act: the passkey alone, in a new browser, would skip the upstream.
    let fresh = browser();
    let (ceremony, options) = b.down.start_sign_in(&fresh).await;
    let answer = b.down.discoverable_answer(&mut key, &held, &options);
    let refused = b.down.finish_sign_in(&fresh, &ceremony, &answer, &[]).await;
    // Assert
    let why = crate::passkeys::support::refused_json(refused, StatusCode::FORBIDDEN).await;
    assert!(why.contains("could not be verified"), "{why}");
    assert_eq!(
        b.down.get(&fresh, "/account").await.status(),
        StatusCode::SEE_OTHER
    );
}
