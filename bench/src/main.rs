//! countersign-bench: the load generator of issue 21. `run` starts one server (countersign
//! on SQLite or PostgreSQL, or the node-oidc-provider peer) pinned to its own core,
//! prepares users, sessions and tokens, drives each scenario at each concurrency for a
//! bounded phase, and appends one JSON line per phase; `report` turns the lines of
//! several runs into Markdown tables of medians and ratios; `argon2` measures the
//! password hash floor. Loopback only. bench/run.sh is the one command that does it all.

mod http;
mod procstat;
mod report;
mod runner;
mod scenarios;
mod server;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use serde::{Deserialize, Serialize};

use runner::{Bounds, Measured};
use server::{CountersignSpec, Kind};

#[derive(Parser)]
#[command(about = "Load generator for countersign and its peer (bench/README in BENCHMARKS.md)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start one server, run the scenarios, append JSON lines to --out.
    Run(RunArgs),
    /// Medians and ratios of the JSON lines as Markdown.
    Report {
        /// The file `run` appended to.
        input: PathBuf,
    },
    /// argon2id hashes per second at countersign's cost (m=19456 KiB, t=2, p=1).
    Argon2 {
        /// How long to hash.
        #[arg(long, default_value = "3")]
        seconds: f64,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// `countersign` or `peer`.
    #[arg(long)]
    target: String,
    /// `sqlite` or `postgres` (countersign only).
    #[arg(long, default_value = "sqlite")]
    backend: String,
    /// The countersign binary (a release build).
    #[arg(long, default_value = "target/release/countersign")]
    bin: PathBuf,
    /// The peer's directory (after `npm ci`).
    #[arg(long, default_value = "bench/peer")]
    peer_dir: PathBuf,
    /// The core the server is pinned to (run the driver itself under taskset elsewhere).
    #[arg(long, default_value = "1")]
    server_cpu: usize,
    /// Which repetition this is (recorded).
    #[arg(long, default_value = "1")]
    run: u32,
    /// Where to append the results.
    #[arg(long, default_value = "bench-results.jsonl")]
    out: PathBuf,
    /// Smoke run: concurrency 1 and 8, 0.5 s warm-up, 1 s measured.
    #[arg(long)]
    quick: bool,
    /// Comma-separated scenarios (default: all but inbox and status), or `scale` for
    /// inbox, status, client_credentials and introspection.
    #[arg(long)]
    scenarios: Option<String>,
    /// Insert 100,000 users, 10,000 clients, 1,000,000 approvals and grants first
    /// (countersign only; the target is then named `countersign-BACKEND+seed`).
    #[arg(long)]
    seed: bool,
    /// Comma-separated concurrency levels (default 1,8,64).
    #[arg(long)]
    concurrency: Option<String>,
    /// Warm-up seconds per phase.
    #[arg(long, default_value = "1")]
    warmup: f64,
    /// Measured seconds per phase.
    #[arg(long, default_value = "3")]
    measure: f64,
}

/// One phase's JSON line.
#[derive(Serialize, Deserialize, Clone)]
pub struct Line {
    /// `countersign-sqlite`, `countersign-postgres` or `peer`.
    pub target: String,
    /// The repetition.
    pub run: u32,
    /// The scenario.
    pub scenario: String,
    /// Workers.
    pub concurrency: usize,
    /// What was measured.
    #[serde(flatten)]
    pub measured: Measured,
    /// Server RSS after set-up, before any load, MiB.
    pub rss_idle: f64,
    /// Server VmHWM after this phase, MiB.
    pub rss_peak: f64,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Report { input } => {
            let text = std::fs::read_to_string(&input).context("the results file")?;
            let lines: Vec<Line> = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(serde_json::from_str)
                .collect::<Result<_, _>>()?;
            print!("{}", report::markdown(&lines));
            Ok(())
        }
        Command::Argon2 { seconds } => argon2_rate(seconds),
        Command::Run(args) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(run(args)),
    }
}

