//! The countersigned authorize flow end to end (DESIGN.md §5.1): the approve path and
//! its evidence in the tokens, denial, expiry, cancellation, `prompt=none`, single use
//! of an approval, and a restart while pending.

use openidconnect::core::{
    CoreClient, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreResponseType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    IdToken, IssuerUrl, Nonce, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::client::{jwt_payload, refused, see_other, waiting_of};
use super::support::{approval_app, browser, REDIRECT_URI, SCOPES, SENSITIVE};

/// The `approval` claim the tokens of this approval must carry.
fn expected_claim(approval_id: &str, approvers: &[&str], approved_at: i64) -> Value {
    json!({
        "id": approval_id,
        "approvers": approvers,
        // Signed in by password on the page, no second factor asked (issue 18).
        "proofs": approvers.iter().map(|sub| json!({"sub": sub, "amr": ["pwd"]})).collect::<Vec<_>>(),
        "approved_at": approved_at,
        "access_until": approved_at + 3600,
    })
}

#[tokio::test]
async fn tokens_are_issued_only_after_a_group_approver_approves() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let waiting = app.waiting_page(&alice, &id).await;
    assert!(waiting.contains("pending"), "the waiting page says pending");
    let before = app.status_json(&alice, &id).await;
    assert_eq!(before["state"], "pending");
    assert_eq!(
        before["expires_at"],
        app.now() + 15 * 60,
        "the default pending TTL"
    );
    assert!(before.get("continue_url").is_none(), "{before}");
    let still_waiting = app
        .get(
            &alice,
            &format!("/authorize/continue?request={}", pending.request_id),
        )
        .await;
    assert_eq!(waiting_of(&still_waiting), id, "no code while pending");
    let bob = app.signed_in(&app.bob).await;
    assert!(app.inbox(&bob).await.contains(&format!("/approvals/{id}")));
    // Act
    app.approve(&bob, &id).await;
    let approved_at = app.now();
    let decided = app.status_json(&alice, &id).await;
    let response = app.continue_after_decision(&alice, &pending).await;
    let code = app.code_of(&response);
    let tokens = app.exchange(&code).await;
    // Assert
    assert_eq!(decided["state"], "approved");
    assert_eq!(
        decided["continue_url"],
        format!("/authorize/continue?request={}", pending.request_id)
    );
    let claim = expected_claim(&id, &[&app.bob.id], approved_at);
    let id_token = jwt_payload(tokens.id_token.as_deref().expect("an ID token"));
    assert_eq!(id_token["sub"], app.alice.id.as_str());
    assert_eq!(id_token["approval"], claim, "ID token {id_token}");
    let access = jwt_payload(&tokens.access_token);
    assert_eq!(access["approval"], claim, "access token {access}");
    assert!(access["scope"].as_str().unwrap().contains(SENSITIVE));
    assert!(access["exp"].as_i64().unwrap() <= claim["access_until"].as_i64().unwrap());
    let introspection = app.introspect(&tokens.access_token).await;
    assert_eq!(introspection["active"], true, "{introspection}");
    assert_eq!(introspection["approval"], claim, "{introspection}");
    assert!(
        !app.inbox(&bob).await.contains(&format!("/approvals/{id}")),
        "a decided request leaves the inbox"
    );
}

/// The ID token's extra claim, as an RP library reads it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Countersigned {
    approval: Value,
}

impl AdditionalClaims for Countersigned {}

type CountersignedIdToken = IdToken<
    Countersigned,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

