//! Signed checkpoints of the audit chain's head, one row per anchored seq. The rows are
//! only as trustworthy as their signatures: `audit::verify_checkpoints` checks each.

use diesel::prelude::*;

use super::{DbConn, StoreError};

// Declared here rather than in schema.rs so the table's whole storage story sits in one
// file; it is never joined with another table.
diesel::table! {
    /// Signed checkpoints of the audit chain's head.
    audit_checkpoints (seq) {
        /// The anchored event.
        seq -> BigInt,
        /// That event's hash.
        hash -> Text,
        /// When it was anchored (unix seconds).
        at -> BigInt,
        /// The anchor key's RFC 7638 thumbprint.
        kid -> Text,
        /// Ed25519 signature, base64url.
        signature -> Text,
    }
}

/// A row of `audit_checkpoints`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_checkpoints)]
#[allow(missing_docs)]
pub struct CheckpointRow {
    pub seq: i64,
    pub hash: String,
    pub at: i64,
    pub kid: String,
    pub signature: String,
}

/// Stores a checkpoint. The caller holds the audit head lock and has checked with
/// [`checkpoint_at`] that its seq has none yet.
pub fn insert_checkpoint(c: &mut DbConn, row: &CheckpointRow) -> Result<(), StoreError> {
    diesel::insert_into(audit_checkpoints::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// The checkpoint of `seq`, if there is one.
pub fn checkpoint_at(c: &mut DbConn, seq: i64) -> Result<Option<CheckpointRow>, StoreError> {
    Ok(audit_checkpoints::table
        .find(seq)
        .select(CheckpointRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Every stored checkpoint, oldest seq first.
pub fn list_checkpoints(c: &mut DbConn) -> Result<Vec<CheckpointRow>, StoreError> {
    Ok(audit_checkpoints::table
        .order(audit_checkpoints::seq.asc())
        .select(CheckpointRow::as_select())
        .load(c)?)
}
