//! The admin commands' happy paths: what each prints, and what it stores.

use countersign::manage;
use serde_json::Value;

use super::{seed_client, seed_group, seed_user, Cli};

#[test]
fn users_are_added_listed_disabled_and_given_a_new_password() {
    // Arrange
    let cli = Cli::new();
    // Act
    let added = cli.run_with_stdin(
        &[
            "user",
            "add",
            "alice",
            "--email",
            "alice@example.com",
            "--name",
            "Alice Liddell",
            "--password-stdin",
        ],
        "correct horse battery\nnot the password\n",
    );
    let disabled = cli.ok(&["user", "disable", "alice"]);
    let reset = cli.run_with_stdin(
        &["user", "set-password", "alice", "--password-stdin"],
        "staple battery horse\n",
    );
    let text = cli.ok(&["user", "list"]);
    let json = cli.json(&["user", "list", "--json"]);
    // Assert
    assert!(added.success(), "{}", added.stderr);
    let alice = manage::list_users(&cli.store()).unwrap().remove(0);
    assert_eq!(
        added.stdout,
        format!("created user alice (sub {})\n", alice.id)
    );
    assert_eq!(disabled, "disabled user alice\n");
    assert!(reset.success(), "{}", reset.stderr);
    assert_eq!(reset.stdout, "password set for alice\n");
    assert_eq!(
        text,
        format!(
            "alice\talice@example.com\tAlice Liddell\tdisabled\t{}\n",
            alice.id
        )
    );
    assert_eq!(
        json,
        serde_json::json!([{"username": "alice", "sub": alice.id, "email": "alice@example.com",
            "name": "Alice Liddell", "disabled": true}])
    );
    let hash = alice.password_hash.as_deref();
    assert!(countersign::crypto::verify_password(
        "staple battery horse",
        hash
    ));
    assert!(!countersign::crypto::verify_password(
        "correct horse battery",
        hash
    ));
}

#[test]
fn the_password_is_the_first_line_of_stdin_without_its_newline() {
    // Arrange
    let cli = Cli::new();
    // Act
    let run = cli.run_with_stdin(
        &[
            "user",
            "add",
            "bob",
            "--email",
            "bob@example.com",
            "--password-stdin",
        ],
        "  spaces kept  \r\nsecond line\n",
    );
    // Assert
    assert!(run.success(), "{}", run.stderr);
    let bob = manage::list_users(&cli.store()).unwrap().remove(0);
    let hash = bob.password_hash.as_deref();
    assert!(countersign::crypto::verify_password(
        "  spaces kept  ",
        hash
    ));
    assert_eq!(bob.name, None);
}

#[test]
fn groups_are_created_listed_and_their_members_added_and_removed() {
    // Arrange
    let cli = Cli::new();
    seed_user(&cli.store(), "alice");
    seed_user(&cli.store(), "bob");
    // Act
    let created = cli.ok(&["group", "add", "approvers"]);
    let added_alice = cli.ok(&["group", "add-member", "approvers", "alice"]);
    let added_bob = cli.ok(&["group", "add-member", "approvers", "bob"]);
    let both = cli.ok(&["group", "list"]);
    let removed = cli.ok(&["group", "remove-member", "approvers", "alice"]);
    let json = cli.json(&["group", "list", "--json"]);
    // Assert
    assert_eq!(created, "created group approvers\n");
    assert_eq!(added_alice, "added alice to approvers\n");
    assert_eq!(added_bob, "added bob to approvers\n");
    assert_eq!(both, "approvers\talice,bob\n");
    assert_eq!(removed, "removed alice from approvers\n");
    assert_eq!(
        json,
        serde_json::json!([{"name": "approvers", "members": ["bob"]}])
    );
}

