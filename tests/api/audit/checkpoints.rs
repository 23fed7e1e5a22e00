//! Signed checkpoints catch what the hash chain alone cannot: someone with write access
//! to the database who edits a row and recomputes every later hash (and the head).
//! They also refuse checkpoints that are forged or signed with another secret key.

use countersign::audit::{self, Anchored, Checkpoint, CheckpointReport};
use countersign::crypto::{sha256_hex, AnchorKey, AnchorPublicKey};
use countersign::store::{self, DbConn, Store};
use diesel::connection::SimpleConnection;
use secrecy::SecretString;
use serde_json::json;

use super::{all_rows, record_events, tamper, verify};
use crate::helpers::{TestDb, TEST_NOW, TEST_SECRET_KEY};

/// The anchor key of the test server's secret key.
pub(super) fn server_key() -> AnchorKey {
    AnchorKey::derive(&SecretString::from(TEST_SECRET_KEY)).unwrap()
}

/// The anchor key of some other secret key (an attacker's own install, say).
pub(super) fn other_key() -> AnchorKey {
    AnchorKey::derive(&SecretString::from(
        "another-secret-key-0123456789abcdefghij",
    ))
    .unwrap()
}

fn anchor(store: &Store, at: i64) -> Checkpoint {
    let anchored = audit::anchor(store, &server_key(), at).unwrap();
    assert!(matches!(anchored, Anchored::New(_)), "{anchored:?}");
    anchored.checkpoint().unwrap().clone()
}

fn check(store: &Store, checkpoints: &[Checkpoint], key: &AnchorKey) -> CheckpointReport {
    let trusted = [key.public().clone()];
    store
        .read(|c| audit::verify_checkpoints(c, checkpoints, &trusted))
        .unwrap()
}

fn stored(store: &Store) -> Vec<Checkpoint> {
    store.read(audit::stored_checkpoints).unwrap()
}

fn broken_seqs(report: &CheckpointReport) -> Vec<i64> {
    report.broken.iter().map(|b| b.seq).collect()
}

/// The chain's hash, written out here independently of the crate:
/// `SHA-256(prev_hash | [seq, at, actor, action, target, details])`.
fn chain_hash(prev: &str, row: &store::AuditRow) -> String {
    let body = json!([
        row.seq,
        row.at,
        row.actor,
        row.action,
        row.target,
        row.details
    ]);
    sha256_hex(format!("{prev}|{body}").as_bytes())
}

/// What an attacker with database access does: gives event `seq` new `details`, then
/// recomputes the hash of it and of every later event, and moves the head, so that the
/// plain chain check passes again. Returns the new head hash.
pub(super) fn rewrite_chain_from(store: &Store, seq: i64, details: &str) -> String {
    let rows = all_rows(store);
    let mut prev = "0".repeat(64);
    let mut sql = String::new();
    for mut row in rows {
        if row.seq < seq {
            assert_eq!(
                chain_hash(&prev, &row),
                row.hash,
                "the test's hash is right"
            );
        } else {
            if row.seq == seq {
                row.details = details.to_owned();
            }
            let hash = chain_hash(&prev, &row);
            sql.push_str(&format!(
                "UPDATE audit_events SET details = '{}', prev_hash = '{prev}', hash = '{hash}' \
                 WHERE seq = {};",
                row.details.replace('\'', "''"),
                row.seq
            ));
            row.hash = hash;
        }
        prev = row.hash;
    }
    sql.push_str(&format!(
        "UPDATE audit_head SET hash = '{prev}' WHERE id = 1;"
    ));
    tamper(store, &sql);
    prev
}

