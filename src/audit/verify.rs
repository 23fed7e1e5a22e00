//! `countersign audit verify`: walks the chain and reports the first broken link.

use super::expected_hash;
use crate::store::{self, DbConn, StoreError};

/// Where the chain breaks and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The seq of the first row that does not fit.
    pub seq: i64,
    /// What is wrong with it.
    pub problem: String,
}

/// The outcome of a walk over the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Events checked.
    pub checked: i64,
    /// The recorded head `(seq, hash)`.
    pub head: (i64, String),
    /// The first broken link, if any.
    pub broken: Option<Broken>,
}

const BATCH: i64 = 1000;

/// Walks every event in seq order: seqs are consecutive from 1, each `prev_hash` is the
/// previous row's `hash`, each `hash` recomputes, and the last row is the recorded head
/// (which catches rows deleted from the end).
pub fn verify(c: &mut DbConn) -> Result<Verification, StoreError> {
    let head = store::read_audit_head(c)?;
    let (mut expected_seq, mut prev_hash) = (1_i64, super::genesis_hash());
    let mut checked = 0;
    loop {
        let rows = store::audit_rows_after(c, expected_seq - 1, BATCH)?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            break;
        };
        for row in &rows {
            let problem = if row.seq != expected_seq {
                Some(format!(
                    "expected seq {expected_seq} here: a row was deleted or inserted"
                ))
            } else if row.prev_hash != prev_hash {
                Some("prev_hash does not match the previous row: a row before it was changed, deleted or inserted".to_owned())
            } else if expected_hash(row) != row.hash {
                Some("hash does not match the row's contents: the row was changed".to_owned())
            } else {
                None
            };
            if let Some(problem) = problem {
                let seq = row.seq.min(expected_seq);
                return Ok(Verification {
                    checked,
                    head,
                    broken: Some(Broken { seq, problem }),
                });
            }
            checked += 1;
            expected_seq += 1;
            prev_hash = row.hash.clone();
        }
        if last != expected_seq - 1 {
            break;
        }
    }
    let last = expected_seq - 1;
    let broken = if head.0 != last || head.1 != prev_hash {
        // Name the first row that does not fit the head: the first missing one (rows
        // deleted from the end), the first one past the head (rows appended without
        // moving it), or the last one (the head's hash was changed).
        let (seq, problem) = match head.0.cmp(&last) {
            std::cmp::Ordering::Greater => (
                last + 1,
                format!("the chain ends at seq {last} but its head records seq {}: rows were deleted from the end", head.0),
            ),
            std::cmp::Ordering::Less => (
                head.0 + 1,
                format!("the chain goes on to seq {last} but its head records seq {}: rows were added without moving the head", head.0),
            ),
            std::cmp::Ordering::Equal => (
                last.max(1),
                "the head's hash does not match the last row: the head or that row was changed".to_owned(),
            ),
        };
        Some(Broken { seq, problem })
    } else {
        None
    };
    Ok(Verification {
        checked,
        head,
        broken,
    })
}
