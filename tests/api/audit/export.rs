//! `audit export` / `audit verify` as a SIEM and an operator use them.

use countersign::audit::{self, Actor, Since};
use countersign::store::Store;
use serde_json::{json, Value};

use super::{all_rows, record_events, tamper};
use crate::cli::Cli;
use crate::helpers::{TestDb, TEST_NOW};

fn export(store: &Store, since: Since) -> (Vec<Value>, i64) {
    let mut out = Vec::new();
    let last = store.read(|c| audit::export(c, since, &mut out)).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    (lines, last)
}

#[test]
fn an_export_round_trips_every_row() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 4);
    store
        .write(|c| {
            let details = json!({"note": "ünïcödé \"quoted\" \\ and\nnewline", "list": []});
            audit::record(
                c,
                &Actor::User(countersign::ids::UserId::new("s-1")),
                countersign::audit::AuditAction::UserCreated,
                "t",
                details,
                TEST_NOW,
            )
        })
        .unwrap();
    // Act
    let (lines, last) = export(&store, Since::Seq(0));
    // Assert
    let rows = all_rows(&store);
    assert_eq!(lines.len(), rows.len());
    assert_eq!(last, 5);
    for (line, row) in lines.iter().zip(&rows) {
        assert_eq!(line["seq"], row.seq);
        assert_eq!(line["hash"], row.hash.as_str());
        assert_eq!(line["prev_hash"], row.prev_hash.as_str());
        assert_eq!(line["actor"], row.actor.as_str());
        assert_eq!(line["action"], row.action.as_str());
        assert_eq!(line["target"], row.target.as_str());
        let details: Value = serde_json::from_str(&row.details).unwrap();
        assert_eq!(line["details"], details);
        let at = chrono::DateTime::parse_from_rfc3339(line["at"].as_str().unwrap()).unwrap();
        assert_eq!(at.timestamp(), row.at);
    }
    assert_eq!(lines[0]["at"], "2026-11-22T12:00:01Z");
}

#[test]
fn an_export_since_a_seq_starts_after_it() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 5);
    // Act
    let (lines, last) = export(&store, Since::Seq(3));
    let (none, none_last) = export(&store, Since::Seq(5));
    // Assert
    let seqs: Vec<&Value> = lines.iter().map(|l| &l["seq"]).collect();
    assert_eq!(seqs, [4, 5]);
    assert_eq!(last, 5);
    assert!(none.is_empty());
    assert_eq!(none_last, 5);
}

#[test]
fn an_export_since_a_time_starts_at_the_first_event_at_or_after_it() {
    // Arrange: events 1..=5 happened at TEST_NOW + 1..=5 (12:00:01Z … 12:00:05Z).
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 5);
    let since = Since::parse("2026-11-22T13:00:03+01:00").unwrap();
    // Act
    let (lines, _) = export(&store, since);
    let (later, _) = export(&store, Since::parse("2026-11-22T12:00:06Z").unwrap());
    // Assert
    assert_eq!(since, Since::Time(TEST_NOW + 3));
    let seqs: Vec<&Value> = lines.iter().map(|l| &l["seq"]).collect();
    assert_eq!(seqs, [3, 4, 5]);
    assert!(later.is_empty());
}

#[test]
fn since_is_a_seq_or_an_rfc3339_time() {
    assert_eq!(Since::parse("42"), Ok(Since::Seq(42)));
    assert_eq!(
        Since::parse("2026-11-22T12:00:00Z"),
        Ok(Since::Time(TEST_NOW))
    );
    assert!(Since::parse("yesterday").is_err());
    assert!(Since::parse("2026-11-22").is_err());
}

#[test]
fn the_cli_exports_since_a_seq_or_a_time() {
    // Arrange
    let cli = Cli::new();
    record_events(&cli.store(), 5);
    // Act
    let by_seq = cli.ok(&["audit", "export", "--since", "3"]);
    let by_time = cli.ok(&["audit", "export", "--since", "2026-11-22T12:00:04Z"]);
    let bad = cli.run(&["audit", "export", "--since", "soon"]);
    // Assert
    let seqs = |text: &str| -> Vec<i64> {
        text.lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["seq"]
                    .as_i64()
                    .unwrap()
            })
            .collect()
    };
    assert_eq!(seqs(&by_seq), [4, 5]);
    assert_eq!(seqs(&by_time), [4, 5]);
    assert_eq!(bad.status.code(), Some(1), "{bad:?}");
    assert_eq!(bad.stdout, "");
    assert_eq!(bad.stderr.lines().count(), 1, "{}", bad.stderr);
}

#[test]
fn the_cli_verify_passes_a_good_chain_and_names_the_seq_of_a_tampered_one() {
    // Arrange
    let cli = Cli::new();
    record_events(&cli.store(), 4);
    let good = cli.run(&["audit", "verify"]);
    // Act
    tamper(
        &cli.store(),
        "UPDATE audit_events SET target = 'thing:other' WHERE seq = 2",
    );
    let bad = cli.run(&["audit", "verify"]);
    // Assert
    assert!(good.success(), "{}", good.stderr);
    assert!(good.stdout.starts_with("ok: 4 events, head seq 4 hash "));
    assert_eq!(
        bad.status.code(),
        Some(1),
        "a broken chain exits 1: {bad:?}"
    );
    assert!(
        bad.stdout.starts_with("BROKEN at seq 2: "),
        "{:?}",
        bad.stdout
    );
}
