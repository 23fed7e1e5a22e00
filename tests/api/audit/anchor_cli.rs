//! `countersign audit anchor` and `audit verify --checkpoints`, run as the real binary
//! the way an operator and an auditor use them.

use std::path::{Path, PathBuf};

use countersign::audit::Checkpoint;

use super::checkpoints::{other_key, rewrite_chain_from};
use crate::cli::{Cli, Run};

/// A CLI with `groups` audit events, and a directory kept apart from the server.
fn cli_with_events(groups: usize) -> (Cli, tempfile::TempDir) {
    let cli = Cli::new();
    for i in 0..groups {
        cli.ok(&["group", "add", &format!("group-{i}")]);
    }
    (cli, tempfile::tempdir().unwrap())
}

fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Exit status 1, with `says` on stdout (verify) or stderr (a refusal).
fn assert_fails_saying(run: &Run, says: &str) {
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert!(
        run.stdout.contains(says) || run.stderr.contains(says),
        "should say {says:?}: {run:?}"
    );
}

#[test]
fn an_anchored_chain_verifies_with_its_checkpoint_file_and_public_key() {
    // Arrange
    let (cli, dir) = cli_with_events(2);
    let (file, pem) = (
        path(dir.path(), "anchors.jsonl"),
        path(dir.path(), "anchor.pem"),
    );
    // Act
    let printed = cli.ok(&["audit", "anchor", "--out", arg(&file)]);
    let public_key = cli.ok(&["audit", "anchor", "--public-key"]);
    std::fs::write(&pem, &public_key).unwrap();
    let verified = cli.ok(&["audit", "verify", "--checkpoints", arg(&file)]);
    let offline = cli.ok(&[
        "audit",
        "verify",
        "--checkpoints",
        arg(&file),
        "--public-key",
        arg(&pem),
    ]);
    // Assert
    assert_eq!(std::fs::read_to_string(&file).unwrap(), printed);
    let checkpoint = Checkpoint::parse_line(printed.trim_end()).unwrap();
    assert_eq!(checkpoint.seq, 2);
    assert!(public_key.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let lines: Vec<&str> = verified.lines().collect();
    assert_eq!(lines.len(), 2, "{verified}");
    assert!(lines[0].starts_with("ok: 2 events, head seq 2 hash "));
    assert!(
        lines[1].starts_with(
            "ok: 2 checkpoints (1 stored, 1 from files), the latest of seq 2 signed at "
        ),
        "{verified}"
    );
    assert_eq!(offline, verified, "the public key alone verifies them too");
}

#[test]
fn verify_names_the_seq_whose_checkpoint_a_recomputed_chain_no_longer_matches() {
    // Arrange
    let (cli, dir) = cli_with_events(3);
    let file = path(dir.path(), "anchors.jsonl");
    cli.ok(&["audit", "anchor", "--out", arg(&file)]);
    let chain_only = cli.ok(&["audit", "verify"]);
    // Act
    rewrite_chain_from(&cli.store(), 2, r#"{"forged":true}"#);
    let run = cli.run(&["audit", "verify", "--checkpoints", arg(&file)]);
    // Assert
    assert_fails_saying(&run, "BROKEN at seq 3: the event no longer has the hash");
    let first = run.stdout.lines().next().unwrap();
    assert!(
        first.starts_with("ok: 3 events, head seq 3 hash ")
            && Some(first) != chain_only.lines().next(),
        "the plain chain check alone passes the rewrite: {run:?}"
    );
    assert_eq!(
        run.stdout.matches("BROKEN at seq 3").count(),
        2,
        "the stored checkpoint and the file's both catch it: {run:?}"
    );
}

#[test]
fn verify_refuses_checkpoints_under_another_public_key() {
    // Arrange
    let (cli, dir) = cli_with_events(1);
    let pem = path(dir.path(), "theirs.pem");
    std::fs::write(&pem, other_key().public().to_pem()).unwrap();
    cli.ok(&["audit", "anchor"]);
    // Act
    let run = cli.run(&["audit", "verify", "--public-key", arg(&pem)]);
    // Assert
    assert_fails_saying(&run, "BROKEN at seq 1: the checkpoint of seq 1 is refused");
    assert!(run.stdout.contains("another secret key"), "{run:?}");
}

#[test]
fn anchoring_an_empty_chain_and_reading_a_bad_checkpoint_file_are_refused() {
    // Arrange
    let (cli, dir) = cli_with_events(0);
    let file = path(dir.path(), "anchors.jsonl");
    std::fs::write(&file, "\n{\"seq\": 1}\n").unwrap();
    // Act
    let empty = cli.run(&["audit", "anchor"]);
    let bad_file = cli.run(&["audit", "verify", "--checkpoints", arg(&file)]);
    // Assert
    assert_fails_saying(&empty, "nothing to anchor");
    assert_fails_saying(&bad_file, "line 2 is not a checkpoint");
    assert_eq!(empty.stdout, "");
}

#[test]
fn verify_without_checkpoints_warns_that_a_rewrite_would_go_unnoticed() {
    // Arrange
    let (cli, _dir) = cli_with_events(1);
    // Act
    let run = cli.run(&["audit", "verify"]);
    // Assert
    assert!(run.success(), "{run:?}");
    assert!(run.stderr.contains("no signed checkpoints"), "{run:?}");
}

#[test]
fn audit_anchor_prints_its_help() {
    // Arrange
    let (cli, _dir) = cli_with_events(0);
    // Act
    let help = cli.ok(&["audit", "anchor", "--help"]);
    // Assert
    assert!(help.contains("Usage: countersign audit anchor"), "{help}");
    assert!(help.contains("--out <FILE>") && help.contains("--public-key"));
}
