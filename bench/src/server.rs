//! Starts the server under test on loopback, pinned to its own core (`taskset`), and
//! prepares what the scenarios need: for countersign, through its own CLI before `serve`
//! (users, the `approvers` group, a sensitive scope, a machine scope, one confidential
//! client); for the peer, through its start-up environment (bench/peer/peer.mjs).

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::http::Conn;

/// Every bench user's password.
pub const PASSWORD: &str = "bench password 1234";
/// The redirect URI of the bench client (never fetched: the driver reads the code off it).
pub const REDIRECT_URI: &str = "http://rp.example/callback";
/// The key shared by the CLI and `serve` (it seals the signing keys).
const SECRET_KEY: &str = "bench-secret-key-0123456789abcdefghijklmnop";

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// countersign itself.
    Countersign,
    /// node-oidc-provider (bench/peer).
    Peer,
}

/// A running server and what the scenarios need to drive it.
pub struct Server {
    child: Child,
    /// Its process id (taskset execs the server, so this is the server itself).
    pub pid: u32,
    /// `127.0.0.1:port`.
    pub addr: String,
    /// Which server.
    pub kind: Kind,
    /// The confidential client (client_secret_basic).
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// What a machine token asks for.
    pub machine_scope: String,
    /// countersign's second machine client, registered for ES256 access tokens (the
    /// peer signs ES256 for a resource instead: `urn:bench:es256`).
    pub es256_client: Option<(String, String)>,
    /// Its PostgreSQL database, if any.
    pub pg_database: Option<String>,
    _scratch: Option<Scratch>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary directory (and PostgreSQL database) removed at the end.
struct Scratch {
    dir: PathBuf,
    pg_database: Option<String>,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(db) = &self.pg_database {
            let _ = psql(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"));
        }
    }
}

fn psql(sql: &str) -> Result<()> {
    let status = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
        ])
        .args(["-v", "ON_ERROR_STOP=1", "-c", sql])
        .status()
        .context("psql")?;
    if !status.success() {
        bail!("psql failed: {sql}");
    }
    Ok(())
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// How to start countersign.
pub struct CountersignSpec<'a> {
    /// The release binary.
    pub bin: &'a Path,
    /// `sqlite` or `postgres`.
    pub backend: &'a str,
    /// The core to pin it to.
    pub cpu: usize,
    /// How many requesters and approvers to create.
    pub users: usize,
    /// Insert the large data set of bench/src/seed.sql before serving.
    pub seed: bool,
}

