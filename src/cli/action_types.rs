//! `countersign action-type …`: the RFC 9396 `authorization_details` types clients may
//! ask approval for, each with its JSON Schema and the sensitive scope whose policy
//! approves it.

use std::io::Write;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::approval::hooks::HookFailure;
use crate::audit::Actor;
use crate::manage::{self, ActionTypeChanges};
use crate::store::Store;

/// `action-type …`
#[derive(Debug, Subcommand)]
pub enum ActionTypeCommand {
    /// Register an action type.
    Add {
        /// The `type` of its `authorization_details` objects ("payment").
        name: String,
        /// Schema, description and policy.
        #[command(flatten)]
        flags: ActionTypeFlags,
    },
    /// Change an action type (only the flags given; its version goes up).
    Update {
        /// The action type.
        name: String,
        /// Schema, description and policy.
        #[command(flatten)]
        flags: ActionTypeFlags,
    },
    /// List action types.
    List {
        /// Print JSON (schemas included).
        #[arg(long)]
        json: bool,
    },
    /// Remove an action type: new requests can no longer use it.
    Remove {
        /// The action type.
        name: String,
    },
}

/// Flags shared by `action-type add` and `action-type update`.
#[derive(Debug, Args)]
pub struct ActionTypeFlags {
    /// What it is, in words approvers and clients read.
    #[arg(long)]
    description: Option<String>,
    /// A file holding the JSON Schema each object of this type must satisfy.
    #[arg(long, value_name = "FILE.json")]
    schema: Option<std::path::PathBuf>,
    /// The sensitive scope whose approval policy (approvers, quorum, times, factor)
    /// approves requests of this type.
    #[arg(long, value_name = "SCOPE")]
    policy_scope: Option<String>,
    /// A decision endpoint asked about each entry of this type (a signed POST; it
    /// answers {"decision": "approve"|"deny"|"require", "groups": "…", "reason": "…"}).
    #[arg(long, value_name = "URL")]
    hook: Option<String>,
    /// Remove the decision hook (update).
    #[arg(long, conflicts_with = "hook")]
    no_hook: bool,
    /// How long the hook may take (default 2s, at most 30s).
    #[arg(long, value_name = "DURATION", value_parser = crate::config::parse_duration)]
    hook_timeout: Option<std::time::Duration>,
    /// What a hook that fails or times out means: deny, or human (the approvers decide;
    /// the default).
    #[arg(long, value_name = "MODE", value_parser = parse_failure)]
    on_hook_failure: Option<HookFailure>,
}

fn parse_failure(text: &str) -> Result<HookFailure, String> {
    HookFailure::parse(text).ok_or_else(|| "must be deny or human".into())
}

impl ActionTypeFlags {
    fn into_changes(self) -> anyhow::Result<ActionTypeChanges> {
        let schema = match self.schema {
            None => None,
            Some(path) => Some(
                std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
            ),
        };
        let hook_url = match (self.hook, self.no_hook) {
            (_, true) => Some(None),
            (Some(url), false) => Some(Some(url)),
            (None, false) => None,
        };
        let hook_timeout_ms = self
            .hook_timeout
            .map(|t| i32::try_from(t.as_millis()).unwrap_or(i32::MAX));
        Ok(ActionTypeChanges {
            description: self.description,
            schema,
            policy_scope: self.policy_scope,
            hook_url,
            hook_timeout_ms,
            hook_failure: self.on_hook_failure,
        })
    }
}

pub(super) fn action_type(
    command: ActionTypeCommand,
    store: &Store,
    actor: &Actor,
    now: i64,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match command {
        ActionTypeCommand::Add { name, flags } => {
            let row = manage::add_action_type(store, &name, flags.into_changes()?, actor, now)?;
            writeln!(
                out,
                "created action type {} (approved under scope {})",
                row.name, row.policy_scope
            )?;
        }
        ActionTypeCommand::Update { name, flags } => {
            let row = manage::update_action_type(store, &name, flags.into_changes()?, actor, now)?;
            writeln!(
                out,
                "updated action type {} (version {})",
                row.name, row.version
            )?;
        }
        ActionTypeCommand::List { json } => {
            let rows = manage::list_action_types(store)?;
            if json {
                let list: Vec<serde_json::Value> =
                    rows.iter().map(manage::describe_action_type).collect();
                writeln!(out, "{}", serde_json::Value::Array(list))?;
            } else {
                for t in rows {
                    writeln!(
                        out,
                        "{}\tscope {}\tversion {}\t{}",
                        t.name, t.policy_scope, t.version, t.description
                    )?;
                }
            }
        }
        ActionTypeCommand::Remove { name } => {
            manage::remove_action_type(store, &name, actor, now)?;
            writeln!(out, "removed action type {name}")?;
        }
    }
    Ok(())
}
