//! `countersign upstream add|list|remove` as the real binary: the client secret comes
//! from stdin, is sealed at rest and is never printed or audited.

use serde_json::json;

use crate::cli::Cli;

const SECRET: &str = "upstream-secret-7f3a";

fn add(cli: &Cli, name: &str, issuer: &str, map: &str) -> crate::cli::Run {
    let args = [
        "upstream",
        "add",
        name,
        "--issuer",
        issuer,
        "--client-id",
        "countersign",
        "--client-secret-stdin",
        "--scope",
        "openid profile email groups",
        "--map-group",
        map,
    ];
    cli.run_with_stdin(&args, &format!("{SECRET}\n"))
}

#[test]
fn upstreams_are_added_with_a_sealed_secret_listed_without_it_and_removed() {
    // Arrange
    let cli = Cli::new();
    cli.ok(&["group", "add", "approvers"]);
    // Act
    let added = add(&cli, "corp", "https://idp.example", "payments=approvers");
    let text = cli.ok(&["upstream", "list"]);
    let listed = cli.json(&["upstream", "list", "--json"]);
    let stored = countersign::store::Store::read(&cli.store(), |c| {
        countersign::store::upstream_by_name(c, "corp")
    })
    .unwrap()
    .expect("stored");
    let removed = cli.ok(&["upstream", "remove", "corp"]);
    let audit = cli.ok(&["audit", "export"]);
    // Assert
    assert!(added.success(), "{}", added.stderr);
    assert!(added.stdout.contains("/login/upstream/corp/callback"));
    assert_eq!(
        text,
        "corp\thttps://idp.example\tcountersign\topenid profile email groups\tpayments=approvers\n"
    );
    assert_eq!(
        listed,
        json!([{"name": "corp", "issuer": "https://idp.example", "client_id": "countersign",
            "scope": "openid profile email groups", "groups_claim": "groups",
            "map_groups": ["payments=approvers"]}])
    );
    assert!(stored.client_secret.starts_with("v1:"), "sealed");
    for output in [
        &added.stdout,
        &added.stderr,
        &text,
        &stored.client_secret,
        &audit,
    ] {
        assert!(!output.contains(SECRET), "the secret leaked: {output}");
    }
    assert!(audit.contains("upstream.added") && audit.contains("upstream.removed"));
    assert_eq!(removed, "removed upstream corp\n");
    assert_eq!(cli.json(&["upstream", "list", "--json"]), json!([]));
}

#[test]
fn an_upstream_with_a_plain_http_issuer_or_an_unknown_local_group_is_refused() {
    // Arrange
    let cli = Cli::new();
    cli.ok(&["group", "add", "approvers"]);
    // Act
    let plain_http = add(&cli, "corp", "http://idp.example", "payments=approvers");
    let unknown_group = add(&cli, "corp", "https://idp.example", "payments=nobody");
    // Assert
    assert!(!plain_http.success());
    assert!(plain_http.stderr.contains("https"), "{}", plain_http.stderr);
    assert!(!unknown_group.success());
    assert!(
        unknown_group.stderr.contains("nobody"),
        "{}",
        unknown_group.stderr
    );
    assert_eq!(cli.json(&["upstream", "list", "--json"]), json!([]));
}
