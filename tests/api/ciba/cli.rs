//! `countersign action-type …` and the CIBA flags of `client add`: what a typo or a
//! bad schema gets, and what a good registration prints.

use std::io::Write;

use crate::approval::support::approval_app;

#[tokio::test]
async fn an_action_type_is_registered_from_a_schema_file_and_bad_ones_are_refused() {
    // Arrange
    let app = approval_app().await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("payment.json");
    let bad = dir.path().join("bad.json");
    std::fs::File::create(&good)
        .unwrap()
        .write_all(super::support::payment_schema().to_string().as_bytes())
        .unwrap();
    std::fs::write(&bad, r#"{"type": "no-such-json-type"}"#).unwrap();
    let (good, bad) = (good.to_str().unwrap(), bad.to_str().unwrap());
    // Act
    let created = app.cli_ok(&[
        "action-type",
        "add",
        "payment",
        "--description",
        "A payment",
        "--schema",
        good,
        "--policy-scope",
        "payments:write",
    ]);
    let invalid = app.cli(&[
        "action-type",
        "add",
        "refund",
        "--description",
        "A refund",
        "--schema",
        bad,
        "--policy-scope",
        "payments:write",
    ]);
    let not_sensitive = app.cli(&[
        "action-type",
        "add",
        "report",
        "--description",
        "A report",
        "--schema",
        good,
        "--policy-scope",
        "email",
    ]);
    let updated = app.cli_ok(&["action-type", "update", "payment", "--description", "Pay"]);
    let cleartext_hook = app.cli(&[
        "action-type",
        "update",
        "payment",
        "--hook",
        "http://risk.example/decide",
    ]);
    let listed = app.cli_ok(&["action-type", "list", "--json"]);
    // Assert
    assert_eq!(
        created,
        "created action type payment (approved under scope payments:write)\n"
    );
    assert!(!invalid.status.success());
    assert!(
        String::from_utf8_lossy(&invalid.stderr).contains("not a JSON Schema"),
        "{}",
        String::from_utf8_lossy(&invalid.stderr)
    );
    assert!(String::from_utf8_lossy(&not_sensitive.stderr).contains("is not sensitive"));
    assert_eq!(updated, "updated action type payment (version 2)\n");
    assert!(
        String::from_utf8_lossy(&cleartext_hook.stderr).contains("must be an https URL"),
        "{}",
        String::from_utf8_lossy(&cleartext_hook.stderr)
    );
    let list: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(
        list[0]["schema"]["properties"]["currency"]["enum"][0],
        "EUR"
    );
    assert_eq!(app.events("action_type.created").len(), 1);
    assert_eq!(app.events("action_type.updated").len(), 1);
}

#[tokio::test]
async fn client_add_checks_the_ciba_settings() {
    // Arrange
    let app = approval_app().await;
    let ciba = "urn:openid:params:grant-type:ciba";
    // Act
    let ping_without_endpoint = app.cli(&[
        "client",
        "add",
        "--name",
        "Agent",
        "--scope",
        "openid",
        "--grant-type",
        ciba,
        "--backchannel-delivery-mode",
        "ping",
    ]);
    let public = app.cli(&[
        "client",
        "add",
        "--name",
        "Agent",
        "--scope",
        "openid",
        "--grant-type",
        ciba,
        "--public",
    ]);
    let ping = app.cli_ok(&[
        "client",
        "add",
        "--name",
        "Agent",
        "--scope",
        "openid",
        "--grant-type",
        ciba,
        "--backchannel-delivery-mode",
        "ping",
        "--backchannel-notification-endpoint",
        "https://agent.example/cb",
        "--json",
    ]);
    // Assert
    let stderr = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(stderr(&ping_without_endpoint).contains("needs --backchannel-notification-endpoint"));
    assert!(
        stderr(&public).contains("cannot use CIBA"),
        "{}",
        stderr(&public)
    );
    let created: serde_json::Value = serde_json::from_str(&ping).unwrap();
    assert!(created["client_secret"].is_string());
}
