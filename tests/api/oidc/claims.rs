//! Claims applications can route on (issue 22; OIDC Core §5.1, §5.4): the `groups`
//! scope and claim, custom user attributes released by the scopes that name them, in
//! the ID token, userinfo and the JWT access token (routing claims only there), and
//! listed in discovery.

use countersign::audit::Actor;
use countersign::manage::{self, ClientSpec, ScopeChanges};
use serde_json::json;

use super::support::{jwt_part, oidc_app, tokens_for, AuthRequest, OidcSeed, TestApp, TestClient};

/// `hr` releases department and cost_center; alice is in two groups and has a
/// department; a client may ask for `groups` and `hr`.
fn seed(app: &TestApp<OidcSeed>) -> TestClient {
    for group in ["finance", "approvers"] {
        app.add_group(group);
        app.add_member(group, &app.alice);
    }
    app.add_scope(
        "hr",
        ScopeChanges {
            description: Some("Your department".into()),
            claims: Some(vec!["department".into(), "cost_center".into()]),
            ..ScopeChanges::default()
        },
    );
    manage::set_attribute(
        &app.store,
        "alice",
        "department",
        "Treasury",
        &Actor::Cli,
        app.now(),
    )
    .unwrap();
    app.add_client(ClientSpec {
        name: "Router".into(),
        scopes: ["openid", "profile", "groups", "hr", "offline_access"]
            .map(str::to_owned)
            .to_vec(),
        ..ClientSpec::default()
    })
}

#[tokio::test]
async fn groups_and_attributes_reach_the_id_token_userinfo_and_the_access_token() {
    // Arrange
    let app = oidc_app().await;
    let client = seed(&app);
    let request = AuthRequest::new(&client).set("scope", "openid profile groups hr");
    // Act
    let (_, tokens) = tokens_for(&app, &client, request).await;
    let userinfo: serde_json::Value = app
        .userinfo(&tokens.access_token)
        .await
        .json()
        .await
        .unwrap();
    // Assert
    let id_token = jwt_part(tokens.id_token.as_deref().unwrap(), 1);
    let access = jwt_part(&tokens.access_token, 1);
    for (what, claims) in [
        ("ID token", &id_token),
        ("userinfo", &userinfo),
        ("access token", &access),
    ] {
        assert_eq!(
            claims["groups"],
            json!(["approvers", "finance"]),
            "{what}: {claims}"
        );
        assert_eq!(claims["department"], "Treasury", "{what}: {claims}");
        assert!(
            claims.get("cost_center").is_none(),
            "unset attributes are left out: {claims}"
        );
    }
    assert_eq!(id_token["name"], "Alice Liddell");
    assert!(
        access.get("name").is_none(),
        "no profile data in the access token: {access}"
    );
    assert!(access.get("preferred_username").is_none(), "{access}");
}

#[tokio::test]
async fn a_claim_goes_only_with_a_scope_that_releases_it() {
    // Arrange
    let app = oidc_app().await;
    let client = seed(&app);
    let request = AuthRequest::new(&client).set("scope", "openid profile");
    // Act
    let (_, tokens) = tokens_for(&app, &client, request).await;
    // Assert
    let id_token = jwt_part(tokens.id_token.as_deref().unwrap(), 1);
    assert!(id_token.get("groups").is_none(), "{id_token}");
    assert!(id_token.get("department").is_none(), "{id_token}");
}

#[tokio::test]
async fn discovery_lists_the_claims_the_scopes_release() {
    // Arrange
    let app = oidc_app().await;
    seed(&app);
    // Act
    let metadata: serde_json::Value = app
        .http
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Assert
    let claims = metadata["claims_supported"].as_array().unwrap();
    for claim in ["groups", "department", "cost_center", "sub", "approval"] {
        assert!(claims.contains(&json!(claim)), "{claim} in {claims:?}");
    }
    let scopes = metadata["scopes_supported"].as_array().unwrap();
    assert!(scopes.contains(&json!("groups")), "{scopes:?}");
}

#[tokio::test]
async fn no_scope_or_attribute_may_pass_for_a_protocol_claim() {
    // Arrange
    let app = oidc_app().await;
    let forged_scope = ScopeChanges {
        description: Some("Forged".into()),
        claims: Some(vec!["iss".into()]),
        ..ScopeChanges::default()
    };
    // Act
    let scope = manage::add_scope(&app.store, "forged", forged_scope, &Actor::Cli, app.now());
    let attributes: Vec<_> = ["approval", "email", "groups", "sub", "bad name"]
        .iter()
        .map(|name| manage::set_attribute(&app.store, "alice", name, "x", &Actor::Cli, app.now()))
        .collect();
    // Assert
    let error = scope.expect_err("a scope releasing iss is refused");
    assert!(error.to_string().contains("set by the protocol"), "{error}");
    assert!(attributes.iter().all(Result::is_err), "{attributes:?}");
}

#[tokio::test]
async fn the_cli_sets_and_removes_attributes_and_audits_both() {
    // Arrange
    let cli = crate::cli::Cli::new();
    let added = cli.run_with_stdin(
        &[
            "user",
            "add",
            "alice",
            "--email",
            "alice@example.com",
            "--password-stdin",
        ],
        "a-long-password-1",
    );
    assert!(added.success(), "{added:?}");
    // Act
    let set = cli.ok(&["user", "set-attr", "alice", "department", "Audit"]);
    let unset = cli.ok(&["user", "unset-attr", "alice", "department"]);
    let again = cli.ok(&["user", "unset-attr", "alice", "department"]);
    // Assert
    assert_eq!(set.trim(), "set department of alice");
    assert_eq!(unset.trim(), "removed department of alice");
    assert_eq!(again.trim(), "alice has no attribute department");
    let exported = cli.ok(&["audit", "export"]);
    assert_eq!(
        exported.matches("user.attribute_set").count(),
        2,
        "{exported}"
    );
}
