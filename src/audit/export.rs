//! `countersign audit export` / `tail`: events as JSON lines for a SIEM.

use std::io::Write;

use serde_json::{json, Value};

use crate::store::{self, AuditRow, DbConn, StoreError};

/// Where an export starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// Events with a seq greater than this.
    Seq(i64),
    /// Events at or after this unix time.
    Time(i64),
}

impl Since {
    /// Parses a seq (digits) or an RFC 3339 time.
    pub fn parse(text: &str) -> Result<Since, String> {
        if let Ok(seq) = text.parse::<i64>() {
            return Ok(Since::Seq(seq));
        }
        chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| Since::Time(t.timestamp()))
            .map_err(|_| format!("{text:?} is neither a seq number nor an RFC 3339 time"))
    }
}

/// One event as an export line.
pub fn to_json(row: &AuditRow) -> Value {
    let at = chrono::DateTime::from_timestamp(row.at, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    json!({
        "seq": row.seq,
        "at": at,
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "details": serde_json::from_str::<Value>(&row.details).unwrap_or(Value::Null),
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    })
}

/// Writes every event after `since` as JSON lines, in batches; returns the last seq.
pub fn export(c: &mut DbConn, since: Since, out: &mut dyn Write) -> Result<i64, ExportError> {
    let mut after = match since {
        Since::Seq(seq) => seq,
        Since::Time(at) => store::audit_seq_before_time(c, at)?,
    };
    loop {
        let rows = store::audit_rows_after(c, after, 1000)?;
        let Some(last) = rows.last() else {
            return Ok(after);
        };
        after = last.seq;
        for row in &rows {
            writeln!(out, "{}", to_json(row))?;
        }
    }
}

/// Exporting failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the chain failed.
    // Not `transparent`: the store error must stay in the chain of causes, where the
    // pages look for an unavailable database.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Writing the output failed.
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
}
