//! Outbox claims are leases: a worker that dies mid-delivery does not lose a row, and
//! two workers (instances) never hold the same row at once.

use countersign::store::{self, OutboxRow};

use crate::helpers::{TestDb, TEST_NOW};

fn row(id: &str) -> OutboxRow {
    OutboxRow {
        id: id.into(),
        kind: "requested".into(),
        target: format!("webhook:https://example.com/{id}"),
        payload: "{}".into(),
        attempts: 0,
        next_attempt_at: TEST_NOW,
        delivered_at: None,
        last_error: None,
        created_at: TEST_NOW,
        approval_id: None,
        locked_until: None,
        dead_at: None,
    }
}

#[test]
fn a_claim_is_a_lease_that_runs_out_when_its_worker_dies() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    store
        .write(|c| store::insert_outbox(c, &row("n1")))
        .unwrap();
    // Act: a worker claims the row for 60 s and dies without an outcome.
    let first = store
        .write(|c| store::claim_outbox(c, TEST_NOW, 60, 10))
        .unwrap();
    let during = store
        .write(|c| store::claim_outbox(c, TEST_NOW + 59, 60, 10))
        .unwrap();
    let after = store
        .write(|c| store::claim_outbox(c, TEST_NOW + 60, 60, 10))
        .unwrap();
    // Assert
    assert_eq!(first.len(), 1);
    assert!(during.is_empty(), "held while the lease lasts");
    assert_eq!(after.len(), 1, "claimed again once it ran out");
    assert_eq!(after[0].id, "n1");
}

#[test]
fn concurrent_workers_never_claim_the_same_row() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    for i in 0..40 {
        store
            .write(|c| store::insert_outbox(c, &row(&format!("n{i:02}"))))
            .unwrap();
    }
    // Act: four workers claim five at a time until nothing is left.
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                for _ in 0..40 {
                    let got = store
                        .write(|c| store::claim_outbox(c, TEST_NOW, 60, 5))
                        .unwrap();
                    if got.is_empty() {
                        break;
                    }
                    mine.extend(got.into_iter().map(|r| r.id));
                }
                mine
            })
        })
        .collect();
    let mut all: Vec<String> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    // Assert: every row claimed exactly once.
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "a row was claimed twice");
    assert_eq!(all.len(), 40);
}