#[tokio::test]
async fn the_approval_claim_verifies_with_an_unmodified_rp_library() {
    // Arrange: the RP is configured from discovery only, with PKCE S256 and a nonce.
    let app = approval_app().await;
    let http = app.http.clone();
    let issuer = IssuerUrl::new(app.issuer.as_str().to_owned()).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .expect("discovery");
    let rp = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(app.client.client_id.clone()),
        app.client.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new(SENSITIVE.into()))
        .set_pkce_challenge(challenge)
        .url();
    let alice = browser();
    let request_id = app
        .sign_in_to_consent_at(&alice, &app.alice, url.as_str())
        .await;
    let response = app.consent(&alice, &request_id, "allow", None).await;
    let approval_id = waiting_of(&response);
    let bob = app.signed_in(&app.bob).await;
    app.approve(&bob, &approval_id).await;
    let response = app
        .get(&alice, &format!("/approvals/{approval_id}/waiting"))
        .await;
    let response = app.get(&alice, &see_other(&response)).await;
    let location = url::Url::parse(&see_other(&response)).unwrap();
    let params: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(params.get("state"), Some(state.secret()));
    assert_eq!(
        params.get("iss").map(String::as_str),
        Some(app.issuer.as_str())
    );
    // Act
    let tokens = rp
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("the library exchanges the code");
    let raw = tokens.id_token().expect("an ID token").to_string();
    let id_token: CountersignedIdToken = raw.parse().expect("an ID token with an approval");
    let claims = id_token
        .claims(&rp.id_token_verifier(), &nonce)
        .expect("the library verifies the ID token");
    // Assert
    assert_eq!(claims.subject().as_str(), app.alice.id);
    let approval = &claims.additional_claims().approval;
    assert_eq!(approval["id"], approval_id.as_str());
    assert_eq!(approval["approvers"], json!([app.bob.id]));
    assert_eq!(approval["approved_at"], app.now());
    assert_eq!(approval["access_until"], app.now() + 3600);
}

#[tokio::test]
async fn a_denial_needs_a_comment_and_sends_the_user_back_with_access_denied() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let carol = app.signed_in(&app.carol).await;
    // Act
    let without_comment = app.vote(&carol, &id, "deny", None).await;
    let blank_comment = app.vote(&carol, &id, "deny", Some("   ")).await;
    let after_refusals = app.status_json(&alice, &id).await;
    let denial = app
        .vote(&carol, &id, "deny", Some("Payments are frozen this week"))
        .await;
    // Assert
    let page = refused(without_comment, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(page.contains("comment"), "the page says why: {page}");
    refused(blank_comment, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        after_refusals["state"], "pending",
        "a refused denial changes nothing"
    );
    assert_eq!(see_other(&denial), format!("/approvals/{id}"));
    let status = app.status_json(&alice, &id).await;
    assert_eq!(status["state"], "denied");
    assert_eq!(status["comment"], "Payments are frozen this week");
    assert!(status["continue_url"].is_string(), "{status}");
    let response = app.continue_after_decision(&alice, &pending).await;
    let description = app.error_of(&response, "access_denied");
    assert!(description.contains("denied"), "{description}");
}

#[tokio::test]
async fn an_approval_nobody_decides_expires_and_the_user_is_told_so() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let bob = app.signed_in(&app.bob).await;
    let csrf = app.csrf(&bob).await;
    // Act: the default pending TTL is 15 minutes; no sweep has to run.
    app.clock.advance(15 * 60 + 1);
    let status = app.status_json(&alice, &id).await;
    let late_vote = app.post_vote(&bob, &id, &csrf, "approve", None).await;
    let response = app.continue_after_decision(&alice, &pending).await;
    // Assert
    assert_eq!(status["state"], "expired");
    refused(late_vote, StatusCode::CONFLICT).await;
    let description = app.error_of(&response, "access_denied");
    assert!(description.contains("expired"), "{description}");
    assert!(!app.inbox(&bob).await.contains(&id));
}

#[tokio::test]
async fn the_requester_may_cancel_a_pending_request_and_nobody_else_may() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let waiting = app.waiting_page(&alice, &id).await;
    let csrf = super::client::hidden_input(&waiting, "csrf_token").expect("a cancel form");
    assert!(waiting.contains(&format!("action=\"/approvals/{id}/cancel\"")));
    let bob = app.signed_in(&app.bob).await;
    let bob_csrf = app.csrf(&bob).await;
    // Act
    let by_bob = app
        .post(
            &bob,
            &format!("/approvals/{id}/cancel"),
            &[("csrf_token", &bob_csrf)],
        )
        .await;
    let still = app.status_json(&alice, &id).await;
    let by_alice = app
        .post(
            &alice,
            &format!("/approvals/{id}/cancel"),
            &[("csrf_token", &csrf)],
        )
        .await;
    // Assert
    refused(by_bob, StatusCode::NOT_FOUND).await;
    assert_eq!(still["state"], "pending");
    assert_eq!(see_other(&by_alice), format!("/approvals/{id}/waiting"));
    assert_eq!(app.status_json(&alice, &id).await["state"], "cancelled");
    let late_vote = app.post_vote(&bob, &id, &bob_csrf, "approve", None).await;
    refused(late_vote, StatusCode::CONFLICT).await;
    let response = app.continue_after_decision(&alice, &pending).await;
    let description = app.error_of(&response, "access_denied");
    assert!(description.contains("cancelled"), "{description}");
}

