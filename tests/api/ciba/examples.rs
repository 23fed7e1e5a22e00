//! The example payment API (examples/payment_api.rs) against real tokens of the test
//! app: its decision module (RFC 9068 verification with the keys discovery names, the
//! RFC 9396 check that a token's `authorization_details` approve exactly the payment
//! asked for, one payment per approval), then the server itself in-process (README
//! "Just-in-time action approval"; issue 20 item 6).

/// The example server, with its decision module `payment_api::authorize` (its `main`
/// and options stay unused here).
#[allow(dead_code)]
#[path = "../../../examples/payment_api.rs"]
mod payment_api;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use payment_api::authorize::{self, Ledger, Payment, Refusal};
use serde_json::{json, Value};

use super::support::{ciba_setup, payment, ApprovalSeed, TestApp, SENSITIVE};
use crate::approval::support::approval_app;
use crate::helpers::{jwt_part, tokens_of, Tokens};

/// A payment as the API would receive it.
fn asked(amount: Value, currency: &str, creditor: &str) -> Payment {
    serde_json::from_value(json!({"amount": amount, "currency": currency, "creditor": creditor}))
        .unwrap()
}

/// The keys the issuer's discovery document names, as the payment API fetches them.
async fn issuer_keys(app: &TestApp<ApprovalSeed>) -> JwkSet {
    let discovery: Value = app
        .http
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    app.http
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The agent asks with `form` (for alice), bob approves, the agent polls the tokens.
async fn approved_tokens(app: &TestApp<ApprovalSeed>, form: &[(&str, &str)]) -> Tokens {
    let agent = ciba_setup(app, None);
    let mut all = vec![("login_hint", "alice")];
    all.extend_from_slice(form);
    let (auth_req_id, _) = super::support::acknowledged(app.bc_authorize(&agent, &all).await).await;
    app.bob_decides(&app.last_approval_id(), "approve").await;
    tokens_of(app.poll(&agent, &auth_req_id).await).await
}

async fn approved_payment_tokens(app: &TestApp<ApprovalSeed>) -> Tokens {
    let details = payment().to_string();
    approved_tokens(
        app,
        &[
            ("authorization_details", &details),
            ("binding_message", super::support::BINDING),
        ],
    )
    .await
}

fn insufficient<T: std::fmt::Debug>(result: Result<T, Refusal>) -> Refusal {
    let refusal = result.unwrap_err();
    assert!(
        matches!(refusal, Refusal::InsufficientDetails(_)),
        "{refusal:?}"
    );
    assert_eq!(refusal.status(), 403);
    assert!(
        refusal
            .challenge()
            .starts_with(r#"Bearer error="insufficient_authorization_details""#),
        "{}",
        refusal.challenge()
    );
    refusal
}

#[tokio::test]
async fn the_token_for_the_approved_payment_authorizes_exactly_that_payment() {
    // Arrange
    let app = approval_app().await;
    let tokens = approved_payment_tokens(&app).await;
    let keys = issuer_keys(&app).await;
    // Act
    let claims = authorize::verify(&tokens.access_token, &keys, &app.issuer, app.now()).unwrap();
    let decide = |amount: Value, currency: &str, creditor: &str| {
        authorize::authorizes(&claims, &asked(amount, currency, creditor))
    };
    // Assert
    assert_eq!(claims["approval"]["approvers"][0], app.bob.id);
    assert_eq!(decide(json!(4500), "EUR", "ACME GmbH"), Ok(0));
    assert_eq!(
        decide(json!(4500.0), "EUR", "ACME GmbH"),
        Ok(0),
        "amounts compare as JSON numbers"
    );
    for (amount, currency, creditor) in [
        (json!(4501), "EUR", "ACME GmbH"),
        (json!(4500.01), "EUR", "ACME GmbH"),
        (json!(450), "EUR", "ACME GmbH"),
        (json!(4500), "EUR", "ACME Ltd"),
        (json!(4500), "EUR", "acme gmbh"),
        (json!(4500), "USD", "ACME GmbH"),
    ] {
        let refusal = insufficient(decide(amount.clone(), currency, creditor));
        assert_eq!(
            refusal.description(),
            "the token approves another payment (amount, currency or creditor differ)",
            "{amount} {currency} {creditor}"
        );
    }
    // The 403's remediation is exactly what the agent asked for.
    assert_eq!(
        asked(json!(4500), "EUR", "ACME GmbH").as_details(),
        payment()
    );
}

#[tokio::test]
async fn a_token_without_authorization_details_authorizes_no_payment() {
    // Arrange: an approved CIBA request for the sensitive scope alone
    let app = approval_app().await;
    let scope = format!("openid {SENSITIVE}");
    let tokens = approved_tokens(&app, &[("scope", &scope)]).await;
    let keys = issuer_keys(&app).await;
    // Act
    let claims = authorize::verify(&tokens.access_token, &keys, &app.issuer, app.now()).unwrap();
    let refusal = insufficient(authorize::authorizes(
        &claims,
        &asked(json!(4500), "EUR", "ACME GmbH"),
    ));
    // Assert
    assert!(claims["approval"].is_object(), "approved, but for a scope");
    assert!(claims.get("authorization_details").is_none());
    assert_eq!(
        refusal.description(),
        "the token carries no authorization_details"
    );
    // Details of another type approve no payment either.
    let other = json!({"authorization_details": [{"type": "transfer", "amount": 4500}]});
    let refusal = insufficient(authorize::authorizes(
        &other,
        &asked(json!(4500), "EUR", "ACME GmbH"),
    ));
    assert_eq!(refusal.description(), "the token approves no payment");
}

#[tokio::test]
async fn only_an_unexpired_access_token_of_the_issuer_verifies() {
    // Arrange
    let app = approval_app().await;
    let tokens = approved_payment_tokens(&app).await;
    let keys = issuer_keys(&app).await;
    let access = tokens.access_token.as_str();
    let exp = jwt_part(access, 1)["exp"].as_i64().unwrap();
    // the same token with a bigger amount, its signature unchanged
    let forged = {
        let mut claims = jwt_part(access, 1);
        claims["authorization_details"][0]["amount"] = json!(45000);
        let parts: Vec<&str> = access.split('.').collect();
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        format!("{}.{payload}.{}", parts[0], parts[2])
    };
    let verify = |token: &str, issuer: &str, now: i64| {
        authorize::verify(token, &keys, issuer, now).map(|_| ())
    };
    // Act and assert
    assert_eq!(
        authorize::key_id(access).as_deref(),
        jwt_part(access, 0)["kid"].as_str()
    );
    assert_eq!(verify(access, &app.issuer, exp - 1), Ok(()));
    for (token, issuer, now, why) in [
        (access, app.issuer.as_str(), exp, "the token has expired"),
        (
            tokens.id_token.as_deref().unwrap(),
            app.issuer.as_str(),
            app.now(),
            "not an access token (typ is not at+jwt)",
        ),
        (
            access,
            "https://other.example",
            app.now(),
            "the token does not verify: InvalidIssuer",
        ),
        (
            forged.as_str(),
            app.issuer.as_str(),
            app.now(),
            "the token does not verify: InvalidSignature",
        ),
        ("not a token", app.issuer.as_str(), app.now(), "not a JWT"),
    ] {
        let refusal = verify(token, issuer, now).unwrap_err();
        assert_eq!(refusal, Refusal::InvalidToken(why.into()));
        assert_eq!(refusal.status(), 401);
        assert_eq!(refusal.error(), "invalid_token");
        assert!(refusal
            .challenge()
            .starts_with(r#"Bearer error="invalid_token""#));
    }
    assert_eq!(
        authorize::verify(access, &JwkSet { keys: vec![] }, &app.issuer, app.now()),
        Err(Refusal::InvalidToken(
            "the token's key is not in the issuer's JWKS".into()
        ))
    );
}

#[tokio::test]
async fn an_approval_pays_once_for_as_long_as_its_tokens_live() {
    // Arrange
    let app = approval_app().await;
    let tokens = approved_payment_tokens(&app).await;
    let keys = issuer_keys(&app).await;
    let claims = authorize::verify(&tokens.access_token, &keys, &app.issuer, app.now()).unwrap();
    let until = claims["approval"]["access_until"].as_i64().unwrap();
    let mut ledger = Ledger::default();
    // Act
    let first = ledger.spend(&claims, 0, app.now());
    let again = ledger.spend(&claims, 0, app.now() + 1);
    let another_entry = ledger.spend(&claims, 1, app.now() + 1);
    // Assert
    assert_eq!(first, Ok(()));
    let refusal = insufficient(again);
    assert_eq!(
        refusal.description(),
        "this approval has already paid this payment"
    );
    assert_eq!(another_entry, Ok(()), "entries are spent one by one");
    // The ledger forgets the approval only once none of its tokens verifies any more.
    assert!(claims["exp"].as_i64().unwrap() <= until);
    assert_eq!(
        authorize::verify(&tokens.access_token, &keys, &app.issuer, until),
        Err(Refusal::InvalidToken("the token has expired".into()))
    );
}

#[tokio::test]
async fn the_payment_api_pays_the_approved_payment_once_and_says_why_it_refuses() {
    use actix_web::{http::header, test, web, App};

    // Arrange: the server checks `exp` on the system clock, where the app's clock starts
    let app = approval_app().await;
    let tokens = approved_payment_tokens(&app).await;
    let api = payment_api::Api::discover(&app.issuer).await.unwrap();
    let server = test::init_service(
        App::new()
            .app_data(web::Data::new(api))
            .configure(payment_api::routes),
    )
    .await;
    let pay = |token: Option<&str>, body: Value| {
        let mut request = test::TestRequest::post().uri("/payments").set_json(body);
        if let Some(token) = token {
            request = request.insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
        }
        request.to_request()
    };
    let acme = json!({"amount": 4500, "currency": "EUR", "creditor": "ACME GmbH"});
    let more = json!({"amount": 4501, "currency": "EUR", "creditor": "ACME GmbH"});
    let token = Some(tokens.access_token.as_str());
    // Act
    let without = test::call_service(&server, pay(None, acme.clone())).await;
    let id_token = test::call_service(&server, pay(tokens.id_token.as_deref(), acme.clone())).await;
    let too_much = test::call_service(&server, pay(token, more)).await;
    let paid = test::call_service(&server, pay(token, acme.clone())).await;
    let twice = test::call_service(&server, pay(token, acme)).await;
    // Assert
    let challenge = |response: &actix_web::dev::ServiceResponse| {
        response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(without.status(), 401);
    assert_eq!(challenge(&without), r#"Bearer realm="payments""#);
    assert_eq!(id_token.status(), 401);
    assert!(challenge(&id_token).starts_with(r#"Bearer error="invalid_token""#));
    assert_eq!(too_much.status(), 403);
    assert!(
        challenge(&too_much).starts_with(r#"Bearer error="insufficient_authorization_details""#)
    );
    let remedy: Value = test::read_body_json(too_much).await;
    assert_eq!(
        remedy["authorization_details"],
        json!([{"type": "payment", "amount": 4501, "currency": "EUR", "creditor": "ACME GmbH"}]),
        "the 403 says what to ask for"
    );
    assert_eq!(paid.status(), 201);
    let receipt: Value = test::read_body_json(paid).await;
    assert_eq!(receipt["approvers"], json!([app.bob.id]));
    assert_eq!(twice.status(), 403, "an approval pays once");
}
