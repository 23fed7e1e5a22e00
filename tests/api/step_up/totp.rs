//! Enrolling an authenticator app (RFC 6238) on the account page: the key and its QR
//! code, confirmation by a first code, recovery codes shown once, removal only with a
//! current code, and an admin's reset for an approver who lost everything.

use reqwest::StatusCode;

use super::support::{approval_app, code_at};
use crate::helpers::hidden_input;

#[tokio::test]
async fn an_approver_enrols_an_authenticator_app_and_gets_recovery_codes_once() {
    // Arrange
    let app = approval_app().await;
    let bob = app.signed_in(&app.bob).await;
    assert!(app
        .account_page(&bob)
        .await
        .contains("No authenticator app is enrolled"));
    // Act
    let (secret, enrol_page) = app.start_enrolment(&bob).await;
    let wrong = app.confirm_enrolment(&bob, "000000").await;
    let right = app
        .confirm_enrolment(&bob, &code_at(&secret, app.now()))
        .await;
    // Assert
    assert!(enrol_page.contains("<svg"), "a QR code drawn on the server");
    assert_eq!(secret.len(), 32, "160 bits in base32: {secret}");
    app.assert_refused(wrong, StatusCode::FORBIDDEN, "The code is not valid")
        .await;
    assert_eq!(right.status(), StatusCode::OK);
    let codes = right.text().await.unwrap();
    assert_eq!(
        codes.matches("<li><code>").count(),
        10,
        "ten recovery codes: {codes}"
    );
    let account = app.account_page(&bob).await;
    assert!(
        account.contains("An authenticator app is enrolled"),
        "{account}"
    );
    assert!(account.contains("Recovery codes left: 10"), "{account}");
    assert_eq!(app.events("factor.enrolled").len(), 1);
    let again = app.account_page(&bob).await;
    assert!(
        !again.contains(&codes_in(&codes)[0]),
        "recovery codes are shown once"
    );
}

/// The recovery codes on a recovery-codes page.
fn codes_in(html: &str) -> Vec<String> {
    html.split("<li><code>")
        .skip(1)
        .filter_map(|part| part.split("</code>").next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn an_enrolled_app_is_not_replaced_by_a_new_enrolment() {
    // Arrange
    let app = approval_app().await;
    let bob = app.signed_in(&app.bob).await;
    app.enrol(&bob).await;
    let csrf = hidden_input(&app.account_page(&bob).await, "csrf_token").unwrap();
    // Act
    let again = app
        .post(&bob, "/account/totp", &[("csrf_token", &csrf)])
        .await;
    // Assert
    app.assert_refused(again, StatusCode::FORBIDDEN, "already enrolled")
        .await;
}

#[tokio::test]
async fn removing_the_app_needs_a_current_code() {
    // Arrange
    let app = approval_app().await;
    let bob = app.signed_in(&app.bob).await;
    let enrolled = app.enrol(&bob).await;
    app.clock.advance(30);
    let csrf = hidden_input(&app.account_page(&bob).await, "csrf_token").unwrap();
    let remove = |code: String| {
        let csrf = csrf.clone();
        let bob = bob.clone();
        let app = &app;
        async move {
            app.post(
                &bob,
                "/account/totp/remove",
                &[("csrf_token", &csrf), ("code", &code)],
            )
            .await
        }
    };
    // Act
    let without = remove("123456".into()).await;
    let with = remove(enrolled.code_at(app.now())).await;
    // Assert
    app.assert_refused(without, StatusCode::FORBIDDEN, "The code is not valid")
        .await;
    assert_eq!(with.status(), StatusCode::SEE_OTHER);
    assert!(app
        .account_page(&bob)
        .await
        .contains("No authenticator app is enrolled"));
    assert_eq!(app.events("factor.removed").len(), 1);
}

#[tokio::test]
async fn an_admin_resets_the_factors_of_an_approver_who_lost_them() {
    // Arrange
    let app = approval_app().await;
    let bob = app.signed_in(&app.bob).await;
    app.enrol(&bob).await;
    // Act
    let out = app.cli_ok(&["user", "reset-factors", "bob"]);
    let again = app.cli_ok(&["user", "reset-factors", "bob"]);
    // Assert
    assert_eq!(out.trim(), "removed the second factors of bob");
    assert_eq!(again.trim(), "bob had no second factor");
    assert!(app
        .account_page(&bob)
        .await
        .contains("No authenticator app is enrolled"));
    let resets = app.events("factor.reset");
    assert_eq!(resets.len(), 2, "each reset is audited");
}

#[tokio::test]
async fn the_account_page_asks_a_visitor_to_sign_in_and_its_forms_need_csrf() {
    // Arrange
    let app = approval_app().await;
    let bob = app.signed_in(&app.bob).await;
    let anonymous = crate::helpers::browser();
    // Act
    let page = app.get(&anonymous, "/account").await;
    let forged = app
        .post(&bob, "/account/totp", &[("csrf_token", "forged")])
        .await;
    // Assert
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        page.headers()["location"].to_str().unwrap(),
        "/login?return_to=%2Faccount"
    );
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(app
        .account_page(&bob)
        .await
        .contains("No authenticator app is enrolled"));
}