/// Runs raw SQL on `audit_checkpoints` after dropping its append-only guard.
pub(super) fn tamper_checkpoints(store: &Store, sql: &str) {
    let unguard = |c: &DbConn| match c {
        DbConn::Sqlite(_) => {
            "DROP TRIGGER IF EXISTS audit_checkpoints_no_update; \
             DROP TRIGGER IF EXISTS audit_checkpoints_no_delete;"
        }
        DbConn::Pg(_) => {
            "DROP TRIGGER IF EXISTS audit_checkpoints_append_only ON audit_checkpoints;"
        }
    };
    store
        .read(|c| {
            let drop_guard = unguard(c);
            c.batch_execute(drop_guard)?;
            c.batch_execute(sql).map_err(store::StoreError::from)
        })
        .unwrap();
}

#[test]
fn an_honest_chain_with_checkpoints_verifies() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 3);
    let first = anchor(&store, TEST_NOW + 10);
    let again = audit::anchor(&store, &server_key(), TEST_NOW + 20).unwrap();
    record_events(&store, 2);
    let second = anchor(&store, TEST_NOW + 30);
    // Act
    let chain = verify(&store);
    let report = check(&store, &stored(&store), &server_key());
    // Assert
    assert_eq!(chain.broken, None);
    assert_eq!(
        again,
        Anchored::Unchanged(first.clone()),
        "an unmoved head is not signed twice"
    );
    assert_eq!(stored(&store), [first.clone(), second.clone()]);
    assert_eq!((first.seq, second.seq), (3, 5));
    assert_eq!(second.hash, chain.head.1, "a checkpoint signs the head");
    assert_eq!(second.kid, server_key().public().kid());
    assert_eq!(report.broken, []);
    assert_eq!(report.checked, 2);
    assert_eq!(report.latest, Some(second));
}

#[test]
fn an_empty_chain_has_nothing_to_anchor() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    // Act
    let anchored = audit::anchor(&store, &server_key(), TEST_NOW).unwrap();
    // Assert
    assert_eq!(anchored, Anchored::EmptyChain);
    assert_eq!(stored(&store), []);
}

#[test]
fn a_fully_recomputed_chain_passes_the_chain_check_but_not_its_checkpoints() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 2);
    anchor(&store, TEST_NOW + 10);
    record_events(&store, 3);
    anchor(&store, TEST_NOW + 20);
    // Act
    rewrite_chain_from(&store, 3, r#"{"n":99}"#);
    // Assert
    let chain = verify(&store);
    assert_eq!(chain.broken, None, "the rewrite fools the hash chain alone");
    assert_eq!(chain.checked, 5);
    let report = check(&store, &stored(&store), &server_key());
    assert_eq!(broken_seqs(&report), [5]);
    let problem = &report.broken[0].problem;
    assert!(
        problem.contains("rewritten after seq 2") && problem.contains("at or before this seq"),
        "{problem}"
    );
    assert_eq!(report.latest.map(|c| c.seq), Some(2), "seq 2 still holds");
}

#[test]
fn a_recomputed_chain_whose_stored_checkpoints_were_deleted_is_caught_by_an_exported_one() {
    // Arrange: the operator keeps each checkpoint line off the host.
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 5);
    let exported = anchor(&store, TEST_NOW + 10).to_line();
    // Act: the attacker rewrites the chain and removes every stored checkpoint.
    rewrite_chain_from(&store, 1, r#"{"n":"forged"}"#);
    tamper_checkpoints(&store, "DELETE FROM audit_checkpoints");
    // Assert
    assert_eq!(verify(&store).broken, None);
    assert_eq!(stored(&store), []);
    let kept = Checkpoint::parse_line(&exported).unwrap();
    let report = check(&store, &[kept], &server_key());
    assert_eq!(broken_seqs(&report), [5]);
    assert!(report.broken[0].problem.contains("rewritten"));
}

