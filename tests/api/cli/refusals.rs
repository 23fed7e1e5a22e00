//! Bad input: refused with one line on stderr, exit status 1, and nothing written
//! (DESIGN.md §6).

use super::{assert_refused, audit_head_seq, seed_client, seed_group, seed_user, snapshot, Cli};

#[test]
fn adding_a_member_to_an_unknown_group_is_refused_and_writes_nothing() {
    // Arrange
    let cli = Cli::new();
    seed_user(&cli.store(), "alice");
    let before = snapshot(&cli.store());
    // Act
    let run = cli.run(&["group", "add-member", "nosuch", "alice"]);
    // Assert
    assert_refused(&run, "no group named \"nosuch\"");
    assert_eq!(snapshot(&cli.store()), before);
}

#[test]
fn adding_an_unknown_user_to_a_group_is_refused_and_writes_nothing() {
    // Arrange
    let cli = Cli::new();
    seed_group(&cli.store(), "approvers", &[]);
    let before = snapshot(&cli.store());
    // Act
    let run = cli.run(&["group", "add-member", "approvers", "nobody"]);
    // Assert
    assert_refused(&run, "no user named \"nobody\"");
    assert_eq!(snapshot(&cli.store()), before);
}

#[test]
fn a_scope_with_an_unknown_approver_group_is_refused_and_writes_nothing() {
    // Arrange
    let cli = Cli::new();
    seed_group(&cli.store(), "finance", &[]);
    let before = snapshot(&cli.store());
    // Act
    let run = cli.run(&[
        "scope",
        "add",
        "payments",
        "--description",
        "Move money",
        "--sensitive",
        "--approvers",
        "finance,nosuch",
    ]);
    // Assert
    assert_refused(&run, "no group named \"nosuch\"");
    assert_eq!(snapshot(&cli.store()), before);
}

#[test]
fn a_duplicate_user_is_refused_and_writes_nothing() {
    // Arrange
    let cli = Cli::new();
    seed_user(&cli.store(), "alice");
    let before = snapshot(&cli.store());
    // Act
    let run = cli.run_with_stdin(
        &[
            "user",
            "add",
            "alice",
            "--email",
            "other@example.com",
            "--password-stdin",
        ],
        "long enough password\n",
    );
    // Assert
    assert_refused(&run, "user \"alice\" already exists");
    assert_eq!(snapshot(&cli.store()), before);
}

#[test]
fn a_duplicate_group_is_refused_and_writes_nothing() {
    // Arrange
    let cli = Cli::new();
    seed_group(&cli.store(), "approvers", &[]);
    let before = snapshot(&cli.store());
    // Act
    let run = cli.run(&["group", "add", "approvers"]);
    // Assert
    assert_refused(&run, "group \"approvers\" already exists");
    assert_eq!(snapshot(&cli.store()), before);
}

#[test]
fn a_malformed_redirect_uri_is_refused_and_writes_nothing() {
    // Arrange
    let cli = Cli::new();
    let before = snapshot(&cli.store());
    for (uri, says) in [
        ("/callback", "is not an absolute URI"),
        ("https://rp.example/cb#top", "must not contain a fragment"),
        ("https://rp.example/c b", "contains whitespace"),
    ] {
        // Act
        let run = cli.run(&[
            "client",
            "add",
            "--name",
            "RP",
            "--redirect-uri",
            uri,
            "--scope",
            "openid",
        ]);
        // Assert
        assert_refused(&run, says);
        assert_eq!(snapshot(&cli.store()), before, "{uri}");
    }
}

#[test]
fn a_quorum_of_zero_is_refused_and_writes_nothing() {
    // Arrange
    let cli = Cli::new();
    seed_group(&cli.store(), "finance", &[]);
    let before = snapshot(&cli.store());
    // Act
    let run = cli.run(&[
        "scope",
        "add",
        "payments",
        "--description",
        "Move money",
        "--sensitive",
        "--approvers",
        "finance",
        "--quorum",
        "0",
    ]);
    // Assert
    assert_refused(&run, "--quorum must be at least 1");
    assert_eq!(snapshot(&cli.store()), before);
}

#[test]
fn a_sensitive_scope_without_approvers_is_refused_and_writes_nothing() {
    // Arrange
    let cli = Cli::new();
    let before = snapshot(&cli.store());
    // Act
    let run = cli.run(&[
        "scope",
        "add",
        "payments",
        "--description",
        "Move money",
        "--sensitive",
    ]);
    // Assert
    assert_refused(&run, "needs --approvers");
    assert_eq!(snapshot(&cli.store()), before);
}

#[test]
fn a_client_with_an_unknown_scope_is_refused_and_writes_nothing() {
    // Arrange
    let cli = Cli::new();
    let before = snapshot(&cli.store());
    // Act
    let run = cli.run(&[
        "client",
        "add",
        "--name",
        "RP",
        "--redirect-uri",
        "https://rp.example/cb",
        "--scope",
        "openid nosuch",
    ]);
    // Assert
    assert_refused(&run, "no scope named \"nosuch\"");
    assert_eq!(snapshot(&cli.store()), before);
}

#[test]
fn a_password_shorter_than_eight_characters_is_refused_and_writes_nothing() {
    // Arrange
    let cli = Cli::new();
    seed_user(&cli.store(), "alice");
    let before = snapshot(&cli.store());
    // Act
    let add = cli.run_with_stdin(
        &[
            "user",
            "add",
            "bob",
            "--email",
            "bob@example.com",
            "--password-stdin",
        ],
        "1234567\n",
    );
    let set = cli.run_with_stdin(
        &["user", "set-password", "alice", "--password-stdin"],
        "short\n",
    );
    // Assert
    assert_refused(&add, "password must be at least 8 characters");
    assert_refused(&set, "password must be at least 8 characters");
    assert_eq!(snapshot(&cli.store()), before);
}

#[test]
fn removing_a_user_who_is_not_a_member_is_refused_and_writes_nothing() {
    // Arrange
    let cli = Cli::new();
    seed_user(&cli.store(), "alice");
    seed_user(&cli.store(), "bob");
    seed_group(&cli.store(), "approvers", &["bob"]);
    let before = snapshot(&cli.store());
    // Act
    let run = cli.run(&["group", "remove-member", "approvers", "alice"]);
    // Assert
    assert_refused(&run, "\"alice\" is not a member of \"approvers\"");
    assert_eq!(snapshot(&cli.store()), before);
}

#[test]
fn changing_things_that_do_not_exist_is_refused_and_writes_nothing() {
    // Arrange
    let cli = Cli::new();
    let public = seed_client(&cli.store(), true);
    let before = snapshot(&cli.store());
    let cases: [(&[&str], &str); 5] = [
        (&["user", "disable", "nobody"], "no user named \"nobody\""),
        (&["client", "remove", "nosuch"], "no client \"nosuch\""),
        (
            &["client", "rotate-secret", "nosuch"],
            "no client \"nosuch\"",
        ),
        (
            &["client", "rotate-secret", &public],
            "is public and has no secret",
        ),
        (
            &["scope", "update", "nosuch", "--quorum", "2"],
            "no scope named \"nosuch\"",
        ),
    ];
    for (args, says) in cases {
        // Act
        let run = cli.run(args);
        // Assert
        assert_refused(&run, says);
    }
    assert_eq!(snapshot(&cli.store()), before);
    assert_eq!(audit_head_seq(&cli.store()), 1, "only the seeded client");
}
