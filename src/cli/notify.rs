//! `countersign group set-notify`, `user link-slack|link-teams|unlink-chat` and
//! `outbox list|retry` (DESIGN.md §5.4). Webhook URLs are shown redacted: their query
//! carries the secret.

use std::io::Write;

use clap::{Args, Subcommand};
use serde_json::json;

use crate::audit::Actor;
use crate::manage::{self, NotifyChanges};
use crate::notify::Target;
use crate::store::{OutboxFilter, OutboxRow, Store};

/// `group set-notify GROUP …`
#[derive(Debug, Args)]
pub struct SetNotifyArgs {
    /// Group name.
    pub group: String,
    /// Post to this Slack channel (its id, e.g. C0123456789; invite the bot first).
    #[arg(long, value_name = "ID")]
    pub slack_channel: Option<String>,
    /// Instead of a channel: a Slack DM to each member linked with `user link-slack`.
    #[arg(long)]
    pub slack_dm: bool,
    /// Post an Adaptive Card to this Teams Workflows webhook.
    #[arg(long, value_name = "URL")]
    pub teams_webhook: Option<String>,
    /// Post the bot's card (Approve/Deny inside Teams) into this Teams conversation.
    #[arg(long, value_name = "ID", requires = "teams_service_url")]
    pub teams_conversation: Option<String>,
    /// The conversation's Bot Connector service URL (e.g. https://smba.trafficmanager.net/emea/).
    #[arg(long, value_name = "URL", requires = "teams_conversation")]
    pub teams_service_url: Option<String>,
    /// Send signed Standard Webhooks events to this URL.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// Mail this address.
    #[arg(long, value_name = "ADDR")]
    pub email: Option<String>,
    /// Remove every channel of the group first (alone: notify nobody).
    #[arg(long)]
    pub clear: bool,
}

/// `outbox …`
#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List notifications, newest first.
    List {
        /// pending, delivered, dead or all.
        #[arg(long, default_value = "pending")]
        state: String,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Send an undelivered (for example dead-lettered) notification again now.
    Retry {
        /// Notification id (from `outbox list`).
        id: String,
    },
}

/// `group set-notify`.
pub fn set_notify(
    args: SetNotifyArgs,
    store: &Store,
    actor: &Actor,
    now: i64,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let changes = NotifyChanges {
        clear: args.clear,
        slack_channel: args.slack_channel,
        slack_dm: args.slack_dm,
        teams_webhook: args.teams_webhook,
        teams_conversation: args.teams_service_url.zip(args.teams_conversation),
        webhook: args.webhook,
        email: args.email,
    };
    manage::set_group_notify(store, &args.group, changes, actor, now)?;
    let now_set = manage::group_channels(store, Some(&args.group))?;
    if now_set.is_empty() {
        writeln!(out, "{} is notified nowhere", args.group)?;
    }
    for (group, target) in now_set {
        writeln!(out, "{group}\t{}", target.redacted())?;
    }
    Ok(())
}

fn filter(text: &str) -> anyhow::Result<OutboxFilter> {
    Ok(match text {
        "pending" => OutboxFilter::Pending,
        "delivered" => OutboxFilter::Delivered,
        "dead" => OutboxFilter::Dead,
        "all" => OutboxFilter::All,
        other => anyhow::bail!("--state {other:?} is not pending, delivered, dead or all"),
    })
}

fn state(row: &OutboxRow) -> &'static str {
    match (row.delivered_at, row.dead_at) {
        (Some(_), _) => "delivered",
        (_, Some(_)) => "dead",
        _ => "pending",
    }
}

fn shown_target(row: &OutboxRow) -> String {
    Target::parse(&row.target).map_or_else(|| "(unreadable)".into(), |t| t.redacted())
}

/// `outbox list|retry`.
pub fn outbox(
    command: OutboxCommand,
    store: &Store,
    actor: &Actor,
    now: i64,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match command {
        OutboxCommand::List {
            state: wanted,
            limit,
            json,
        } => {
            let rows = manage::list_outbox(store, filter(&wanted)?, limit.clamp(1, 10_000))?;
            if json {
                let list: Vec<_> = rows
                    .iter()
                    .map(|r| {
                        json!({"id": r.id, "kind": r.kind, "target": shown_target(r),
                            "approval_id": r.approval_id, "state": state(r), "attempts": r.attempts,
                            "next_attempt_at": r.next_attempt_at, "delivered_at": r.delivered_at,
                            "dead_at": r.dead_at, "last_error": r.last_error, "created_at": r.created_at})
                    })
                    .collect();
                writeln!(out, "{}", serde_json::Value::Array(list))?;
            } else {
                for r in rows {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\tattempts={}\t{}",
                        r.id,
                        state(&r),
                        r.kind,
                        shown_target(&r),
                        r.attempts,
                        r.last_error.as_deref().unwrap_or("")
                    )?;
                }
            }
        }
        OutboxCommand::Retry { id } => {
            manage::retry_outbox(store, &id, actor, now)?;
            writeln!(out, "notification {id} will be sent again now")?;
        }
    }
    Ok(())
}
