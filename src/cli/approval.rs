//! `countersign approval list|show|revoke`.

use std::io::Write;

use clap::Subcommand;
use serde_json::json;

use crate::approval::records::{self, ApprovalRecord};
use crate::audit::Actor;
use crate::store::Store;

/// `approval …`
#[derive(Debug, Subcommand)]
pub enum ApprovalCommand {
    /// List approvals, newest first.
    List {
        /// Only this state: pending, approved, denied, expired, cancelled, redeemed, revoked.
        #[arg(long)]
        state: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one approval with its votes.
    Show {
        /// Approval id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an approved approval: its tokens stop working at once.
    Revoke {
        /// Approval id.
        id: String,
    },
}

fn rfc3339(at: Option<i64>) -> Option<String> {
    at.and_then(|at| chrono::DateTime::from_timestamp(at, 0))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn to_json(record: &ApprovalRecord) -> serde_json::Value {
    let row = &record.row;
    let votes: Vec<_> = record
        .votes
        .iter()
        .map(|(v, name)| json!({"approver": name, "approver_sub": v.approver_id, "decision": v.decision,
            "comment": v.comment, "at": rfc3339(Some(v.at)), "amr": v.amr, "credential_id": v.credential_id}))
        .collect();
    json!({
        "id": row.id, "state": row.state, "requester": record.requester, "requester_sub": row.requester_id,
        "client_id": row.client_id, "scope": row.scopes, "justification": row.justification,
        "requirements": serde_json::from_str::<serde_json::Value>(&row.requirements).unwrap_or_default(),
        "created_at": rfc3339(Some(row.created_at)), "expires_at": rfc3339(Some(row.expires_at)),
        "decided_at": rfc3339(row.decided_at), "access_until": rfc3339(row.access_until),
        "requester_ip": row.requester_ip, "requester_user_agent": row.requester_user_agent, "votes": votes,
    })
}

/// Runs an `approval` command.
pub fn run(
    command: ApprovalCommand,
    store: &Store,
    now: i64,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match command {
        ApprovalCommand::List { state, json } => {
            let state = state.as_deref().map(records::parse_state).transpose()?;
            let found = records::list(store, state, now)?;
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::Value::Array(found.iter().map(to_json).collect())
                )?;
            } else {
                for r in found {
                    let created = rfc3339(Some(r.row.created_at)).unwrap_or_default();
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        r.row.id, r.row.state, r.requester, r.row.client_id, r.row.scopes, created
                    )?;
                }
            }
        }
        ApprovalCommand::Show { id, json } => {
            let record = records::show(store, &records::parse_id(&id)?, now)?;
            if json {
                writeln!(out, "{}", to_json(&record))?;
            } else {
                let value = to_json(&record);
                for key in [
                    "id",
                    "state",
                    "requester",
                    "client_id",
                    "scope",
                    "justification",
                    "created_at",
                    "expires_at",
                    "decided_at",
                    "access_until",
                    "requester_ip",
                ] {
                    if let Some(text) = value[key].as_str() {
                        writeln!(out, "{key}: {text}")?;
                    }
                }
                for (vote, name) in &record.votes {
                    let comment = vote
                        .comment
                        .as_deref()
                        .map(|c| format!(" ({c})"))
                        .unwrap_or_default();
                    // How they proved themselves: "pwd+otp+mfa"; "chat" for a chat vote.
                    let proof = match vote.amr.is_empty() {
                        true => "chat".to_owned(),
                        false => vote.amr.join("+"),
                    };
                    writeln!(
                        out,
                        "vote: {name} {}{comment} at {} ({proof})",
                        vote.decision,
                        rfc3339(Some(vote.at)).unwrap_or_default()
                    )?;
                }
            }
        }
        ApprovalCommand::Revoke { id } => {
            let row = records::revoke(store, &records::parse_id(&id)?, &Actor::Cli, now)?;
            writeln!(
                out,
                "revoked approval {} (was valid until {})",
                row.id,
                rfc3339(row.access_until).unwrap_or_default()
            )?;
        }
    }
    Ok(())
}
