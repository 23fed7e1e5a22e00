//! Discovery (OIDC Discovery §3, RFC 8414), the JWK Set (RFC 7517), HEAD on every GET
//! route (RFC 9110 §9.1) and key rotation without downtime (DESIGN.md §7, §8).

use std::time::Duration;

use countersign::audit::Actor;
use countersign::crypto::{KeyRing, Sealer};
use countersign::manage::{self, ScopeChanges};
use openidconnect::Nonce;
use reqwest::{header, Method, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};

use super::rp::{id_token, Rp};
use super::support::{
    browser, jwt_part, login, login_and_consent, oidc_app, redirect_params, see_other_to, sign_in,
    tokens_for, AuthRequest, OidcSeed, TestApp, PASSWORD,
};
use crate::helpers::TEST_SECRET_KEY;

async fn fetch_json(app: &TestApp<OidcSeed>, path: &str) -> Value {
    let response = app.http.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn discovery_lists_every_member_the_design_requires() {
    // Arrange: one sensitive scope, which discovery must name.
    let app = oidc_app().await;
    manage::add_group(&app.store, "approvers", &Actor::Cli, app.now()).unwrap();
    let sensitive = ScopeChanges {
        description: Some("Move money".into()),
        sensitive: Some(true),
        approver_groups: Some(vec!["approvers".into()]),
        ..ScopeChanges::default()
    };
    manage::add_scope(
        &app.store,
        "payments.write",
        sensitive,
        &Actor::Cli,
        app.now(),
    )
    .unwrap();
    // Act
    let doc = fetch_json(&app, "/.well-known/openid-configuration").await;
    // Assert
    assert_eq!(
        doc["issuer"], app.issuer,
        "exactly as configured, no trailing /"
    );
    let endpoints = [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/jwks.json"),
        ("end_session_endpoint", "/logout"),
        ("introspection_endpoint", "/introspect"),
        ("revocation_endpoint", "/revoke"),
    ];
    for (member, path) in endpoints {
        assert_eq!(doc[member], app.url(path), "{member}");
    }
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    for mode in ["query", "form_post"] {
        assert!(strings(&doc["response_modes_supported"]).contains(&mode));
    }
    for grant in ["authorization_code", "refresh_token", "client_credentials"] {
        assert!(strings(&doc["grant_types_supported"]).contains(&grant));
    }
    assert!(strings(&doc["subject_types_supported"]).contains(&"public"));
    assert!(strings(&doc["id_token_signing_alg_values_supported"]).contains(&"RS256"));
    let scopes = strings(&doc["scopes_supported"]);
    for scope in [
        "openid",
        "profile",
        "email",
        "offline_access",
        "payments.write",
    ] {
        assert!(scopes.contains(&scope), "{scope}");
    }
    for claim in ["sub", "name", "email", "auth_time", "nonce"] {
        assert!(
            strings(&doc["claims_supported"]).contains(&claim),
            "{claim}"
        );
    }
    let token_auth = strings(&doc["token_endpoint_auth_methods_supported"]);
    for method in ["client_secret_basic", "client_secret_post", "none"] {
        assert!(token_auth.contains(&method), "{method}");
    }
    assert!(!strings(&doc["introspection_endpoint_auth_methods_supported"]).is_empty());
    assert!(!strings(&doc["revocation_endpoint_auth_methods_supported"]).is_empty());
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(doc["request_parameter_supported"], false);
    assert_eq!(doc["request_uri_parameter_supported"], false);
    assert_eq!(
        doc["countersign_sensitive_scopes_supported"],
        json!(["payments.write"])
    );
}

#[tokio::test]
async fn the_oauth_metadata_document_matches_the_openid_one() {
    // Arrange
    let app = oidc_app().await;
    // Act
    let oidc = fetch_json(&app, "/.well-known/openid-configuration").await;
    let oauth = fetch_json(&app, "/.well-known/oauth-authorization-server").await;
    // Assert
    assert_eq!(oauth["issuer"], oidc["issuer"]);
    assert_eq!(oauth["token_endpoint"], oidc["token_endpoint"]);
    assert_eq!(
        oauth["authorization_endpoint"],
        oidc["authorization_endpoint"]
    );
}

#[tokio::test]
async fn every_advertised_endpoint_answers() {
    // Arrange
    let app = oidc_app().await;
    let doc = fetch_json(&app, "/.well-known/openid-configuration").await;
    let calls = [
        ("authorization_endpoint", Method::GET),
        ("token_endpoint", Method::POST),
        ("userinfo_endpoint", Method::GET),
        ("jwks_uri", Method::GET),
        ("end_session_endpoint", Method::GET),
        ("introspection_endpoint", Method::POST),
        ("revocation_endpoint", Method::POST),
    ];
    for (member, method) in calls {
        let url = doc[member].as_str().unwrap();
        // Act
        let response = app
            .http
            .request(method.clone(), url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .send()
            .await
            .unwrap();
        // Assert: a protocol answer, never 404 or 405
        let status = response.status();
        assert!(
            !matches!(
                status,
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
            ) && !status.is_server_error(),
            "{member} ({method} {url}) answered {status}"
        );
    }
}

#[tokio::test]
async fn the_jwks_publishes_rsa_keys_with_kid_n_and_e() {
    // Arrange
    let app = oidc_app().await;
    let (_, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    // Act
    let jwks = fetch_json(&app, "/jwks.json").await;
    // Assert: every key names itself; RS256 keys are RSA with n and e; nothing private.
    let keys = jwks["keys"].as_array().expect("keys");
    for key in keys {
        assert!(key["kid"].as_str().is_some_and(|v| !v.is_empty()), "{key}");
        assert!(key["kty"].is_string(), "{key}");
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(key.get(private).is_none(), "never {private}: {key}");
        }
    }
    let rsa: Vec<&Value> = keys.iter().filter(|k| k["alg"] == "RS256").collect();
    assert!(!rsa.is_empty(), "RS256 is required (OIDC Core 15.1)");
    for key in rsa {
        assert_eq!(key["kty"], "RSA", "{key}");
        for member in ["n", "e"] {
            assert!(
                key[member].as_str().is_some_and(|v| !v.is_empty()),
                "{member}: {key}"
            );
        }
    }
    let kid = &jwt_part(&tokens.id_token.unwrap(), 0)["kid"];
    assert!(
        keys.iter().any(|k| &k["kid"] == kid),
        "the signing key is published"
    );
}

/// HEAD `path`: 200 and no body.
async fn assert_head_ok(app: &TestApp<OidcSeed>, client: &reqwest::Client, path: &str) {
    let response = client.head(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "HEAD {path}");
    assert!(
        response.bytes().await.unwrap().is_empty(),
        "HEAD {path} has no body"
    );
}

#[tokio::test]
async fn every_page_and_document_route_answers_head_with_200() {
    // Arrange
    let app = oidc_app().await;
    let paths = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/jwks.json",
        "/login",
        "/logout",
        "/",
        "/static/style.css",
        "/static/form_post.js",
        "/static/favicon.svg",
    ];
    for path in paths {
        // Act + Assert
        assert_head_ok(&app, &browser(), path).await;
    }
}

#[tokio::test]
async fn authorize_and_its_continuation_answer_head_like_get() {
    // Arrange: alice consented once; form_post answers 200 with the form.
    let app = oidc_app().await;
    let (signed_in, _) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let form_post = AuthRequest::new(&app.rp).set("response_mode", "form_post");
    let fresh = browser();
    let response = app.get(&fresh, &form_post.path()).await;
    let login_path = see_other_to(&response, "/login?request=");
    let response = login(&app, &fresh, &login_path, "alice", PASSWORD).await;
    let resume = see_other_to(&response, "/authorize/continue?request=");
    // Act + Assert
    assert_head_ok(&app, &signed_in, &form_post.path()).await;
    assert_head_ok(&app, &fresh, &resume).await;
}

#[tokio::test]
async fn the_consent_page_answers_head_with_200() {
    // Arrange: signed in, not yet consented.
    let app = oidc_app().await;
    let consenting = browser();
    sign_in(&app, &consenting).await;
    let response = app
        .get(&consenting, &AuthRequest::new(&app.rp).path())
        .await;
    let consent_path = see_other_to(&response, "/consent?request=");
    // Act + Assert
    assert_head_ok(&app, &consenting, &consent_path).await;
}

#[tokio::test]
async fn userinfo_answers_head_with_200() {
    // Arrange
    let app = oidc_app().await;
    let (_, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    // Act
    let response = app
        .http
        .head(app.url("/userinfo"))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .unwrap();
    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn after_key_rotation_old_tokens_still_verify_and_new_ones_use_the_new_key() {
    // Arrange: alice signs in before the rotation.
    let app = oidc_app().await;
    let rp = Rp::discover(&app, &app.rp).await;
    let flow = rp.start(&[]);
    let old_nonce = Nonce::new(flow.nonce.secret().clone());
    let browser = browser();
    let response = login_and_consent(&app, &browser, flow.url.as_str()).await;
    let params = redirect_params(&response);
    let old_tokens = rp.exchange(&params["code"], flow.verifier).await;
    let old_kid = jwt_part(&id_token(&old_tokens).to_string(), 0)["kid"].clone();
    // Act: rotate, then the RP rediscovers and signs alice in again.
    let keys = KeyRing::new(Sealer::new(&SecretString::from(TEST_SECRET_KEY)));
    let rotated = manage::rotate_keys(
        &app.store,
        &keys,
        Duration::from_secs(3600),
        &Actor::Cli,
        app.now(),
    )
    .unwrap();
    let new_kid = json!(
        rotated
            .iter()
            .find(|k| k.alg.as_str() == "RS256")
            .expect("a new RS256 key")
            .kid
    );
    // The rotation ran beside the server (its own key ring): the server notices it
    // within the key cache's refresh bound.
    app.clock.advance(countersign::crypto::KEY_REFRESH_SECONDS);
    let rediscovered = Rp::discover(&app, &app.rp).await;
    let flow = rediscovered.start(&[]);
    let new_nonce = Nonce::new(flow.nonce.secret().clone());
    let response = app.get(&browser, flow.url.as_str()).await;
    let params = redirect_params(&response);
    let new_tokens = rediscovered.exchange(&params["code"], flow.verifier).await;
    // Assert
    let jwks = fetch_json(&app, "/jwks.json").await;
    let kids: Vec<&Value> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["kid"])
        .collect();
    assert!(kids.contains(&&old_kid), "the previous key stays published");
    assert!(kids.contains(&&new_kid));
    rediscovered.verify(&old_tokens, &old_nonce);
    rediscovered.verify(&new_tokens, &new_nonce);
    let signed_with = &jwt_part(&id_token(&new_tokens).to_string(), 0)["kid"];
    assert_eq!(signed_with, &new_kid);
    assert_ne!(signed_with, &old_kid);
    let access_token = openidconnect::OAuth2TokenResponse::access_token(&old_tokens);
    assert_eq!(app.userinfo(access_token.secret()).await.status(), 200);
}

#[tokio::test]
async fn a_scope_added_beside_the_server_is_advertised_within_the_bound() {
    // Arrange: the document is built and kept in memory.
    let app = oidc_app().await;
    let before = fetch_json(&app, "/.well-known/openid-configuration").await;
    assert!(!strings(&before["scopes_supported"]).contains(&"reports.export"));
    // Act: another process (the CLI, another instance) adds a scope.
    let changes = ScopeChanges {
        description: Some("Export reports".into()),
        ..ScopeChanges::default()
    };
    manage::add_scope(
        &app.store,
        "reports.export",
        changes,
        &Actor::Cli,
        app.now(),
    )
    .unwrap();
    let within = fetch_json(&app, "/.well-known/openid-configuration").await;
    app.clock
        .advance(countersign::oidc::memo::METADATA_REFRESH_SECONDS);
    let after = fetch_json(&app, "/.well-known/openid-configuration").await;
    // Assert: served from memory within the bound, rebuilt after it.
    assert_eq!(within, before);
    assert!(strings(&after["scopes_supported"]).contains(&"reports.export"));
}
