//! RFC 9396 `authorization_details` at `/authorize` (the browser flow): the consent
//! page shows the action field by field, the approver sees it, and the code exchange
//! returns exactly what was approved; bad details are `invalid_authorization_details`
//! redirected to the client with `state` and `iss`, changing nothing.

use reqwest::StatusCode;
use serde_json::json;

use super::support::{ciba_setup, payment};
use crate::approval::client::waiting_of;
use crate::approval::support::{approval_app, browser, SENSITIVE};
use crate::helpers::jwt_part;

#[tokio::test]
async fn a_browser_request_for_a_payment_is_consented_approved_and_carried_in_the_tokens() {
    // Arrange
    let app = approval_app().await;
    ciba_setup(&app, None);
    let details = payment().to_string();
    let alice = browser();
    let path = app.authorize_path("openid", &[("authorization_details", &details)]);
    let request = app.sign_in_to_consent_at(&alice, &app.alice, &path).await;
    // Act
    let consent_page = app.consent_page(&alice, &request).await;
    let answer = app.consent(&alice, &request, "allow", None).await;
    let approval_id = waiting_of(&answer);
    let review = app.bob_decides(&approval_id, "approve").await;
    let pending = crate::approval::browser::Pending {
        request_id: request.clone(),
        approval_id: approval_id.clone(),
    };
    let back = app.continue_after_decision(&alice, &pending).await;
    let code = app.code_of(&back);
    let response = app.exchange_response(&code).await;
    let body: serde_json::Value = response.json().await.unwrap();
    // Assert
    for shown in ["And to do exactly this", "4500", "ACME GmbH", "EUR"] {
        assert!(
            consent_page.contains(shown),
            "consent shows {shown}: {consent_page}"
        );
    }
    assert!(review.contains("ACME GmbH"), "{review}");
    assert_eq!(body["authorization_details"], payment(), "{body}");
    let access = jwt_part(body["access_token"].as_str().unwrap(), 1);
    assert_eq!(access["authorization_details"], payment());
    assert_eq!(access["approval"]["approvers"], json!([app.bob.id]));
}

#[tokio::test]
async fn bad_details_go_back_to_the_client_as_invalid_authorization_details() {
    // Arrange
    let app = approval_app().await;
    ciba_setup(&app, None);
    let unknown = json!([{"type": "refund", "amount": 1}]).to_string();
    let path = app.authorize_path(
        &format!("openid {SENSITIVE}"),
        &[("authorization_details", &unknown)],
    );
    let head = app.audit_head();
    // Act
    let response = app.get(&browser(), &path).await;
    // Assert
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let description = app.error_of(&response, "invalid_authorization_details");
    assert_eq!(
        description,
        "authorization_details entry 1 has a type this server does not know"
    );
    assert_eq!(app.audit_head(), head);
}
