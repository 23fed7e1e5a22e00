//! The admin CLI, run as the real binary: results on stdout (with `--json`, exactly one
//! JSON document), one clear line on stderr for bad input, and bad input writes nothing
//! (DESIGN.md §8 "CLI output").

use std::io::Write;
use std::process::{Command, Stdio};

use countersign::audit::Actor;
use countersign::manage::{self, ClientSpec, NewUser};
use countersign::store::{self, Store};
use serde_json::Value;

use crate::helpers::{TestDb, TEST_NOW};

mod commands;
mod global;
mod notify;
mod refusals;

/// A database plus the directories one CLI invocation needs.
pub(crate) struct Cli {
    db: TestDb,
    data_dir: tempfile::TempDir,
    work_dir: tempfile::TempDir,
}

/// What one invocation did.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) status: std::process::ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Exit status 0.
    pub(crate) fn success(&self) -> bool {
        self.status.success()
    }
}

impl Cli {
    pub(crate) fn new() -> Cli {
        Cli::on(TestDb::new())
    }

    pub(crate) fn on(db: TestDb) -> Cli {
        Cli {
            db,
            data_dir: tempfile::tempdir().expect("temp dir"),
            work_dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub(crate) fn store(&self) -> Store {
        self.db.store()
    }

    /// Runs `countersign --database-url <db> <args…>` with `stdin` as standard input.
    pub(crate) fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut command = bare_command();
        command
            .current_dir(self.work_dir.path())
            .env("COUNTERSIGN_DATA_DIR", self.data_dir.path())
            .arg("--database-url")
            .arg(self.db.url())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the binary starts");
        let written = child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(stdin.as_bytes());
        // A command that fails before it reads its input closes the pipe early.
        if let Err(error) = written {
            assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
        }
        collect(child.wait_with_output().expect("the binary finishes"))
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, "")
    }

    /// Runs a command that must succeed and returns its stdout.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert!(run.success(), "`{}` failed: {run:?}", args.join(" "));
        run.stdout
    }

    /// Runs a command that must succeed and print exactly one JSON document.
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        single_json_document(&self.ok(args))
    }
}

/// The binary with no inherited `COUNTERSIGN_*` settings or log filter.
fn bare_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_countersign"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("COUNTERSIGN_") || key == "RUST_LOG" {
            command.env_remove(key);
        }
    }
    command.stdin(Stdio::null());
    command
}

fn collect(output: std::process::Output) -> Run {
    Run {
        status: output.status,
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Parses `text` as exactly one JSON document (whitespace around it allowed).
fn single_json_document(text: &str) -> Value {
    let parsed: Result<Vec<Value>, _> = serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect();
    assert!(parsed.is_ok(), "not JSON: {text:?} ({parsed:?})");
    let documents = parsed.unwrap();
    assert_eq!(documents.len(), 1, "exactly one JSON document in {text:?}");
    documents.into_iter().next().unwrap()
}

/// The command failed, printed nothing on stdout and one line on stderr saying `says`.
fn assert_refused(run: &Run, says: &str) {
    assert_eq!(
        run.status.code(),
        Some(1),
        "expected a refusal (exit 1, not a crash), got: {run:?}"
    );
    assert_eq!(run.stdout, "", "nothing on stdout when refused");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got {run:?}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(says),
        "stderr {:?} should say {says:?}",
        run.stderr
    );
}

/// Everything the admin commands can change, with the audit chain's length and head.
fn snapshot(store: &Store) -> String {
    let (head, events) = store
        .read(|c| {
            let head = store::read_audit_head(c)?;
            let events = store::audit_rows_after(c, 0, i64::MAX)?.len();
            Ok::<_, store::StoreError>((head, events))
        })
        .unwrap();
    let users: Vec<_> = manage::list_users(store)
        .unwrap()
        .into_iter()
        .map(|u| (u.username, u.email, u.name, u.password_hash, u.disabled))
        .collect();
    let groups = manage::list_groups(store).unwrap();
    let groups: Vec<_> = groups.into_iter().map(|(g, m)| (g.name, m)).collect();
    let scopes = serde_json::to_string(&manage::list_scopes(store).unwrap()).unwrap();
    let clients: Vec<_> = manage::list_clients(store)
        .unwrap()
        .into_iter()
        .map(|c| {
            (
                c.client_id,
                c.secret_hash,
                c.redirect_uris,
                c.allowed_scopes,
            )
        })
        .collect();
    let keys: Vec<_> = store
        .read(store::list_keys)
        .unwrap()
        .into_iter()
        .map(|k| (k.kid, k.state))
        .collect();
    format!("{head:?} {events}\n{users:?}\n{groups:?}\n{scopes}\n{clients:?}\n{keys:?}")
}

fn audit_head_seq(store: &Store) -> i64 {
    store.read(store::read_audit_head).unwrap().0
}

// Fixtures written through the library (faster than the binary; no passwords).

fn seed_user(store: &Store, username: &str) {
    let user = NewUser {
        username: username.into(),
        email: format!("{username}@example.com"),
        name: None,
        password: None,
    };
    manage::add_user(store, user, &Actor::Cli, TEST_NOW).unwrap();
}

fn seed_group(store: &Store, name: &str, members: &[&str]) {
    manage::add_group(store, name, &Actor::Cli, TEST_NOW).unwrap();
    for member in members {
        manage::add_member(store, name, member, &Actor::Cli, TEST_NOW).unwrap();
    }
}

fn seed_client(store: &Store, public: bool) -> String {
    let spec = ClientSpec {
        name: "Demo RP".into(),
        redirect_uris: vec!["https://rp.example/cb".into()],
        scopes: vec!["openid".into()],
        public,
        ..ClientSpec::default()
    };
    manage::add_client(store, spec, &Actor::Cli, TEST_NOW)
        .unwrap()
        .row
        .client_id
        .into_string()
}
