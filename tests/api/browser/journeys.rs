//! The journeys: alice asks for `payments:write` through the demo relying party and
//! waits; bob, in another browser, approves (or denies with a comment) from his inbox;
//! alice's page moves on by itself. Then the approver's page at phone size (390×844),
//! and the waiting page with JavaScript off, which refreshes itself instead.

use std::time::Duration;

use super::driver::{browser, Browser, Options};
use crate::approval::support::{demo_app, ApprovalSeed};
use crate::helpers::TestApp;
use crate::helpers::{HttpReceiver, PASSWORD};

/// Signs in on the login form the browser is on.
async fn sign_in(browser: &Browser, username: &str) {
    browser.fill("username", username).await;
    browser.fill("password", PASSWORD).await;
    browser
        .click("form[action=\"/login\"] button[type=submit]")
        .await;
}

/// Alice starts the demo's countersigned sign-in and lands on the waiting page.
async fn alice_asks(app: &TestApp<ApprovalSeed>, alice: &Browser) {
    alice.open(&app.url("/demo")).await;
    alice.check_page("demo").await;
    alice
        .click("form[action=\"/demo/start\"] button[type=submit]")
        .await;
    alice.check_page("login").await;
    sign_in(alice, "alice").await;
    alice
        .wait_for_text("payments:write", Duration::from_secs(10))
        .await;
    alice.check_page("consent").await;
    alice.click("button[name=decision][value=allow]").await;
    alice
        .wait_for_text("Waiting for a countersignature", Duration::from_secs(10))
        .await;
    alice.check_page("waiting").await;
}

/// Bob signs in through his inbox and opens the newest request.
async fn bob_opens_the_request(app: &TestApp<ApprovalSeed>, bob: &Browser) {
    bob.open(&app.url("/approvals")).await;
    sign_in(bob, "bob").await;
    bob.wait_for_text("asks", Duration::from_secs(10)).await;
    bob.check_page("inbox").await;
    bob.click("#inbox-list a[href^=\"/approvals/\"]").await;
    bob.wait_for_text("asks for access", Duration::from_secs(10))
        .await;
    bob.check_page("approver-page").await;
}

#[tokio::test]
async fn an_approval_in_one_browser_moves_the_waiting_page_in_the_other() {
    // Arrange
    let app = demo_app().await;
    let (Some(alice), Some(bob)) = (
        browser(Options::default()).await,
        browser(Options::default()).await,
    ) else {
        return;
    };
    alice_asks(&app, &alice).await;
    bob_opens_the_request(&app, &bob).await;
    // Act
    bob.click("button[name=decision][value=approve]").await;
    // Assert
    bob.wait_for_text("approved", Duration::from_secs(10)).await;
    let result = alice
        .wait_for_text("Countersigned by", Duration::from_secs(15))
        .await;
    assert!(result.contains("Bob Approver"), "{result}");
    assert!(
        alice.path().await.starts_with("/demo/callback"),
        "{}",
        alice.path().await
    );
    alice.check_page("demo-result").await;
    alice.assert_accessible("demo-result").await;
}

#[tokio::test]
async fn a_denial_with_a_comment_reaches_the_requester() {
    // Arrange
    let app = demo_app().await;
    let (Some(alice), Some(bob)) = (
        browser(Options::default()).await,
        browser(Options::default()).await,
    ) else {
        return;
    };
    alice_asks(&app, &alice).await;
    bob_opens_the_request(&app, &bob).await;
    // Act
    bob.fill("comment", "Not this quarter").await;
    bob.click("button[name=decision][value=deny]").await;
    // Assert
    let waiting = alice
        .wait_for_text("Not this quarter", Duration::from_secs(15))
        .await;
    assert!(waiting.contains("denied"), "{waiting}");
    alice.check_page("waiting-denied").await;
}

#[tokio::test]
async fn the_pages_are_accessible_and_the_approver_page_fits_a_phone() {
    // Arrange
    let app = demo_app().await;
    let phone = Options {
        size: (390, 844),
        phone: true,
        ..Options::default()
    };
    let (Some(alice), Some(bob)) = (browser(Options::default()).await, browser(phone).await) else {
        return;
    };
    alice_asks(&app, &alice).await;
    alice.assert_accessible("waiting").await;
    // Act
    bob_opens_the_request(&app, &bob).await;
    // Assert
    let width = bob
        .eval("return document.documentElement.scrollWidth;")
        .await
        .as_u64()
        .unwrap_or(u64::MAX);
    let culprits = bob
        .eval(
            "return [...document.querySelectorAll('body *')]\
             .filter(e => e.getBoundingClientRect().right > 390)\
             .map(e => e.tagName + '.' + e.className).slice(0, 5);",
        )
        .await;
    assert!(
        width <= 390,
        "the approver page scrolls sideways on a phone: {width}px ({culprits})"
    );
    bob.assert_accessible("approver-page").await;
    bob.screenshot("approver-page-phone").await;
}