#[test]
fn scopes_are_added_updated_and_listed_with_their_policy() {
    // Arrange
    let cli = Cli::new();
    seed_group(&cli.store(), "finance", &[]);
    seed_group(&cli.store(), "security", &[]);
    // Act
    let created = cli.ok(&[
        "scope",
        "add",
        "payments",
        "--description",
        "Move money",
        "--claims",
        "iban,account",
        "--sensitive",
        "--approvers",
        "finance,security",
        "--quorum",
        "2",
        "--pending-ttl",
        "10m",
        "--access-duration",
        "4s",
        "--require-justification",
        "--approver-max-age",
        "5m",
    ]);
    let plain = cli.ok(&["scope", "add", "reports", "--description", "Read reports"]);
    let updated = cli.ok(&["scope", "update", "payments", "--quorum", "1"]);
    let described = cli.ok(&["scope", "update", "reports", "--description", "Reports"]);
    let text = cli.ok(&["scope", "list"]);
    let json = cli.json(&["scope", "list", "--json"]);
    // Assert
    assert_eq!(created, "created scope payments (sensitive)\n");
    assert_eq!(plain, "created scope reports\n");
    assert_eq!(updated, "updated scope payments (policy version 2)\n");
    assert_eq!(described, "updated scope reports (policy version 1)\n");
    assert!(text.contains(
        "payments\tsensitive: approvers finance,security quorum 1 pending 600s access 4s \
         justification required\tMove money\n"
    ));
    assert!(text.contains("reports\tnot sensitive\tReports\n"));
    let scopes = json.as_array().unwrap();
    let names: Vec<&str> = scopes.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "email",
            "groups",
            "offline_access",
            "openid",
            "payments",
            "profile",
            "reports"
        ],
        "the OIDC standard scopes are listed too"
    );
    let payments = scopes.iter().find(|s| s["name"] == "payments").unwrap();
    assert_eq!(
        *payments,
        serde_json::json!({"name": "payments", "description": "Move money",
            "claims": ["iban", "account"], "sensitive": true,
            "approvers": ["finance", "security"], "quorum": 1, "pending_ttl": 600,
            "access_duration": 4, "require_justification": true, "approver_max_age": 300,
            "chat_decisions": false, "approver_factor": "none", "policy_version": 2,
            "subject_confirms": false})
    );
    let openid = scopes.iter().find(|s| s["name"] == "openid").unwrap();
    assert_eq!(openid["claims"], serde_json::json!(["sub"]));
}

#[test]
fn a_sensitive_scope_can_be_made_not_sensitive_again() {
    // Arrange
    let cli = Cli::new();
    seed_group(&cli.store(), "finance", &[]);
    cli.ok(&[
        "scope",
        "add",
        "payments",
        "--description",
        "Move money",
        "--sensitive",
        "--approvers",
        "finance",
    ]);
    // Act
    let updated = cli.ok(&["scope", "update", "payments", "--not-sensitive"]);
    // Assert
    assert_eq!(updated, "updated scope payments (policy version 2)\n");
    let json = cli.json(&["scope", "list", "--json"]);
    let payments = json
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "payments")
        .unwrap()
        .clone();
    assert_eq!(payments["sensitive"], false);
    assert_eq!(payments["approvers"], serde_json::json!([]));
}

