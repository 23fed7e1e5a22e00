//! `countersign rules …`: the Cedar approval rules (README "Approval rules").

use std::io::Write;

use anyhow::Context;
use clap::Subcommand;

use crate::audit::Actor;
use crate::manage;
use crate::store::Store;

/// `rules …`
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Replace the rules with the Cedar policies in FILE (a new version).
    Set {
        /// A file of Cedar policies.
        #[arg(value_name = "FILE.cedar")]
        file: std::path::PathBuf,
    },
    /// Print the rules in force, after a `# version N` line.
    Show,
}

pub(super) fn rules(
    command: RulesCommand,
    store: &Store,
    actor: &Actor,
    now: i64,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match command {
        RulesCommand::Set { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let version = manage::set_rules(store, &text, actor, now)?;
            writeln!(out, "rules version {version} in force")?;
        }
        RulesCommand::Show => match manage::current_rules(store)? {
            None => writeln!(
                out,
                "# no rules: every sensitive request goes to its approvers"
            )?,
            Some((version, text)) => write!(out, "# version {version}\n{text}")?,
        },
    }
    Ok(())
}