/// Sets countersign up through its CLI, then serves it.
pub async fn countersign(spec: CountersignSpec<'_>) -> Result<Server> {
    let tag = format!("csbench_{}_{}", std::process::id(), free_port()?);
    let dir = std::env::temp_dir().join(&tag);
    std::fs::create_dir_all(&dir)?;
    let pg_database = (spec.backend == "postgres").then(|| tag.clone());
    let url = match &pg_database {
        Some(db) => {
            psql(&format!("CREATE DATABASE \"{db}\""))?;
            format!("postgres://postgres@127.0.0.1:5432/{db}")
        }
        None => format!("sqlite://{}/countersign.sqlite3", dir.display()),
    };
    let scratch = Scratch {
        dir: dir.clone(),
        pg_database: pg_database.clone(),
    };
    let port = free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let env = [
        ("COUNTERSIGN_DATABASE_URL", url),
        ("COUNTERSIGN_DATA_DIR", dir.display().to_string()),
        ("COUNTERSIGN_SECRET_KEY", SECRET_KEY.to_owned()),
        ("COUNTERSIGN_ISSUER", format!("http://{addr}")),
        ("COUNTERSIGN_BIND", addr.clone()),
        // Every worker signs in from 127.0.0.1 at once: lift the per-IP throttle.
        ("COUNTERSIGN_LOGIN_MAX_FAILURES", "100000".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    let cli = |args: &[&str], stdin: Option<&str>| -> Result<String> {
        let mut cmd = Command::new(spec.bin);
        cmd.args(args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        cmd.current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd.spawn().context("countersign CLI")?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            writeln!(pipe, "{text}")?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "countersign {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    cli(&["migrate"], None)?;
    cli(&["group", "add", "approvers"], None)?;
    for i in 0..spec.users {
        for who in [format!("u{i}"), format!("a{i}")] {
            let email = format!("{who}@bench.invalid");
            cli(
                &["user", "add", &who, "--email", &email, "--password-stdin"],
                Some(PASSWORD),
            )?;
        }
        cli(
            &["group", "add-member", "approvers", &format!("a{i}")],
            None,
        )?;
    }
    cli(
        &[
            "scope",
            "add",
            "payments:write",
            "--description",
            "Make payments",
        ]
        .into_iter()
        .chain(["--sensitive", "--approvers", "approvers"])
        .collect::<Vec<_>>(),
        None,
    )?;
    cli(
        &["scope", "add", "bench:api", "--description", "Machine API"],
        None,
    )?;
    let client: serde_json::Value = serde_json::from_str(&cli(
        &[
            "client",
            "add",
            "--name",
            "bench",
            "--redirect-uri",
            REDIRECT_URI,
            "--scope",
            "openid profile email payments:write bench:api",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "client_credentials",
            "--json",
        ],
        None,
    )?)?;
    let text = |k: &str| client[k].as_str().map(str::to_owned).context("client JSON");
    let es256: serde_json::Value = serde_json::from_str(&cli(
        &[
            "client",
            "add",
            "--name",
            "bench-es256",
            "--scope",
            "bench:api",
            "--grant-type",
            "client_credentials",
            "--access-token-alg",
            "ES256",
            "--json",
        ],
        None,
    )?)?;
    let es256_text = |k: &str| es256[k].as_str().map(str::to_owned).context("client JSON");
    if spec.seed {
        seed(&env[0].1, &dir)?;
    }
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", &spec.cpu.to_string()])
        .arg(spec.bin)
        .arg("serve");
    cmd.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    cmd.current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        // Its log (warnings only: undeliverable approver e-mails among them) stays in
        // the scratch directory, off the driver's terminal.
        .stderr(std::fs::File::create(dir.join("serve.log"))?);
    let child = cmd.spawn().context("countersign serve")?;
    let server = Server {
        pid: child.id(),
        child,
        addr,
        kind: Kind::Countersign,
        client_id: text("client_id")?,
        client_secret: text("client_secret")?,
        machine_scope: "bench:api".into(),
        es256_client: Some((es256_text("client_id")?, es256_text("client_secret")?)),
        pg_database,
        _scratch: Some(scratch),
    };
    server.ready().await?;
    Ok(server)
}

/// Runs bench/src/seed.sql on the database at `url` (sqlite3 or psql).
fn seed(url: &str, dir: &Path) -> Result<()> {
    let started = Instant::now();
    let mut cmd = match url.strip_prefix("sqlite://") {
        Some(file) => {
            let mut c = Command::new("sqlite3");
            c.arg(file);
            c
        }
        None => {
            let mut c = Command::new("psql");
            c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url]);
            c
        }
    };
    cmd.current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    let mut child = cmd.spawn().context("sqlite3 or psql")?;
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(include_str!("seed.sql").as_bytes())?;
        if !url.starts_with("sqlite://") {
            pipe.write_all(b"ANALYZE;\n")?;
        }
    }
    if !child.wait()?.success() {
        bail!("seeding failed");
    }
    eprintln!("seeded in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Starts the peer (`node bench/peer/peer.mjs`) pinned to `cpu` with `users` users.
pub async fn peer(dir: &Path, cpu: usize, users: usize) -> Result<Server> {
    let port = free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", &cpu.to_string(), "node", "peer.mjs"])
        .current_dir(dir);
    cmd.env("PORT", port.to_string())
        .env("PEER_USERS", users.to_string());
    cmd.env("PEER_PASSWORD", PASSWORD)
        .env("NODE_ENV", "production");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = cmd.spawn().context("node peer.mjs")?;
    let server = Server {
        pid: child.id(),
        child,
        addr,
        kind: Kind::Peer,
        client_id: "bench".into(),
        client_secret: "bench-client-secret-0123456789abcdef".into(),
        machine_scope: "bench:api".into(),
        es256_client: None,
        pg_database: None,
        _scratch: None,
    };
    server.ready().await?;
    Ok(server)
}

impl Server {
    /// Waits (up to 60 s: the peer hashes its users' passwords first) for discovery.
    async fn ready(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let mut conn = Conn::new(&self.addr);
            if let Ok(a) = conn.get("/.well-known/openid-configuration").await {
                if a.status.is_success() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!("{:?} did not start on {}", self.kind, self.addr);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
