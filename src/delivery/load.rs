//! What a delivery reads and writes in the store: the snapshot of the approval as it
//! is now (rendered by `notify`), and the outcome of each attempt.

use crate::approval::notices::Notice;
use crate::approval::views::snapshot;
use crate::notify::ApprovalSnapshot;
use crate::store::{self, OutboxRow, Store, StoreError};

/// A claimed row, ready to send.
pub struct Due {
    /// The row.
    pub row: OutboxRow,
    /// What it announces.
    pub notice: Notice,
    /// The approval as it is now.
    pub snapshot: ApprovalSnapshot,
}

/// Why a claimed row cannot be sent at all (it is dead-lettered).
#[derive(Debug)]
pub struct Unsendable(pub String);

/// Reads the approval of a claimed row and renders its snapshot. `Ok(None)`: nothing to
/// send (a reminder for an approval that no longer waits).
pub fn due(
    store: &Store,
    row: OutboxRow,
    issuer: &str,
    now: i64,
) -> Result<Result<Option<Due>, Unsendable>, StoreError> {
    let Some(notice) = Notice::parse(&row.kind) else {
        return Ok(Err(Unsendable(format!("unknown kind {:?}", row.kind))));
    };
    let Some(approval_id) = row.approval_id.clone() else {
        return Ok(Err(Unsendable("the row names no approval".into())));
    };
    store.read(|c| {
        let Some(approval) = store::approval_by_id(c, &approval_id)? else {
            return Ok(Err(Unsendable("the approval no longer exists".into())));
        };
        if notice == Notice::Reminder && approval.state.is_decided() {
            return Ok(Ok(None));
        }
        let snapshot = snapshot(c, approval, issuer, now)?;
        Ok(Ok(Some(Due {
            row,
            notice,
            snapshot,
        })))
    })
}
