//! What people see (DESIGN.md §5.1 steps 3-5, §8 "Approval pages", "CLI output"): the
//! consent page names who must countersign, a required justification reaches the
//! approver, the `approval` CLI shows approvals with their votes, and the demo RP.

use std::collections::HashMap;

use countersign::manage::ScopeChanges;
use reqwest::StatusCode;

use super::client::{refused, see_other, see_other_to, unescape, waiting_of};
use super::support::{approval_app, browser, demo_app, SCOPES, SENSITIVE};

/// The `<li>` of the consent page that lists `scope`.
fn scope_item<'a>(html: &'a str, scope: &str) -> &'a str {
    let marker = format!("<code>{scope}</code>");
    html.split("<li")
        .find(|item| item.contains(&marker))
        .and_then(|item| item.split("</li>").next())
        .expect("the scope is listed")
}

#[tokio::test]
async fn the_consent_page_says_which_scopes_need_a_countersignature_and_from_whom() {
    // Arrange
    let app = approval_app().await;
    let alice = browser();
    let request_id = app.sign_in_to_consent(&alice, &app.alice, SCOPES).await;
    // Act
    let html = app.consent_page(&alice, &request_id).await;
    // Assert
    let sensitive = scope_item(&html, SENSITIVE);
    assert!(sensitive.contains("class=\"sensitive\""), "{sensitive}");
    assert!(
        sensitive.contains("Needs a countersignature"),
        "{sensitive}"
    );
    assert!(
        sensitive.contains("1 approval from approvers"),
        "{sensitive}"
    );
    let profile = scope_item(&html, "profile");
    assert!(!profile.contains("countersignature"), "{profile}");
    assert!(
        !html.contains("name=\"justification\""),
        "no justification asked when the policy does not require one"
    );
}

#[tokio::test]
async fn a_required_justification_is_asked_for_every_time_and_shown_to_the_approver() {
    // Arrange
    let app = approval_app().await;
    app.set_policy(ScopeChanges {
        require_justification: Some(true),
        ..ScopeChanges::default()
    });
    let alice = browser();
    let request_id = app.sign_in_to_consent(&alice, &app.alice, SCOPES).await;
    let html = app.consent_page(&alice, &request_id).await;
    // Act
    let without = app.consent(&alice, &request_id, "allow", None).await;
    let with = app
        .consent(
            &alice,
            &request_id,
            "allow",
            Some("Quarter-end <b>supplier</b> run"),
        )
        .await;
    // Assert
    assert!(html.contains("<label for=\"justification\">"), "{html}");
    assert!(html.contains("name=\"justification\""), "{html}");
    let page = refused(without, StatusCode::BAD_REQUEST).await;
    assert!(page.contains("justification"), "the page says why: {page}");
    let id = waiting_of(&with);
    let bob = app.signed_in(&app.bob).await;
    let (status, review) = app.review(&bob, &id).await;
    assert_eq!(status, StatusCode::OK);
    let shown = review
        .split("<dt>Justification</dt><dd>")
        .nth(1)
        .and_then(|rest| rest.split("</dd>").next())
        .expect("the review page shows the justification");
    assert!(!shown.contains('<'), "HTML in it is escaped: {shown}");
    assert_eq!(unescape(shown), "Quarter-end <b>supplier</b> run");
    let again = app.authorize(&alice, SCOPES, &[]).await;
    see_other_to(&again, "/consent?request=");
}

