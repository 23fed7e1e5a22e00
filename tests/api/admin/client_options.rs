//! A client's grant types and token signatures, set in the console (issue 19's "grant
//! types … ID token algorithm", issue 21's ES256 access tokens): registered and edited
//! through the CLI's own calls, checked as the CLI checks them (a public client never
//! gets client_credentials), and the tokens follow.

use countersign::manage;
use reqwest::StatusCode;

use crate::approval::support::{approval_app, ApprovalSeed, TestApp};
use crate::helpers::{hidden_input, unescape, REDIRECT_URI};

async fn csrf(app: &TestApp<ApprovalSeed>, admin: &reqwest::Client) -> String {
    let page = app
        .get(admin, "/admin/clients/new")
        .await
        .text()
        .await
        .unwrap();
    hidden_input(&page, "csrf_token").unwrap()
}

fn client_named(app: &TestApp<ApprovalSeed>, name: &str) -> Option<countersign::store::ClientRow> {
    manage::list_clients(&app.store)
        .unwrap()
        .into_iter()
        .find(|c| c.name == name)
}

#[tokio::test]
async fn an_admin_picks_grant_types_and_token_signatures_and_the_cli_rules_apply() {
    // Arrange
    let app = approval_app().await;
    let admin = app.signed_in(&app.admin).await;
    let csrf = csrf(&app, &admin).await;
    let base = [
        ("csrf_token", csrf.as_str()),
        ("redirect_uris", REDIRECT_URI),
        ("post_logout_redirect_uris", ""),
        ("scopes", "openid"),
        ("grant_authorization_code", "yes"),
        ("grant_client_credentials", "yes"),
        ("id_token_alg", "RS256"),
        ("access_token_alg", "ES256"),
    ];
    // Act: a public client may not have client_credentials; a confidential one may.
    let mut public = base.to_vec();
    public.extend([("name", "Phone App"), ("kind", "public")]);
    let refused = app.post(&admin, "/admin/clients", &public).await;
    let mut service = base.to_vec();
    service.extend([("name", "Billing Service"), ("kind", "confidential")]);
    let created = app.post(&admin, "/admin/clients", &service).await;
    let row = client_named(&app, "Billing Service").expect("registered");
    // Act: edit it to EdDSA ID tokens and code + refresh only.
    let path = format!("/admin/clients/{}", row.client_id.as_str());
    let form = app.get(&admin, &path).await.text().await.unwrap();
    let edit = [
        ("csrf_token", csrf.as_str()),
        ("name", "Billing Service"),
        ("redirect_uris", REDIRECT_URI),
        ("post_logout_redirect_uris", ""),
        ("scopes", "openid"),
        ("grant_authorization_code", "yes"),
        ("grant_refresh_token", "yes"),
        ("id_token_alg", "EdDSA"),
        ("access_token_alg", "ES256"),
    ];
    let saved = app.post(&admin, &path, &edit).await;
    let edited = client_named(&app, "Billing Service").unwrap();
    // Assert
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let said = unescape(&refused.text().await.unwrap());
    assert!(
        said.contains("a public client cannot use client_credentials"),
        "{said}"
    );
    assert!(
        said.contains("value=\"Phone App\""),
        "the form keeps what was typed"
    );
    assert!(client_named(&app, "Phone App").is_none());
    assert_eq!(created.status(), StatusCode::OK);
    assert!(
        row.grant_types.contains("client_credentials"),
        "{}",
        row.grant_types
    );
    assert_eq!(row.access_token_alg.as_str(), "ES256");
    assert!(
        form.contains("name=\"grant_client_credentials\" value=\"yes\" checked"),
        "the edit form shows them"
    );
    assert!(form.contains("<option value=\"ES256\" selected>"), "{form}");
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(edited.id_token_alg.as_str(), "EdDSA");
    assert!(!edited.grant_types.contains("client_credentials"));
    assert!(edited.grant_types.contains("refresh_token"));
    let updated = app.events("client.updated");
    assert!(
        updated[0]
            .details
            .contains("\"id_token_signed_response_alg\":\"EdDSA\""),
        "{}",
        updated[0].details
    );
}
