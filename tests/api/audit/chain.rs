//! `audit::verify` finds the first broken link whatever was done to the rows, and
//! concurrent writers keep one linear chain.

use std::sync::{Arc, Barrier};

use countersign::audit::{self, Actor};
use countersign::store::{self, AuditRow};
use serde_json::{json, Value};

use super::{all_rows, broken_at, record_events, tamper, verify};
use crate::helpers::{TestDb, TEST_NOW};

#[test]
fn an_untouched_chain_verifies() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 5);
    // Act
    let report = verify(&store);
    // Assert
    let last = all_rows(&store).pop().unwrap();
    assert_eq!(report.broken, None);
    assert_eq!(report.checked, 5);
    assert_eq!(report.head, (5, last.hash));
}

#[test]
fn an_empty_chain_verifies() {
    // Arrange
    let db = TestDb::new();
    // Act
    let report = verify(&db.store());
    // Assert
    assert_eq!(report.broken, None);
    assert_eq!(report.checked, 0);
    assert_eq!(report.head, (0, "0".repeat(64)));
}

#[test]
fn each_event_links_to_the_hash_of_the_one_before() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    // Act
    record_events(&store, 3);
    // Assert
    let rows = all_rows(&store);
    assert_eq!(rows[0].prev_hash, "0".repeat(64));
    assert_eq!(rows[1].prev_hash, rows[0].hash);
    assert_eq!(rows[2].prev_hash, rows[1].hash);
    assert!(rows
        .iter()
        .all(|r| r.hash.len() == 64 && r.hash.bytes().all(|b| b.is_ascii_hexdigit())));
    assert_eq!(
        rows[0].details, r#"{"n":1,"nested":{"a":null,"z":[1,"two"]}}"#,
        "details are stored as canonical JSON"
    );
}

#[test]
fn an_edited_row_is_the_first_broken_link() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 5);
    // Act
    tamper(
        &store,
        r#"UPDATE audit_events SET details = '{"n":99}' WHERE seq = 3"#,
    );
    // Assert
    let report = verify(&store);
    let broken = report.broken.unwrap();
    assert_eq!(broken.seq, 3);
    assert!(broken.problem.contains("changed"), "{}", broken.problem);
    assert_eq!(report.checked, 2);
}

#[test]
fn an_edited_actor_or_time_is_caught_too() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 4);
    // Act
    tamper(
        &store,
        "UPDATE audit_events SET actor = 'system' WHERE seq = 4",
    );
    let actor_edited = broken_at(&store);
    tamper(&store, "UPDATE audit_events SET at = at + 1 WHERE seq = 2");
    // Assert
    assert_eq!(actor_edited, 4);
    assert_eq!(broken_at(&store), 2);
}

#[test]
fn a_row_deleted_from_the_middle_is_the_first_broken_link() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 5);
    // Act
    tamper(&store, "DELETE FROM audit_events WHERE seq = 3");
    // Assert
    let broken = verify(&store).broken.unwrap();
    assert_eq!(broken.seq, 3);
    assert!(broken.problem.contains("deleted"), "{}", broken.problem);
}

#[test]
fn a_row_deleted_from_the_end_is_the_first_broken_link() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 5);
    // Act
    tamper(&store, "DELETE FROM audit_events WHERE seq = 5");
    // Assert
    let report = verify(&store);
    let broken = report.broken.unwrap();
    assert_eq!(broken.seq, 5);
    assert!(broken.problem.contains("deleted"), "{}", broken.problem);
    assert_eq!(report.checked, 4);
}

#[test]
fn a_row_inserted_in_the_middle_is_the_first_broken_link() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 5);
    // Act: shift rows 3.. up by one (via negative seqs, so the key never collides) and
    // slip a copy of row 2, linked to it, in at seq 3.
    tamper(
        &store,
        "UPDATE audit_events SET seq = -(seq + 1) WHERE seq >= 3; \
         UPDATE audit_events SET seq = -seq WHERE seq < 0; \
         INSERT INTO audit_events (seq, at, actor, action, target, details, prev_hash, hash) \
         SELECT 3, at, actor, action, 'thing:forged', details, hash, hash \
         FROM audit_events WHERE seq = 2;",
    );
    // Assert
    assert_eq!(all_rows(&store).len(), 6);
    assert_eq!(broken_at(&store), 3);
}

#[test]
fn a_well_formed_row_appended_behind_the_heads_back_is_the_first_broken_link() {
    // Arrange: a correctly chained event whose head update is then undone, as when a
    // row is written without going through the head lock.
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 3);
    let (seq, hash) = store.read(store::read_audit_head).unwrap();
    // Act
    record_events(&store, 1);
    tamper(
        &store,
        &format!("UPDATE audit_head SET seq = {seq}, hash = '{hash}' WHERE id = 1"),
    );
    // Assert
    let report = verify(&store);
    let broken = report.broken.unwrap();
    assert_eq!(broken.seq, 4, "{}", broken.problem);
    assert!(broken.problem.contains("head"), "{}", broken.problem);
}

#[test]
fn a_changed_head_is_reported() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 3);
    // Act
    tamper(
        &store,
        &format!(
            "UPDATE audit_head SET hash = '{}' WHERE id = 1",
            "f".repeat(64)
        ),
    );
    // Assert
    let broken = verify(&store).broken.unwrap();
    assert_eq!(broken.seq, 3, "the last row no longer matches the head");
    assert!(broken.problem.contains("head"), "{}", broken.problem);
}

#[test]
fn concurrent_writers_keep_one_linear_chain() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    let (threads, per_thread) = (8, 25);
    let start = Arc::new(Barrier::new(threads));
    // Act
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (store, start) = (store.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                (0..per_thread)
                    .map(|i| {
                        store
                            .write(|c| {
                                audit::record(
                                    c,
                                    &Actor::System,
                                    countersign::audit::AuditAction::UserCreated,
                                    &format!("thread:{t}"),
                                    json!({"i": i}),
                                    TEST_NOW,
                                )
                            })
                            .unwrap()
                    })
                    .collect::<Vec<i64>>()
            })
        })
        .collect();
    let seqs: Vec<Vec<i64>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    // Assert
    let total = i64::try_from(threads * per_thread).unwrap();
    let report = verify(&store);
    assert_eq!(report.broken, None);
    assert_eq!((report.checked, report.head.0), (total, total));
    let mut all: Vec<i64> = seqs.iter().flatten().copied().collect();
    all.sort_unstable();
    assert_eq!(all, (1..=total).collect::<Vec<_>>(), "seq 1..=200, no gaps");
    for (t, mine) in seqs.iter().enumerate() {
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "thread {t} in order");
        let rows: Vec<AuditRow> = all_rows(&store)
            .into_iter()
            .filter(|r| r.target == format!("thread:{t}"))
            .collect();
        let is: Vec<Value> = rows
            .iter()
            .map(|r| serde_json::from_str::<Value>(&r.details).unwrap()["i"].clone())
            .collect();
        assert_eq!(is, (0..per_thread).map(|i| json!(i)).collect::<Vec<_>>());
    }
}

#[test]
fn the_database_refuses_to_change_or_delete_audit_events() {
    use diesel::connection::SimpleConnection;
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    record_events(&store, 3);
    // Act
    let refused: Vec<bool> = [
        "UPDATE audit_events SET actor = 'system' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 3",
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
    let report = verify(&store);
    assert_eq!((report.checked, report.broken), (3, None));
}