#[test]
fn a_chain_cut_back_behind_its_checkpoint_is_caught() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 5);
    let checkpoint = anchor(&store, TEST_NOW + 10);
    let third = all_rows(&store).swap_remove(2);
    // Act: the last two events go, and the head moves back onto the third.
    tamper(
        &store,
        &format!(
            "DELETE FROM audit_events WHERE seq > 3; \
             UPDATE audit_head SET seq = 3, hash = '{}' WHERE id = 1;",
            third.hash
        ),
    );
    // Assert
    assert_eq!(verify(&store).broken, None);
    let report = check(&store, &[checkpoint], &server_key());
    assert_eq!(broken_seqs(&report), [5]);
    assert!(report.broken[0].problem.contains("deleted"));
}

#[test]
fn a_forged_checkpoint_is_refused() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 5);
    let honest = anchor(&store, TEST_NOW + 10);
    let new_head = rewrite_chain_from(&store, 4, r#"{"n":"forged"}"#);
    // Act: the attacker moves the stored checkpoint onto the new head, and makes up one
    // more with a signature of their own invention.
    tamper_checkpoints(
        &store,
        &format!("UPDATE audit_checkpoints SET hash = '{new_head}' WHERE seq = 5"),
    );
    let made_up = Checkpoint {
        sig: honest.sig.chars().rev().collect(),
        ..stored(&store).remove(0)
    };
    // Assert
    for forged in [stored(&store), vec![made_up]] {
        let report = check(&store, &forged, &server_key());
        assert_eq!(broken_seqs(&report), [5]);
        let problem = &report.broken[0].problem;
        assert!(problem.contains("forged or altered"), "{problem}");
    }
}

#[test]
fn a_checkpoint_signed_with_another_secret_key_is_refused() {
    // Arrange: the attacker anchors their rewritten chain with an install of their own.
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 3);
    let honest = anchor(&store, TEST_NOW + 10);
    let new_head = rewrite_chain_from(&store, 2, r#"{"n":"forged"}"#);
    let theirs = Checkpoint::sign(&other_key(), 3, &new_head, TEST_NOW + 20);
    // Act
    let report = check(&store, &[theirs], &server_key());
    let under_their_key = check(&store, &[honest], &other_key());
    // Assert
    for refused in [&report, &under_their_key] {
        assert_eq!(broken_seqs(refused), [3]);
        let problem = &refused.broken[0].problem;
        assert!(problem.contains("another secret key"), "{problem}");
    }
}

#[test]
fn the_database_refuses_to_change_or_delete_checkpoints() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 2);
    let checkpoint = anchor(&store, TEST_NOW);
    // Act
    let refused: Vec<bool> = [
        "UPDATE audit_checkpoints SET seq = 1",
        "DELETE FROM audit_checkpoints",
    ]
    .iter()
    .map(|sql| {
        store
            .read(|c| c.batch_execute(sql).map_err(store::StoreError::from))
            .is_err()
    })
    .collect();
    // Assert
    assert_eq!(refused, [true, true]);
    assert_eq!(stored(&store), [checkpoint]);
}

#[tokio::test]
async fn serve_anchors_the_head_on_its_interval_with_the_secret_keys_anchor_key() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 2);
    let clock = countersign::clock::FixedClock::at(TEST_NOW + 60);
    let task = countersign::startup::anchor_audit_chain(
        store.clone(),
        std::sync::Arc::new(server_key()),
        std::sync::Arc::new(clock),
        std::time::Duration::from_secs(3600),
    );
    // Act: the first tick is immediate; wait (bounded) until its checkpoint is stored.
    let stored_one = async {
        for _ in 0..1000 {
            if !stored(&store).is_empty() {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        false
    };
    let anchored = tokio::select! {
        () = task => false,
        anchored = stored_one => anchored,
    };
    // Assert
    assert!(anchored, "the task stored a checkpoint");
    let checkpoints = stored(&store);
    assert_eq!(checkpoints.len(), 1);
    assert_eq!((checkpoints[0].seq, checkpoints[0].at), (2, TEST_NOW + 60));
    let trusted: Vec<AnchorPublicKey> = vec![server_key().public().clone()];
    assert_eq!(checkpoints[0].check_signature(&trusted), Ok(()));
}