#[tokio::test]
async fn prompt_none_with_a_sensitive_scope_is_interaction_required() {
    // Arrange
    let app = approval_app().await;
    let alice = app.signed_in(&app.alice).await;
    // Act
    let signed_in = app.authorize(&alice, SCOPES, &[("prompt", "none")]).await;
    let anonymous = app
        .authorize(&browser(), SCOPES, &[("prompt", "none")])
        .await;
    // Assert
    for response in [signed_in, anonymous] {
        let description = app.error_of(&response, "interaction_required");
        assert!(description.contains("countersignature"), "{description}");
    }
    assert!(
        app.events("approval.requested").is_empty(),
        "no approval was created"
    );
}

#[tokio::test]
async fn a_redeemed_approval_cannot_be_replayed_and_the_same_request_needs_a_new_one() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending, _) = app.approved_tokens().await;
    // Act
    let replay = app
        .get(
            &alice,
            &format!("/authorize/continue?request={}", pending.request_id),
        )
        .await;
    let again = app.authorize(&alice, SCOPES, &[]).await;
    // Assert
    let page = refused(replay, StatusCode::BAD_REQUEST).await;
    assert!(!page.contains("code="), "no second code");
    let new_id = waiting_of(&again);
    assert_ne!(new_id, pending.approval_id, "a new approval");
    assert_eq!(app.status_json(&alice, &new_id).await["state"], "pending");
    assert_eq!(
        app.status_json(&alice, &pending.approval_id).await["state"],
        "redeemed"
    );
    assert_eq!(
        app.events("token.issued").len(),
        1,
        "one code, one exchange"
    );
}

#[tokio::test]
async fn a_pending_approval_survives_a_restart_and_the_flow_completes_on_the_new_instance() {
    // Arrange
    let mut app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    // Act
    let old_issuer = app.restart().await;
    let bob = app.signed_in(&app.bob).await;
    app.approve(&bob, &pending.approval_id).await;
    let response = app.continue_after_decision(&alice, &pending).await;
    let code = app.code_of(&response);
    let tokens = app.exchange(&code).await;
    // Assert
    assert!(
        app.http
            .get(format!("{old_issuer}/healthz"))
            .send()
            .await
            .is_err(),
        "the first instance is stopped"
    );
    let claims = jwt_payload(tokens.id_token.as_deref().unwrap());
    assert_eq!(claims["iss"], app.issuer.as_str());
    assert_eq!(claims["approval"]["id"], pending.approval_id.as_str());
    assert_eq!(claims["approval"]["approvers"], json!([app.bob.id]));
}

#[tokio::test]
async fn another_user_cannot_continue_someone_elses_approved_request() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let bob = app.signed_in(&app.bob).await;
    app.approve(&bob, &pending.approval_id).await;
    let resume = format!("/authorize/continue?request={}", pending.request_id);
    // Act
    let by_bob = app.get(&bob, &resume).await;
    let by_alice = app.continue_after_decision(&alice, &pending).await;
    // Assert
    let page = refused(by_bob, StatusCode::BAD_REQUEST).await;
    assert!(!page.contains("code="), "no code for bob");
    let code = app.code_of(&by_alice);
    let tokens = app.exchange(&code).await;
    let claims = jwt_payload(tokens.id_token.as_deref().unwrap());
    assert_eq!(
        claims["sub"],
        app.alice.id.as_str(),
        "the approval is bound to alice"
    );
}

#[tokio::test]
async fn the_background_sweep_expires_an_undecided_approval_by_itself() {
    // Arrange
    let app = approval_app().await;
    let (_alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    app.clock.advance(15 * 60 + 1);
    // Act: one pass of the sweep `serve` runs every 30 s; nobody reads the approval.
    let looked_at = countersign::startup::sweep_once(&app.store, app.now()).unwrap();
    // Assert
    assert_eq!(looked_at, 1);
    let row = app
        .store
        .read(|c| {
            countersign::store::approval_by_id(c, &countersign::ids::ApprovalId::new(id.as_str()))
        })
        .unwrap()
        .unwrap();
    assert_eq!(row.state.as_str(), "expired");
    let expired = app.events("approval.expired");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].actor, "system");
}