#[tokio::test]
async fn the_cli_lists_and_shows_approvals_with_their_votes() {
    // Arrange
    let app = approval_app().await;
    app.set_quorum(2);
    let (_alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let bob = app.signed_in(&app.bob).await;
    app.approve(&bob, &id).await;
    // Act
    let pending_list = app.cli_json(&["approval", "list", "--state", "pending", "--json"]);
    let approved_list = app.cli_json(&["approval", "list", "--state", "approved", "--json"]);
    let shown = app.cli_json(&["approval", "show", &id, "--json"]);
    let text = app.cli_ok(&["approval", "show", &id]);
    // Assert
    let listed = pending_list.as_array().expect("a JSON array");
    assert_eq!(listed.len(), 1, "{pending_list}");
    for approval in [&listed[0], &shown] {
        assert_eq!(approval["id"], id.as_str());
        assert_eq!(approval["state"], "pending");
        assert_eq!(approval["requester"], "alice");
        assert_eq!(approval["requester_sub"], app.alice.id.as_str());
        assert_eq!(approval["client_id"], app.client.client_id.as_str());
        assert_eq!(approval["scope"], SCOPES);
        let votes = approval["votes"].as_array().expect("votes");
        assert_eq!(votes.len(), 1, "{approval}");
        assert_eq!(votes[0]["approver"], "bob");
        assert_eq!(votes[0]["approver_sub"], app.bob.id.as_str());
        assert_eq!(votes[0]["decision"], "approve");
    }
    assert_eq!(shown["requirements"]["groups"][0]["group"], "approvers");
    assert_eq!(shown["requirements"]["groups"][0]["quorum"], 2);
    assert_eq!(approved_list, serde_json::json!([]));
    assert!(text.contains(&format!("id: {id}")), "{text}");
    assert!(text.contains("state: pending"), "{text}");
    assert!(text.contains("vote: bob approve"), "{text}");
}

#[tokio::test]
async fn the_demo_relying_party_starts_a_pkce_flow_for_the_demo_client() {
    // Arrange
    let app = demo_app().await;
    let visitor = browser();
    // Act
    let page = app.get(&visitor, "/demo").await;
    let start = app
        .get(
            &visitor,
            "/demo/start?scope=openid+profile+email+payments%3Awrite",
        )
        .await;
    // Assert
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("action=\"/demo/start\""), "{html}");
    assert!(html.contains(SENSITIVE), "{html}");
    let location = see_other_to(&start, &format!("{}/authorize?", app.issuer.as_str()));
    let params: HashMap<String, String> = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(params["client_id"], app.client.client_id);
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["code_challenge"].len(), 43, "BASE64URL(SHA-256)");
    assert_eq!(
        params["redirect_uri"],
        format!("{}/demo/callback", app.issuer.as_str())
    );
    assert_eq!(params["scope"], "openid profile email payments:write");
    assert!(params.contains_key("state") && params.contains_key("nonce"));
    let next = app.get(&visitor, &location).await;
    see_other_to(&next, "/login?request=");
}

#[tokio::test]
async fn the_demo_relying_party_shows_who_countersigned() {
    // Arrange
    let app = demo_app().await;
    let alice = browser();
    let start = app
        .get(
            &alice,
            "/demo/start?scope=openid+profile+email+payments%3Awrite",
        )
        .await;
    let request_id = app
        .sign_in_to_consent_at(&alice, &app.alice, &see_other(&start))
        .await;
    let id = waiting_of(&app.consent(&alice, &request_id, "allow", None).await);
    let bob = app.signed_in(&app.bob).await;
    app.approve(&bob, &id).await;
    // Act
    let waiting = app.get(&alice, &format!("/approvals/{id}/waiting")).await;
    let response = app.get(&alice, &see_other(&waiting)).await;
    let callback = see_other_to(
        &response,
        &format!("{}/demo/callback?", app.issuer.as_str()),
    );
    let result = app.get(&alice, &callback).await;
    // Assert
    assert_eq!(result.status(), StatusCode::OK);
    let html = result.text().await.unwrap();
    assert!(html.contains("Countersigned by"), "{html}");
    assert!(html.contains("<strong>Bob Approver</strong>"), "{html}");
    assert!(
        html.contains(&format!("<code>{}</code>", app.bob.id)),
        "{html}"
    );
}

#[tokio::test]
async fn the_demo_shows_a_denial_as_an_outcome_not_a_failed_request() {
    // Arrange: alice starts the demo's flow; bob denies.
    let app = demo_app().await;
    let alice = browser();
    let start = app
        .get(&alice, "/demo/start?scope=openid+profile+payments:write")
        .await;
    let request_id = app
        .sign_in_to_consent_at(&alice, &app.alice, &see_other(&start))
        .await;
    let id = waiting_of(&app.consent(&alice, &request_id, "allow", None).await);
    let bob = app.signed_in(&app.bob).await;
    app.vote(&bob, &id, "deny", Some("not today")).await;
    // Act
    let waiting = app.get(&alice, &format!("/approvals/{id}/waiting")).await;
    let response = app.get(&alice, &see_other(&waiting)).await;
    let callback = see_other_to(&response, &format!("{}/demo/callback?", app.issuer));
    let result = app.get(&alice, &callback).await;
    // Assert
    assert_eq!(result.status(), StatusCode::OK);
    let html = result.text().await.unwrap();
    assert!(html.contains("access_denied"), "{html}");
}