#[tokio::test]
async fn without_javascript_the_waiting_page_refreshes_itself_until_decided() {
    // Arrange
    let app = demo_app().await;
    let no_script = Options {
        javascript: false,
        ..Options::default()
    };
    let Some(alice) = browser(no_script).await else {
        return;
    };
    // The demo's start needs no script: a GET form, a POST form, server redirects.
    alice.open(&app.url("/demo")).await;
    alice
        .click("form[action=\"/demo/start\"] button[type=submit]")
        .await;
    sign_in(&alice, "alice").await;
    alice
        .wait_for_text("payments:write", Duration::from_secs(10))
        .await;
    alice.click("button[name=decision][value=allow]").await;
    alice
        .wait_for_text("Waiting for a countersignature", Duration::from_secs(10))
        .await;
    let approval_id = alice.path().await;
    let approval_id = approval_id
        .trim_start_matches("/approvals/")
        .trim_end_matches("/waiting")
        .to_owned();
    // Act: bob approves over plain HTTP
    let bob = app.signed_in(&app.bob).await;
    app.approve(&bob, &approval_id).await;
    // Assert: the page refreshes by itself, and once decided the server sends it on
    let shown = alice
        .wait_for_text("Countersigned by", Duration::from_secs(15))
        .await;
    assert!(shown.contains("Bob Approver"), "{shown}");
    assert!(alice.path().await.starts_with("/demo/callback"));
    alice.screenshot("no-javascript-result").await;
}

