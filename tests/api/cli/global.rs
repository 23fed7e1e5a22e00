//! The binary as a whole: help for every command, `migrate`, where the database URL
//! comes from, `keys` and `audit`.

use countersign::store;
use serde_json::Value;

use super::{assert_refused, bare_command, collect, seed_user, Cli};
use crate::helpers::TestDb;

#[test]
fn every_command_and_subcommand_prints_its_help() {
    // Arrange
    let paths = [
        "",
        "serve",
        "migrate",
        "user",
        "user add",
        "user list",
        "user disable",
        "user set-password",
        "group",
        "group add",
        "group add-member",
        "group remove-member",
        "group list",
        "scope",
        "scope add",
        "scope update",
        "scope list",
        "client",
        "client add",
        "client list",
        "client remove",
        "client rotate-secret",
        "keys",
        "keys list",
        "keys rotate",
        "audit",
        "audit verify",
        "audit anchor",
        "audit export",
        "audit tail",
    ];
    let work_dir = tempfile::tempdir().unwrap();
    for path in paths {
        // Act
        let output = bare_command()
            .current_dir(work_dir.path())
            .args(path.split_whitespace())
            .arg("--help")
            .output()
            .unwrap();
        let run = collect(output);
        // Assert
        assert!(run.success(), "`{path} --help` failed: {}", run.stderr);
        let usage = format!("Usage: countersign {path}").trim_end().to_owned();
        assert!(
            run.stdout.contains(&usage),
            "`{path} --help` shows {usage:?}: {}",
            run.stdout
        );
        assert_eq!(run.stderr, "", "`{path} --help` writes nothing on stderr");
    }
    assert_eq!(
        std::fs::read_dir(work_dir.path()).unwrap().count(),
        0,
        "help creates no files"
    );
}

#[test]
fn migrate_creates_the_schema_and_a_second_run_changes_nothing() {
    // Arrange
    let cli = Cli::on(TestDb::unmigrated());
    assert!(!cli.store().is_ready().unwrap());
    // Act
    let first = cli.ok(&["migrate"]);
    let second = cli.ok(&["migrate"]);
    // Assert
    assert_eq!(first, "migrations are up to date\n");
    assert_eq!(second, "migrations are up to date\n");
    assert!(cli.store().is_ready().unwrap());
    assert!(cli.store().migrate().unwrap().is_empty());
}

#[test]
fn the_database_can_come_from_a_config_file_or_the_environment() {
    // Arrange
    let db = TestDb::new();
    seed_user(&db.store(), "alice");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("custom.toml");
    std::fs::write(&file, format!("database_url = {:?}\n", db.url())).unwrap();
    // Act
    let from_file = bare_command()
        .current_dir(dir.path())
        .env("COUNTERSIGN_DATA_DIR", dir.path())
        .arg("--config")
        .arg(&file)
        .args(["user", "list"])
        .output()
        .unwrap();
    let from_env = bare_command()
        .current_dir(dir.path())
        .env("COUNTERSIGN_DATA_DIR", dir.path())
        .env("COUNTERSIGN_DATABASE_URL", db.url())
        .args(["user", "list"])
        .output()
        .unwrap();
    // Assert
    for output in [from_file, from_env] {
        let run = collect(output);
        assert!(run.success(), "{}", run.stderr);
        assert!(run.stdout.starts_with("alice\talice@example.com\t"));
    }
}

#[test]
fn a_missing_config_file_is_refused_with_one_line() {
    // Arrange
    let cli = Cli::new();
    // Act
    let run = cli.run(&["--config", "nowhere.toml", "user", "list"]);
    // Assert
    assert_refused(&run, "nowhere.toml does not exist");
}

#[test]
fn keys_rotate_makes_a_new_active_key_and_the_old_one_retiring() {
    // Arrange
    let cli = Cli::new();
    let empty = cli.ok(&["keys", "list"]);
    let first = cli.ok(&["keys", "rotate"]);
    // Act
    let second = cli.ok(&["keys", "rotate"]);
    let listed = cli.ok(&["keys", "list"]);
    // Assert
    assert_eq!(empty, "");
    // One new key per algorithm; the RS256 line is "new active key RS256 <kid>".
    let rs256 = |out: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix("new active key RS256 "))
            .unwrap()
            .trim()
            .to_owned()
    };
    assert_eq!(first.lines().count(), 3, "{first}");
    let (first_kid, second_kid) = (rs256(&first), rs256(&second));
    let (first_kid, second_kid) = (first_kid.as_str(), second_kid.as_str());
    assert_ne!(first_kid, second_kid);
    let rows: Vec<Vec<&str>> = listed.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 6, "{listed}");
    let state_of = |kid: &str| {
        rows.iter()
            .find(|r| r[0] == kid)
            .map(|r| (r[1], r[2]))
            .unwrap()
    };
    assert_eq!(state_of(second_kid), ("RS256", "active"));
    assert_eq!(state_of(first_kid), ("RS256", "retiring"));
    let retiring = rows.iter().find(|r| r[0] == first_kid).unwrap();
    assert!(retiring[4].starts_with("retires at "), "{listed}");
}

#[test]
fn audit_commands_read_the_chain_that_the_commands_wrote() {
    // Arrange
    let cli = Cli::new();
    cli.ok(&["group", "add", "one"]);
    cli.ok(&["group", "add", "two"]);
    cli.ok(&["group", "add", "three"]);
    // Act
    let verified = cli.ok(&["audit", "verify"]);
    let exported = cli.ok(&["audit", "export"]);
    let since = cli.ok(&["audit", "export", "--since", "2", "--format", "jsonl"]);
    let tail = cli.ok(&["audit", "tail", "-n", "2"]);
    // Assert
    let (_, head_hash) = cli.store().read(store::read_audit_head).unwrap();
    assert_eq!(
        verified,
        format!("ok: 3 events, head seq 3 hash {head_hash}\n")
    );
    let lines: Vec<Value> = exported
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let targets: Vec<&str> = lines
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["group:one", "group:two", "group:three"]);
    assert!(lines
        .iter()
        .all(|e| e["actor"] == "cli" && e["action"] == "group.created"));
    assert_eq!(since, exported.lines().nth(2).unwrap().to_owned() + "\n");
    assert_eq!(
        tail,
        exported.lines().skip(1).collect::<Vec<_>>().join("\n") + "\n"
    );
}
