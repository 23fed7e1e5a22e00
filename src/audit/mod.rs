//! The tamper-evident audit trail: an append-only, hash-chained log of every decision
//! and change. Each event is appended in the transaction of the change it records;
//! `hash = SHA-256(prev_hash | canonical JSON of [seq, at, actor, action, target,
//! details])`, so editing, deleting or inserting a row breaks the chain at that row.
//! Someone who can write the database could still recompute every later hash, so the
//! head is also anchored: signed into checkpoints with a key the database does not hold.

mod action;
mod anchor;
mod canonical;
mod checkpoint;
mod export;
mod verify;

pub use action::AuditAction;
pub use anchor::{anchor, stored_checkpoints, verify_checkpoints, Anchored, CheckpointReport};
pub use checkpoint::{Checkpoint, SignatureProblem};
pub use export::{export, to_json, ExportError, Since};
pub use verify::{verify, Broken, Verification};

use serde_json::Value;

use crate::ids::{ClientId, UserId};
use crate::store::{self, AuditRow, DbConn, StoreError};

/// Who did it: a user (`user:<sub>`), a client (`client:<client_id>`), the admin CLI
/// (`cli`) or the server itself (`system`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user, by `sub`.
    User(UserId),
    /// An OAuth client, by `client_id`.
    Client(ClientId),
    /// The command-line administrator.
    Cli,
    /// The server (sweeps, startup).
    System,
    /// Someone not (yet) authenticated, e.g. a failed login.
    Anonymous,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::User(sub) => write!(f, "user:{sub}"),
            Actor::Client(id) => write!(f, "client:{id}"),
            Actor::Cli => f.write_str("cli"),
            Actor::System => f.write_str("system"),
            Actor::Anonymous => f.write_str("anonymous"),
        }
    }
}

/// Appends one event to the chain inside the caller's write transaction and returns
/// its `seq`. The head row lock makes concurrent appends queue, so the chain is linear.
pub fn record(
    c: &mut DbConn,
    actor: &Actor,
    action: AuditAction,
    target: &str,
    details: Value,
    now: i64,
) -> Result<i64, StoreError> {
    let (head_seq, head_hash) = store::lock_audit_head(c)?;
    let seq = head_seq + 1;
    let details = canonical::to_string(&details);
    let actor = actor.to_string();
    let hash = chain_hash(
        &head_hash,
        seq,
        now,
        &actor,
        action.as_str(),
        target,
        &details,
    );
    store::append_audit_row(
        c,
        &AuditRow {
            seq,
            at: now,
            actor,
            action: action.as_str().into(),
            target: target.into(),
            details,
            prev_hash: head_hash,
            hash,
        },
    )?;
    Ok(seq)
}

/// The hash of an event given its predecessor's hash.
fn chain_hash(
    prev_hash: &str,
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    target: &str,
    details: &str,
) -> String {
    let body = canonical::to_string(&serde_json::json!([
        seq, at, actor, action, target, details
    ]));
    crate::crypto::sha256_hex(format!("{prev_hash}|{body}").as_bytes())
}

/// The hash a stored row should have.
fn expected_hash(row: &AuditRow) -> String {
    chain_hash(
        &row.prev_hash,
        row.seq,
        row.at,
        &row.actor,
        &row.action,
        &row.target,
        &row.details,
    )
}

/// The `prev_hash` of the first event.
fn genesis_hash() -> String {
    "0".repeat(64)
}
