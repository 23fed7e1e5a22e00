//! Anchoring: signing the chain head into a [`Checkpoint`] (`countersign audit anchor`
//! and the `serve` task behind `audit_anchor_interval`), and the checkpoint half of
//! `audit verify`. The hash chain alone cannot catch someone who edits a row and
//! recomputes every later hash; a checkpoint can, because its signature needs the
//! secret key, which is not in the database.

use super::checkpoint::Checkpoint;
use super::Broken;
use crate::crypto::{AnchorKey, AnchorPublicKey};
use crate::store::{self, DbConn, Store, StoreError};

/// What anchoring the head did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchored {
    /// The head was signed and the checkpoint stored.
    New(Checkpoint),
    /// The head had not moved since it was last anchored: its stored checkpoint.
    Unchanged(Checkpoint),
    /// There are no events to anchor yet.
    EmptyChain,
}

impl Anchored {
    /// The checkpoint of the head, if the chain has events.
    pub fn checkpoint(&self) -> Option<&Checkpoint> {
        match self {
            Anchored::New(checkpoint) | Anchored::Unchanged(checkpoint) => Some(checkpoint),
            Anchored::EmptyChain => None,
        }
    }
}

/// Signs the chain head as of `now` and stores the checkpoint, in one write
/// transaction that holds the head lock, so the head cannot move while it is signed.
pub fn anchor(store: &Store, key: &AnchorKey, now: i64) -> Result<Anchored, StoreError> {
    store.write(|c| {
        let (seq, hash) = store::lock_audit_head(c)?;
        if seq == 0 {
            return Ok(Anchored::EmptyChain);
        }
        if let Some(row) = store::checkpoint_at(c, seq)? {
            return Ok(Anchored::Unchanged(row.into()));
        }
        let checkpoint = Checkpoint::sign(key, seq, &hash, now);
        store::insert_checkpoint(c, &(&checkpoint).into())?;
        Ok(Anchored::New(checkpoint))
    })
}

/// The stored checkpoints, oldest first.
pub fn stored_checkpoints(c: &mut DbConn) -> Result<Vec<Checkpoint>, StoreError> {
    Ok(store::list_checkpoints(c)?
        .into_iter()
        .map(Checkpoint::from)
        .collect())
}

/// The outcome of checking checkpoints against the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointReport {
    /// Checkpoints checked.
    pub checked: usize,
    /// The checkpoint of the highest seq that holds.
    pub latest: Option<Checkpoint>,
    /// Every checkpoint that does not hold, by seq.
    pub broken: Vec<Broken>,
}

/// Checks each checkpoint: a trusted key signed it, and the event at its seq still has
/// the hash it signed (so, with an intact chain, every event up to it is unchanged).
pub fn verify_checkpoints(
    c: &mut DbConn,
    checkpoints: &[Checkpoint],
    trusted: &[AnchorPublicKey],
) -> Result<CheckpointReport, StoreError> {
    let mut sorted: Vec<&Checkpoint> = checkpoints.iter().collect();
    sorted.sort_by_key(|checkpoint| checkpoint.seq);
    let mut report = CheckpointReport {
        checked: 0,
        latest: None,
        broken: Vec::new(),
    };
    for checkpoint in sorted {
        report.checked += 1;
        let holds_since = report.latest.as_ref().map(|good| good.seq);
        match check_one(c, checkpoint, trusted, holds_since)? {
            Some(problem) => report.broken.push(Broken {
                seq: checkpoint.seq,
                problem,
            }),
            None => report.latest = Some(checkpoint.clone()),
        }
    }
    Ok(report)
}

/// What is wrong with one checkpoint; `holds_since` is the highest lower seq whose
/// checkpoint holds, which narrows down where a rewrite began.
fn check_one(
    c: &mut DbConn,
    checkpoint: &Checkpoint,
    trusted: &[AnchorPublicKey],
    holds_since: Option<i64>,
) -> Result<Option<String>, StoreError> {
    let (seq, when) = (checkpoint.seq, rfc3339(checkpoint.at));
    if let Err(problem) = checkpoint.check_signature(trusted) {
        return Ok(Some(format!(
            "the checkpoint of seq {seq} is refused: {problem}"
        )));
    }
    let row = store::audit_rows_after(c, seq - 1, 1)?
        .into_iter()
        .find(|row| row.seq == seq);
    let Some(row) = row else {
        return Ok(Some(format!(
            "the event checkpointed at {when} is gone: rows were deleted"
        )));
    };
    if row.hash == checkpoint.hash {
        return Ok(None);
    }
    let since = match holds_since {
        Some(good) => format!("after seq {good} (whose checkpoint holds) and "),
        None => String::new(),
    };
    Ok(Some(format!(
        "the event no longer has the hash its checkpoint signed at {when}: \
         the chain was rewritten {since}at or before this seq"
    )))
}

fn rfc3339(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}