fn argon2_rate(seconds: f64) -> Result<()> {
    use argon2::password_hash::PasswordHasher;
    let hasher = argon2::Argon2::default();
    let params = hasher.params().clone();
    // Rate per wall second and per CPU-second of this thread's process: on a shared
    // machine the second is the one to compare with servers' ops per CPU-second.
    let cpu_before = procstat::cpu_seconds("self")?;
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed().as_secs_f64() < seconds {
        hasher
            .hash_password(b"bench password 1234")
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        n += 1;
    }
    let rate = f64::from(n) / start.elapsed().as_secs_f64();
    let cpu = (procstat::cpu_seconds("self")? - cpu_before).max(1e-9);
    println!(
        "argon2id m={} KiB t={} p={}: {rate:.1} hashes/s on one thread, {:.1} per CPU-second ({:.1} ms of CPU each)",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        f64::from(n) / cpu,
        cpu * 1000.0 / f64::from(n)
    );
    Ok(())
}

async fn run(args: RunArgs) -> Result<()> {
    let (levels, bounds) = if args.quick {
        (
            vec![1, 8],
            Bounds {
                warmup: Duration::from_millis(500),
                measure: Duration::from_secs(1),
                max_ops: 100_000,
            },
        )
    } else {
        let secs = Duration::from_secs_f64;
        (
            vec![1, 8, 64],
            Bounds {
                warmup: secs(args.warmup),
                measure: secs(args.measure),
                max_ops: 500_000,
            },
        )
    };
    let levels: Vec<usize> = match &args.concurrency {
        Some(list) => list.split(',').map(str::parse).collect::<Result<_, _>>()?,
        None => levels,
    };
    let users = levels.iter().copied().max().unwrap_or(1);
    let kind = match args.target.as_str() {
        "peer" => Kind::Peer,
        _ => Kind::Countersign,
    };
    let (server, target) = match kind {
        Kind::Peer => (
            server::peer(&args.peer_dir, args.server_cpu, users).await?,
            "peer".to_owned(),
        ),
        Kind::Countersign => {
            let spec = CountersignSpec {
                bin: &args.bin,
                backend: &args.backend,
                cpu: args.server_cpu,
                users,
                seed: args.seed,
            };
            let seeded = if args.seed { "+seed" } else { "" };
            (
                server::countersign(spec).await?,
                format!("countersign-{}{seeded}", args.backend),
            )
        }
    };
    let ctx = scenarios::Ctx::of(&server).await?;
    let rss_idle = runner::rss(server.pid).0;
    let watched = runner::Watched {
        pid: server.pid,
        db: server.pg_database.clone(),
    };
    let wanted: Vec<String> = match &args.scenarios {
        Some(list) if list == "scale" => scenarios::SCALE.iter().map(|s| (*s).to_owned()).collect(),
        Some(list) => list.split(',').map(str::to_owned).collect(),
        None => scenarios::ALL.iter().map(|s| (*s).to_owned()).collect(),
    };
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.out)?;
    eprintln!(
        "{target} run {}: pid {}, idle RSS {rss_idle:.1} MiB",
        args.run, server.pid
    );
    for scenario in &wanted {
        if kind == Kind::Peer && ["approval_flow", "inbox", "status"].contains(&scenario.as_str()) {
            continue;
        }
        for &c in &levels {
            let measured = match scenarios::run(scenario, &ctx, c, users, bounds, &watched).await {
                Ok(m) => m,
                Err(e) => Measured {
                    errors: 1,
                    first_error: Some(format!("set-up: {e:#}")),
                    ..Default::default()
                },
            };
            let line = Line {
                target: target.clone(),
                run: args.run,
                scenario: scenario.clone(),
                concurrency: c,
                measured,
                rss_idle,
                rss_peak: runner::rss(server.pid).1,
            };
            let m = &line.measured;
            eprintln!(
                "  {scenario:<18} c={c:<3} {:>8.1}/s p50 {:>7.2} p99 {:>7.2} ms  {:>8.0} ops/CPU-s  err {}  driver {:.2} other {:.2} cores{}",
                m.throughput, m.p50, m.p99, m.ops_per_cpu_s, m.errors, m.driver_cores, m.other_cores,
                m.first_error.as_ref().map(|e| format!("  [{e}]")).unwrap_or_default()
            );
            writeln!(out, "{}", serde_json::to_string(&line)?)?;
        }
    }
    Ok(())
}
