//! `countersign keys …` and `countersign audit …`: signing keys and the audit chain.

use std::io::Write;
use std::process::ExitCode;

use super::{AuditCommand, KeysCommand};
use crate::audit::{self, Actor, Since};
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

pub(super) fn audit_command(
    command: AuditCommand,
    store: &Store,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let mut conn = store.conn()?;
    match command {
        AuditCommand::Verify => {
            let report = audit::verify(&mut conn)?;
            match report.broken {
                None => {
                    writeln!(
                        out,
                        "ok: {} events, head seq {} hash {}",
                        report.checked, report.head.0, report.head.1
                    )?;
                }
                Some(broken) => {
                    writeln!(out, "BROKEN at seq {}: {}", broken.seq, broken.problem)?;
                    return Ok(ExitCode::from(1));
                }
            }
        }
        AuditCommand::Export { since, format: _ } => {
            let since = since
                .as_deref()
                .map(Since::parse)
                .transpose()
                .map_err(anyhow::Error::msg)?;
            audit::export(&mut conn, since.unwrap_or(Since::Seq(0)), out)?;
        }
        AuditCommand::Tail { lines, follow } => {
            let head = crate::store::read_audit_head(&mut conn)?.0;
            let mut after =
                audit::export(&mut conn, Since::Seq((head - lines.max(0)).max(0)), out)?;
            if follow {
                loop {
                    out.flush()?;
                    std::thread::sleep(std::time::Duration::from_secs(1));
                    after = audit::export(&mut conn, Since::Seq(after), out)?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn rfc3339(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}