#[test]
fn a_confidential_client_is_shown_its_secret_once_and_can_rotate_it() {
    // Arrange
    let cli = Cli::new();
    // Act
    let text = cli.ok(&[
        "client",
        "add",
        "--name",
        "Payroll",
        "--redirect-uri",
        "https://payroll.example/cb",
        "--redirect-uri",
        "http://127.0.0.1:9000/cb",
        "--scope",
        "openid profile",
    ]);
    let lines: Vec<&str> = text.lines().collect();
    let client_id = lines[0].strip_prefix("client_id: ").unwrap().to_owned();
    let first_secret = lines[1].strip_prefix("client_secret: ").unwrap().to_owned();
    let rotated = cli.json(&["client", "rotate-secret", &client_id, "--json"]);
    let listed = cli.ok(&["client", "list"]);
    // Assert
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[2].contains("shown only now"));
    let generated = |s: &str| {
        s.len() >= 22
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    assert!(generated(&client_id) && generated(&first_secret));
    let second_secret = rotated["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(rotated["client_id"], client_id.as_str());
    assert_ne!(second_secret, first_secret);
    let stored = manage::list_clients(&cli.store()).unwrap().remove(0);
    assert_eq!(
        stored.secret_hash.unwrap(),
        format!(
            "sha256:{}",
            countersign::crypto::sha256_hex(second_secret.as_bytes())
        ),
        "the printed secret is the one that works"
    );
    assert_eq!(
        listed,
        format!(
            "{client_id}\tPayroll\tconfidential\topenid profile\t\
             https://payroll.example/cb http://127.0.0.1:9000/cb\n"
        )
    );
    assert!(!listed.contains(&second_secret));
}

#[test]
fn client_add_with_json_prints_the_secret_or_null_for_a_public_client() {
    // Arrange
    let cli = Cli::new();
    // Act
    let confidential = cli.json(&[
        "client",
        "add",
        "--name",
        "Backend",
        "--redirect-uri",
        "https://backend.example/cb",
        "--scope",
        "openid",
        "--json",
    ]);
    let public = cli.json(&[
        "client",
        "add",
        "--name",
        "Mobile",
        "--redirect-uri",
        "com.example.app:/oauth",
        "--scope",
        "openid offline_access",
        "--public",
        "--json",
    ]);
    let public_text = cli.ok(&[
        "client",
        "add",
        "--name",
        "Spa",
        "--redirect-uri",
        "https://spa.example/cb",
        "--scope",
        "openid",
        "--public",
    ]);
    // Assert
    assert!(confidential["client_secret"].as_str().unwrap().len() >= 40);
    assert_eq!(
        confidential.as_object().unwrap().len(),
        2,
        "{{client_id, client_secret}}"
    );
    assert_eq!(public["client_secret"], Value::Null);
    assert!(public["client_id"].as_str().is_some());
    assert!(public_text.starts_with("client_id: "));
    assert_eq!(
        public_text.lines().count(),
        1,
        "no secret line: {public_text}"
    );
    let clients = cli.json(&["client", "list", "--json"]);
    let mobile = clients
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Mobile")
        .unwrap()
        .clone();
    assert_eq!(mobile["public"], true);
    assert_eq!(mobile["scope"], "openid offline_access");
    assert_eq!(
        mobile["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        mobile["redirect_uris"],
        serde_json::json!(["com.example.app:/oauth"])
    );
}

#[test]
fn a_removed_client_is_no_longer_listed() {
    // Arrange
    let cli = Cli::new();
    let keep = seed_client(&cli.store(), false);
    let gone = seed_client(&cli.store(), true);
    // Act
    let removed = cli.ok(&["client", "remove", &gone]);
    let json = cli.json(&["client", "list", "--json"]);
    // Assert
    assert_eq!(removed, format!("removed client {gone}\n"));
    let ids: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [keep.as_str()]);
}

#[test]
fn client_add_sets_the_access_token_algorithm_rs256_unless_told() {
    // Arrange
    let cli = Cli::new();
    let add = |name: &str, extra: &[&str]| {
        let mut args = vec![
            "client",
            "add",
            "--name",
            name,
            "--redirect-uri",
            "https://api.example/cb",
            "--scope",
            "openid",
        ];
        args.extend_from_slice(extra);
        cli.ok(&args);
    };
    // Act
    add("Fast", &["--access-token-alg", "ES256"]);
    add("Plain", &[]);
    // Assert
    let clients = cli.json(&["client", "list", "--json"]);
    let alg_of = |name: &str| {
        let clients = clients.as_array().unwrap().iter();
        let client = clients.clone().find(|c| c["name"] == name).unwrap();
        (
            client["access_token_alg"].clone(),
            client["id_token_alg"].clone(),
        )
    };
    assert_eq!(alg_of("Fast"), (Value::from("ES256"), Value::from("RS256")));
    assert_eq!(
        alg_of("Plain"),
        (Value::from("RS256"), Value::from("RS256"))
    );
}
