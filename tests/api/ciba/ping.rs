//! CIBA ping mode (CIBA Core §10.2) against a local HTTP receiver standing in for the
//! client, and the binding of the approval to its details (RFC 8785 digest): details
//! altered in the database after approval are never redeemed.

use countersign::config::RawNotify;
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::support::{ciba_setup, payment};
use crate::approval::support::{approval_app, ApprovalSeed};
use crate::helpers::{assert_oauth_error, tokens_of, HttpReceiver, TestApp};

const NOTIFICATION_TOKEN: &str = "8d67dc78-7faa-4d41-aabd-67707b374255";

#[tokio::test]
async fn a_ping_client_is_called_with_its_token_once_the_request_is_decided() {
    // Arrange
    let client_side = HttpReceiver::start();
    let app = TestApp::builder()
        .notify(RawNotify {
            poll_interval: Some("20ms".into()),
            ..RawNotify::default()
        })
        .spawn()
        .await
        .seeded(ApprovalSeed::seed);
    let agent = ciba_setup(&app, Some(format!("{}/cb", client_side.url)));
    let auth_req_id = app
        .ask_payment(&agent, &[("client_notification_token", NOTIFICATION_TOKEN)])
        .await;
    // Act
    app.bob_decides(&app.last_approval_id(), "approve").await;
    let pings = client_side.wait_for(1).await;
    let tokens = tokens_of(app.poll(&agent, &auth_req_id).await).await;
    // Assert
    let ping = &pings[0];
    assert_eq!(
        ping.header("authorization"),
        Some(format!("Bearer {NOTIFICATION_TOKEN}").as_str())
    );
    assert_eq!(ping.json(), json!({"auth_req_id": auth_req_id}));
    assert!(!tokens.access_token.is_empty());
    let stored: Vec<Option<String>> = {
        use countersign::store::schema::backchannel_requests::dsl::*;
        let mut conn = app.store.conn().unwrap();
        backchannel_requests
            .select(ping_sealed)
            .load(&mut *conn)
            .unwrap()
    };
    let sealed = stored[0].clone().expect("the ping secrets are kept");
    assert!(
        !sealed.contains(NOTIFICATION_TOKEN) && !sealed.contains(&auth_req_id),
        "sealed at rest"
    );
}

#[tokio::test]
async fn a_ping_client_must_send_its_notification_token() {
    // Arrange
    let app = approval_app().await;
    let agent = ciba_setup(&app, Some("http://127.0.0.1:9/cb".into()));
    // Act
    let response = app
        .bc_authorize(
            &agent,
            &[
                ("login_hint", "alice"),
                ("authorization_details", &payment().to_string()),
            ],
        )
        .await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "client_notification_token is required in ping mode",
    )
    .await;
}

#[tokio::test]
async fn details_altered_after_approval_cannot_be_redeemed() {
    // Arrange
    let app = approval_app().await;
    let agent = ciba_setup(&app, None);
    let auth_req_id = app.ask_payment(&agent, &[]).await;
    let approval = app.last_approval_id();
    app.bob_decides(&approval, "approve").await;
    // Act: someone with database access raises the amount.
    {
        use countersign::store::schema::approvals::dsl::*;
        let mut conn = app.store.conn().unwrap();
        let altered = json!([{"amount": 45000, "creditor": "ACME GmbH", "currency": "EUR", "type": "payment"}]);
        diesel::update(approvals.find(&approval))
            .set(details.eq(altered.to_string()))
            .execute(&mut *conn)
            .unwrap();
    }
    let response = app.poll(&agent, &auth_req_id).await;
    let bob = app.signed_in(&app.bob).await;
    let (_, page) = app.review(&bob, &approval).await;
    // Assert
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "the approved authorization_details were altered and cannot be redeemed",
    )
    .await;
    assert!(page.contains("were altered"), "the page warns: {page}");
}

#[tokio::test]
async fn discovery_says_what_needs_approval_and_how_to_ask() {
    // Arrange
    let app = approval_app().await;
    ciba_setup(&app, None);
    // Act
    let doc: Value = app
        .http
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Assert
    assert_eq!(
        doc["backchannel_authentication_endpoint"],
        app.url("/bc-authorize")
    );
    assert_eq!(
        doc["backchannel_token_delivery_modes_supported"],
        json!(["poll", "ping"])
    );
    assert_eq!(doc["backchannel_user_code_parameter_supported"], false);
    assert!(doc["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("urn:openid:params:grant-type:ciba")));
    assert_eq!(
        doc["authorization_details_types_supported"],
        json!(["payment"])
    );
    let required = &doc["countersign_approval_required"];
    assert_eq!(
        required["scopes"]["payments:write"],
        "1 approval from approvers"
    );
    assert_eq!(
        required["authorization_details_types"]["payment"]["approvals"],
        "1 approval from approvers"
    );
}
