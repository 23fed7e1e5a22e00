//! The console's second factor (issue 19 with issue 18's factors; `admin_factor`,
//! `any` by default): a change needs the factor proven in the session, by a passkey
//! sign-in or a step-up (a code, or a passkey assertion: throttled, audited, recorded
//! in the session's `amr` under a new session id); `passkey` takes no code. And
//! `admin_group`: who the admins are, on the console and over approvals.

use std::sync::Arc;

use countersign::manage;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::StatusCode;
use serde_json::Value;
use webauthn_authenticator_rs::prelude::WebauthnAuthenticator;

use crate::approval::support::{ApprovalSeed, TestApp};
use crate::helpers::{hidden_input, see_other, unescape};
use crate::passkeys::support::{ok_json, soft_passkey};

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
    let wrong = step_up_with(&app, &admin, &csrf, "000000").await;
    let right = step_up_with(&app, &admin, &csrf, &enrolled.code_at(app.now())).await;
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
async fn a_passkey_policy_takes_a_passkey_signed_in_with_or_confirmed_in_the_session_never_a_code()
{
    // Arrange: admin_factor passkey; the admin has a passkey and an authenticator app,
    // and a session signed in with the password (its cookie value kept).
    let app = app_with("passkey").await;
    let jar = Arc::new(Jar::default());
    let password_session = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    app.login(&password_session, "/login", &app.admin).await;
    let mut key = soft_passkey();
    let held = app
        .register_held(&password_session, &mut key, "laptop")
        .await;
    let by_passkey = app.signed_in_with_passkey(&mut key, &held).await;
    let enrolled = app.enrol_totp(&by_passkey).await;
    app.clock.advance(30);
    let page = app
        .get(&password_session, "/admin/step-up")
        .await
        .text()
        .await
        .unwrap();
    let csrf = app.account_csrf(&password_session).await;
    // Act: a code proves the app, which a passkey policy does not take.
    let by_code = step_up_with(&app, &password_session, &csrf, &app.code(&enrolled, 0)).await;
    let refused = add_group(&app, &password_session, "auditors").await;
    let allowed = add_group(&app, &by_passkey, "auditors").await;
    // Act: the password session confirms with the passkey.
    let old_cookie = session_cookie(&jar, &app.url("/"));
    let started = app
        .post(
            &password_session,
            "/account/step-up/passkey",
            &[("csrf_token", &csrf)],
        )
        .await;
    let started = ok_json(started).await;
    let options = serde_json::from_value(started["options"].clone()).unwrap();
    let assertion = key.do_authentication(app.origin(), options).unwrap();
    let credential = serde_json::to_string(&assertion).unwrap();
    let ceremony = started["ceremony_id"].as_str().unwrap();
    let confirmed = app
        .post(
            &password_session,
            &format!("/account/step-up/passkey/{ceremony}"),
            &[
                ("csrf_token", csrf.as_str()),
                ("credential", credential.as_str()),
                ("return_to", "/admin"),
            ],
        )
        .await;
    let confirmed = ok_json(confirmed).await;
    let after = add_group(&app, &password_session, "operators").await;
    let replayed_old_cookie = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/account"))
        .header("cookie", format!("cs_session={old_cookie}"))
        .send()
        .await
        .unwrap();
    // Assert
    assert!(
        !page.contains("name=\"code\""),
        "no code form for a passkey policy"
    );
    assert!(page.contains("Confirm with a passkey"), "{page}");
    assert_eq!(see_other(&by_code), "/admin", "the code itself is right");
    assert_eq!(
        see_other(&refused),
        "/admin/step-up",
        "but does not meet the policy"
    );
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(confirmed["location"], "/admin");
    assert_eq!(after.status(), StatusCode::OK);
    assert!(has_group(&app, "auditors") && has_group(&app, "operators"));
    assert_ne!(
        session_cookie(&jar, &app.url("/")),
        old_cookie,
        "a new session id"
    );
    assert_eq!(
        replayed_old_cookie.status(),
        StatusCode::SEE_OTHER,
        "the old id is over"
    );
    let elevations = app.events("session.elevated");
    let last: Value = serde_json::from_str(&elevations.last().unwrap().details).unwrap();
    assert_eq!(last["amr"], serde_json::json!(["pwd", "otp", "mfa", "hwk"]));
    assert_eq!(last["credential_id"], held.credential_id.as_str());
}

/// `POST /account/step-up` with `code`, back to the console.
async fn step_up_with(
    app: &TestApp<ApprovalSeed>,
    browser: &reqwest::Client,
    csrf: &str,
    code: &str,
) -> reqwest::Response {
    let form = [
        ("csrf_token", csrf),
        ("code", code),
        ("return_to", "/admin"),
    ];
    app.post(browser, "/account/step-up", &form).await
}

/// The session cookie's value in `jar` for `url`.
fn session_cookie(jar: &Jar, url: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    let header = jar.cookies(&url).expect("cookies");
    header
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|pair| pair.strip_prefix("cs_session="))
        .expect("a session cookie")
        .to_owned()
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
