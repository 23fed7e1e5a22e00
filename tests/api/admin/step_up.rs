//! The console's second factor (issue 19 with issue 18's factors; `admin_factor`,
//! `any` by default): a change needs the factor proven in the session, by a code on
//! `/admin/step-up` (throttled, audited, recorded in the session's `amr`) or by a
//! passkey sign-in; `passkey` takes no code. And `admin_group`: who the admins are,
//! on the console and over approvals.

use countersign::manage;
use reqwest::StatusCode;
use serde_json::Value;

use crate::approval::support::{ApprovalSeed, TestApp};
use crate::helpers::{hidden_input, see_other, unescape};
use crate::passkeys::support::soft_passkey;

async fn app_with(factor: &str) -> TestApp<ApprovalSeed> {
    TestApp::builder()
        .admin_factor(factor)
        .localhost_issuer()
        .spawn()
        .await
        .seeded(ApprovalSeed::seed)
}

/// `POST /admin/groups` (`group`) as `admin`.
async fn add_group(
    app: &TestApp<ApprovalSeed>,
    admin: &reqwest::Client,
    group: &str,
) -> reqwest::Response {
    let csrf = app.account_csrf(admin).await;
    app.post(
        admin,
        "/admin/groups",
        &[("csrf_token", &csrf), ("group", group)],
    )
    .await
}

fn has_group(app: &TestApp<ApprovalSeed>, group: &str) -> bool {
    manage::list_groups(&app.store)
        .unwrap()
        .iter()
        .any(|(g, _)| g.name == group)
}

#[tokio::test]
async fn a_change_needs_the_second_factor_and_a_code_on_the_step_up_page_proves_it() {
    // Arrange: the admin signed in with a password, and has an authenticator app.
    let app = app_with("any").await;
    let admin = app.signed_in(&app.admin).await;
    let overview = unescape(&app.get(&admin, "/admin").await.text().await.unwrap());
    let before = add_group(&app, &admin, "auditors").await;
    let enrolled = app.enrol(&admin).await;
    app.clock.advance(30);
    let page = app
        .get(&admin, "/admin/step-up")
        .await
        .text()
        .await
        .unwrap();
    let csrf = hidden_input(&page, "csrf_token").unwrap();
    // Act
    let wrong = app
        .post(
            &admin,
            "/admin/step-up",
            &[("csrf_token", &csrf), ("code", "000000")],
        )
        .await;
    let code = enrolled.code_at(app.now());
    let right = app
        .post(
            &admin,
            "/admin/step-up",
            &[("csrf_token", &csrf), ("code", &code)],
        )
        .await;
    let after = add_group(&app, &admin, "auditors").await;
    // Assert
    assert!(overview.contains("confirm it is you"), "{overview}");
    assert_eq!(see_other(&before), "/admin/step-up", "refused before");
    assert!(page.contains("name=\"code\""), "the page takes a code");
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.events("step_up.failed").len(), 1);
    assert_eq!(see_other(&right), "/admin");
    let elevated = app.events("session.elevated");
    let details: Value = serde_json::from_str(&elevated[0].details).unwrap();
    assert_eq!(details["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    assert_eq!(after.status(), StatusCode::OK);
    assert!(has_group(&app, "auditors"));
}

#[tokio::test]
async fn without_any_factor_the_admin_is_sent_to_enrol_one_and_nothing_changes() {
    // Arrange
    let app = app_with("any").await;
    let admin = app.signed_in(&app.admin).await;
    // Act
    let refused = add_group(&app, &admin, "auditors").await;
    let page = unescape(
        &app.get(&admin, "/admin/step-up")
            .await
            .text()
            .await
            .unwrap(),
    );
    // Assert
    assert_eq!(see_other(&refused), "/admin/step-up");
    assert!(page.contains("enrol one on your account page"), "{page}");
    assert!(!page.contains("name=\"code\""));
    assert!(!has_group(&app, "auditors"));
}

#[tokio::test]
async fn a_passkey_sign_in_meets_the_factor_and_a_passkey_policy_takes_no_code() {
    // Arrange: admin_factor passkey; the admin has a passkey and an authenticator app.
    let app = app_with("passkey").await;
    let password_session = app.signed_in(&app.admin).await;
    let mut key = soft_passkey();
    let held = app
        .register_held(&password_session, &mut key, "laptop")
        .await;
    let by_passkey = app.signed_in_with_passkey(&mut key, &held).await;
    let enrolled = app.enrol_totp(&by_passkey).await;
    app.clock.advance(30);
    // Act: a code does not meet a passkey policy; the passkey sign-in does.
    let page = app
        .get(&password_session, "/admin/step-up")
        .await
        .text()
        .await
        .unwrap();
    let csrf = app.account_csrf(&password_session).await;
    let code = app.code(&enrolled, 0);
    let by_code = app
        .post(
            &password_session,
            "/admin/step-up",
            &[("csrf_token", &csrf), ("code", &code)],
        )
        .await;
    let refused = add_group(&app, &password_session, "auditors").await;
    let allowed = add_group(&app, &by_passkey, "auditors").await;
    // Assert
    assert!(
        !page.contains("name=\"code\""),
        "no code form for a passkey policy"
    );
    assert!(page.contains("Sign in again with one of your passkeys"));
    assert_eq!(by_code.status(), StatusCode::FORBIDDEN);
    assert_eq!(see_other(&refused), "/admin/step-up");
    assert_eq!(allowed.status(), StatusCode::OK);
    assert!(has_group(&app, "auditors"));
}

#[tokio::test]
async fn the_configured_admin_group_runs_the_console_and_oversees_approvals() {
    // Arrange: admins are "it-admins"; dave is one; the seeded admin is in "admins".
    let app = TestApp::builder()
        .admin_group("it-admins")
        .spawn()
        .await
        .seeded(ApprovalSeed::seed);
    app.cli_ok(&["group", "add", "it-admins"]);
    app.cli_ok(&["group", "add-member", "it-admins", "dave"]);
    let (_alice, pending) = app.request_access(&app.alice).await;
    let dave = app.signed_in(&app.dave).await;
    let admin = app.signed_in(&app.admin).await;
    // Act
    let by_dave = app.get(&dave, "/admin").await;
    let by_admin = app.get(&admin, "/admin").await;
    let review_by_dave = app
        .get(&dave, &format!("/approvals/{}", pending.approval_id))
        .await;
    let review_by_admin = app
        .get(&admin, &format!("/approvals/{}", pending.approval_id))
        .await;
    // Assert
    assert_eq!(by_dave.status(), StatusCode::OK);
    assert_eq!(by_admin.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        review_by_dave.status(),
        StatusCode::OK,
        "it-admins oversee approvals"
    );
    assert_eq!(
        review_by_admin.status(),
        StatusCode::NOT_FOUND,
        "admins no longer do"
    );
}
