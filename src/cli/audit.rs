//! `countersign audit verify|anchor|export|tail`: check the chain and its signed
//! checkpoints, anchor the head, and stream events as JSON lines.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use crate::audit::{self, Checkpoint, Since};
use crate::config::Config;
use crate::crypto::{AnchorKey, AnchorPublicKey};
use crate::store::{DbConn, Store};

/// `audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain and check the signed checkpoints (stored ones and those in
    /// --checkpoints files); exit non-zero naming the seq of any that fails.
    Verify {
        /// Also check the checkpoints in this file (JSON lines from `audit anchor`);
        /// repeat for more files.
        #[arg(long, value_name = "FILE")]
        checkpoints: Vec<PathBuf>,
        /// Trust this anchor public key (a PEM from `audit anchor --public-key`)
        /// instead of the one derived from the secret key; repeat for keys of earlier
        /// secret keys.
        #[arg(long, value_name = "FILE")]
        public_key: Vec<PathBuf>,
    },
    /// Sign the chain head (seq, hash, time) with the anchor key, store the checkpoint
    /// and print it as one JSON line.
    Anchor {
        /// Also append the checkpoint to this file (keep a copy off this host).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Print the anchor public key (PEM) instead, to verify checkpoints offline.
        #[arg(long, conflicts_with = "out")]
        public_key: bool,
    },
    /// Stream events as JSON lines.
    Export {
        /// Start after this seq, or at this RFC 3339 time.
        #[arg(long, value_name = "SEQ|TIME")]
        since: Option<String>,
        /// Output format (jsonl).
        #[arg(long, default_value = "jsonl", value_parser = ["jsonl"])]
        format: String,
    },
    /// Print the latest events (and follow new ones with --follow).
    Tail {
        /// How many events.
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: i64,
        /// Keep printing new events.
        #[arg(short, long)]
        follow: bool,
    },
}

pub(super) fn run(
    command: AuditCommand,
    config: &Config,
    store: &Store,
    now: i64,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify {
            checkpoints,
            public_key,
        } => return verify(store, config, &checkpoints, &public_key, out),
        AuditCommand::Anchor {
            out: file,
            public_key,
        } => {
            let key = AnchorKey::derive(&config.resolve_secret_key()?)?;
            if public_key {
                write!(out, "{}", key.public().to_pem())?;
            } else {
                anchor(store, &key, now, file.as_deref(), out)?;
            }
        }
        AuditCommand::Export { since, format: _ } => {
            let since = since
                .as_deref()
                .map(Since::parse)
                .transpose()
                .map_err(anyhow::Error::msg)?;
            audit::export(&mut *store.conn()?, since.unwrap_or(Since::Seq(0)), out)?;
        }
        AuditCommand::Tail { lines, follow } => tail(&mut *store.conn()?, lines, follow, out)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The chain first, then every checkpoint; one line per finding.
fn verify(
    store: &Store,
    config: &Config,
    files: &[PathBuf],
    public_keys: &[PathBuf],
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let mut conn = store.conn()?;
    let report = audit::verify(&mut conn)?;
    let mut broken = report.broken.is_some();
    match report.broken {
        None => writeln!(
            out,
            "ok: {} events, head seq {} hash {}",
            report.checked, report.head.0, report.head.1
        )?,
        Some(b) => writeln!(out, "BROKEN at seq {}: {}", b.seq, b.problem)?,
    }
    let mut checkpoints = audit::stored_checkpoints(&mut conn)?;
    let stored = checkpoints.len();
    for file in files {
        checkpoints.extend(read_checkpoints(file)?);
    }
    if checkpoints.is_empty() {
        tracing::warn!(
            "no signed checkpoints: a chain rewritten from some row on would go unnoticed \
             (see `countersign audit anchor`)"
        );
    } else {
        let trusted = trusted_keys(config, public_keys)?;
        let checked = audit::verify_checkpoints(&mut conn, &checkpoints, &trusted)?;
        for b in &checked.broken {
            writeln!(out, "BROKEN at seq {}: {}", b.seq, b.problem)?;
        }
        broken |= !checked.broken.is_empty();
        if let Some(latest) = checked.latest.filter(|_| checked.broken.is_empty()) {
            writeln!(
                out,
                "ok: {} checkpoints ({stored} stored, {} from files), the latest of seq {} \
                 signed at {}",
                checked.checked,
                checked.checked - stored,
                latest.seq,
                rfc3339(latest.at)
            )?;
        }
    }
    Ok(if broken {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The keys whose checkpoints are believed: the given PEM files, or else the key of
/// the configured secret key.
fn trusted_keys(config: &Config, files: &[PathBuf]) -> anyhow::Result<Vec<AnchorPublicKey>> {
    if files.is_empty() {
        let key = AnchorKey::derive(&config.resolve_secret_key()?)?;
        return Ok(vec![key.public().clone()]);
    }
    files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            AnchorPublicKey::from_pem(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
        })
        .collect()
}

/// Every checkpoint line of `file` (blank lines skipped); any other line is an error,
/// since a checkpoint file that does not parse cannot vouch for anything.
fn read_checkpoints(file: &Path) -> anyhow::Result<Vec<Checkpoint>> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            Checkpoint::parse_line(line).map_err(|why| {
                anyhow::anyhow!(
                    "{} line {} is not a checkpoint: {why}",
                    file.display(),
                    i + 1
                )
            })
        })
        .collect()
}

/// Signs the head, appends the checkpoint to `file` when given, and prints it.
fn anchor(
    store: &Store,
    key: &AnchorKey,
    now: i64,
    file: Option<&Path>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let anchored = audit::anchor(store, key, now)?;
    let Some(checkpoint) = anchored.checkpoint() else {
        anyhow::bail!("the audit chain is empty: there is nothing to anchor yet");
    };
    let line = checkpoint.to_line();
    if let Some(file) = file {
        append_line(file, &line)
            .map_err(|e| anyhow::anyhow!("cannot append to {}: {e}", file.display()))?;
    }
    writeln!(out, "{line}")?;
    Ok(())
}

/// Appends `line` and flushes it to disk before the checkpoint is reported as kept.
fn append_line(file: &Path, line: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?;
    writeln!(f, "{line}")?;
    f.sync_all()
}

fn tail(conn: &mut DbConn, lines: i64, follow: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let head = crate::store::read_audit_head(conn)?.0;
    let mut after = audit::export(conn, Since::Seq((head - lines.max(0)).max(0)), out)?;
    if follow {
        loop {
            out.flush()?;
            std::thread::sleep(std::time::Duration::from_secs(1));
            after = audit::export(conn, Since::Seq(after), out)?;
        }
    }
    Ok(())
}

fn rfc3339(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}