#[tokio::test]
async fn an_admin_registers_a_client_and_a_sensitive_scope_in_the_console_and_the_client_is_countersigned(
) {
    // Arrange
    let app = demo_app().await;
    let Some(admin) = browser(Options::default()).await else {
        return;
    };
    admin.open(&app.url("/admin")).await;
    sign_in(&admin, "admin").await;
    admin
        .wait_for_text("Scopes and approval policies", Duration::from_secs(10))
        .await;
    admin.check_page("admin").await;
    // Act: a new sensitive scope
    admin.open(&app.url("/admin/scopes/new")).await;
    admin.check_page("admin-scope-form").await;
    admin.fill("name", "treasury:move").await;
    admin.fill("description", "Move treasury funds").await;
    admin.select("sensitive", "yes").await;
    admin.fill("approvers", "approvers").await;
    admin.click("form button[type=submit]").await;
    let scopes = admin
        .wait_for_text("treasury:move", Duration::from_secs(10))
        .await;
    admin.check_page("admin-scopes").await;
    // Act: a client that may ask for it
    // Its redirect URI is a local server standing in for the relying party.
    let relying_party = HttpReceiver::start();
    let callback = format!("{}/callback", relying_party.url);
    admin.open(&app.url("/admin/clients/new")).await;
    admin.fill("name", "Treasury App").await;
    admin.fill("redirect_uris", &callback).await;
    admin.fill("scopes", "openid treasury:move").await;
    admin.click("form button[type=submit]").await;
    let registered = admin
        .wait_for_text("Client registered", Duration::from_secs(10))
        .await;
    admin.check_page("admin-client-registered").await;
    let client_id = admin
        .eval("return document.querySelector('dd code').textContent")
        .await;
    let secret = admin
        .eval("return document.getElementById('secret').textContent")
        .await;
    let (client_id, secret) = (client_id.as_str().unwrap(), secret.as_str().unwrap());
    // Act: that client sends alice to sign in; bob approves in his browser.
    let (Some(alice), Some(bob)) = (
        browser(Options::default()).await,
        browser(Options::default()).await,
    ) else {
        return;
    };
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", &callback),
            ("scope", "openid treasury:move"),
            ("state", "journey"),
            ("nonce", "n-journey"),
        ])
        .finish();
    alice.open(&app.url(&format!("/authorize?{query}"))).await;
    sign_in(&alice, "alice").await;
    alice
        .wait_for_text("treasury:move", Duration::from_secs(10))
        .await;
    alice.click("button[name=decision][value=allow]").await;
    alice
        .wait_for_text("Waiting for a countersignature", Duration::from_secs(10))
        .await;
    bob_opens_the_request(&app, &bob).await;
    bob.click("button[name=decision][value=approve]").await;
    // Assert: the console's view
    assert!(
        scopes.contains("Needs a countersignature: 1 approval from approvers"),
        "{scopes}"
    );
    assert!(registered.contains("shown only this once"), "{registered}");
    // Assert: alice's browser reaches the client with a code, which buys tokens
    // naming bob's approval.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !alice.path().await.starts_with("/callback?") {
        assert!(
            std::time::Instant::now() < deadline,
            "alice never reached the client"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let landed = alice.path().await;
    let code = url::form_urlencoded::parse(landed.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    let tokens: serde_json::Value = reqwest::Client::new()
        .post(app.url("/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", callback.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = crate::approval::client::jwt_payload(tokens["access_token"].as_str().unwrap());
    assert_eq!(
        access["approval"]["approvers"][0],
        app.bob.id.as_str(),
        "{access}"
    );
}

#[tokio::test]
async fn an_approver_registers_a_passkey_approves_with_it_and_signs_in_with_it() {
    // Arrange: passkeys need a host name (not an IP) as their relying party id
    let app = TestApp::builder()
        .localhost_issuer()
        .spawn()
        .await
        .seeded(ApprovalSeed::seed);
    app.set_policy(countersign::manage::ScopeChanges {
        approver_factor: Some(countersign::approval::ApproverFactor::Passkey),
        ..Default::default()
    });
    let Some(bob) = browser(Options::default()).await else {
        return;
    };
    bob.add_virtual_authenticator().await;
    bob.open(&app.url("/account")).await;
    sign_in(&bob, "bob").await;
    bob.wait_for_text("Register a passkey", Duration::from_secs(10))
        .await;
    // Act: register
    bob.fill("name", "virtual key").await;
    bob.click("#passkey-register button[type=submit]").await;
    bob.wait_for_text("virtual key", Duration::from_secs(10))
        .await;
    bob.check_page("account-passkeys").await;
    // Act: approve alice's request with it
    let (_, pending) = app.request_access(&app.alice).await;
    bob.open(&app.url(&format!("/approvals/{}", pending.approval_id)))
        .await;
    bob.wait_for_text("Approve with passkey", Duration::from_secs(10))
        .await;
    bob.check_page("approver-page-passkey").await;
    bob.click("#passkey-vote button[value=approve]").await;
    // Assert
    bob.wait_for_text("approved", Duration::from_secs(10)).await;
    let votes = app.events("approval.vote");
    assert_eq!(votes.len(), 1);
    let details: serde_json::Value = serde_json::from_str(&votes[0].details).unwrap();
    assert_eq!(
        details["amr"],
        serde_json::json!(["pwd", "hwk", "mfa"]),
        "{details}"
    );
    assert!(details["credential_id"].is_string(), "{details}");
    // Act: signed out, bob comes back with the passkey alone, no username typed.
    bob.forget_cookies().await;
    bob.open(&app.url("/login?return_to=%2Faccount")).await;
    bob.wait_for_text("Sign in with a passkey", Duration::from_secs(10))
        .await;
    bob.check_page("login-passkey").await;
    bob.click("#passkey-sign-in button[type=submit]").await;
    // Assert
    bob.wait_for_text("Signed in as bob", Duration::from_secs(10))
        .await;
    assert_eq!(bob.path().await, "/account");
    let logins = app.events("login.succeeded");
    let details: serde_json::Value = serde_json::from_str(&logins.last().unwrap().details).unwrap();
    assert_eq!(details["method"], "passkey", "{details}");
}

#[tokio::test]
async fn a_requester_who_cancels_is_told_the_sign_in_did_not_complete() {
    // Arrange
    let app = demo_app().await;
    let Some(alice) = browser(Options::default()).await else {
        return;
    };
    alice_asks(&app, &alice).await;
    // Act
    alice
        .click("form[action$=\"/cancel\"] button[type=submit]")
        .await;
    // Assert
    let shown = alice
        .wait_for_text("did not complete", Duration::from_secs(15))
        .await;
    assert!(shown.to_lowercase().contains("cancel"), "{shown}");
    alice.check_page("demo-cancelled").await;
}

#[tokio::test]
async fn a_request_nobody_decides_shows_its_expiry_to_the_requester() {
    // Arrange
    let app = demo_app().await;
    let Some(alice) = browser(Options::default()).await else {
        return;
    };
    alice_asks(&app, &alice).await;
    // Act: the pending time (15 min) runs out while the page is open
    app.clock.advance(16 * 60);
    // Assert: the page learns it (pushed or polled) and the demo says so
    let shown = alice
        .wait_for_text("did not complete", Duration::from_secs(20))
        .await;
    assert!(shown.to_lowercase().contains("expired"), "{shown}");
    alice.check_page("demo-expired").await;
}

#[tokio::test]
async fn the_console_fits_a_phone() {
    // Arrange
    let app = demo_app().await;
    let phone = Options {
        size: (390, 844),
        phone: true,
        ..Options::default()
    };
    let Some(admin) = browser(phone).await else {
        return;
    };
    admin.open(&app.url("/admin")).await;
    sign_in(&admin, "admin").await;
    admin
        .wait_for_text("Scopes and approval policies", Duration::from_secs(10))
        .await;
    // Act + Assert: no console page scrolls sideways
    for path in [
        "/admin",
        "/admin/scopes",
        "/admin/scopes/payments:write",
        "/admin/clients",
        "/admin/users",
        "/admin/approvals",
        "/admin/keys",
        "/admin/audit",
        "/admin/step-up",
        "/account",
    ] {
        admin.open(&app.url(path)).await;
        let width = admin
            .eval("return document.documentElement.scrollWidth;")
            .await
            .as_u64()
            .unwrap_or(u64::MAX);
        assert!(
            width <= 390,
            "{path} scrolls sideways on a phone: {width}px"
        );
        admin.assert_accessible(path).await;
    }
}
