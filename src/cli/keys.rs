//! `countersign keys …`: signing keys.

use std::io::Write;

use super::KeysCommand;
use crate::audit::Actor;
use crate::config::Config;
use crate::crypto::{KeyRing, Sealer};
use crate::manage;
use crate::store::Store;

pub(super) fn keys(
    command: KeysCommand,
    config: &Config,
    store: &Store,
    actor: &Actor,
    now: i64,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match command {
        KeysCommand::List => {
            for key in manage::list_keys(store, now)? {
                let retire = key
                    .retire_at
                    .map(|t| format!("\tretires at {}", rfc3339(t)))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{}\t{}\t{}\tcreated {}{retire}",
                    key.kid,
                    key.alg,
                    key.state,
                    rfc3339(key.created_at)
                )?;
            }
        }
        KeysCommand::Rotate => {
            let ring = KeyRing::new(Sealer::new(&config.resolve_secret_key()?));
            let rows =
                manage::rotate_keys(store, &ring, config.longest_signed_token_ttl(), actor, now)?;
            for row in rows {
                writeln!(out, "new active key {} {}", row.alg, row.kid)?;
            }
        }
    }
    Ok(())
}

fn rfc3339(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}
