//! The audit log and the `countersign` binary, as the tests read them.

use std::process::{Command, Output, Stdio};

use countersign::store::{self, AuditRow};
use serde_json::Value;

use super::support::{ApprovalSeed, TestApp};

impl TestApp<ApprovalSeed> {
    /// Every audit event, in chain order.
    pub fn audit(&self) -> Vec<AuditRow> {
        let mut conn = self.store.conn().expect("a connection");
        store::audit_rows_after(&mut conn, 0, 10_000).expect("audit rows")
    }

    /// The audit events with this action.
    pub fn events(&self, action: &str) -> Vec<AuditRow> {
        self.audit()
            .into_iter()
            .filter(|row| row.action == action)
            .collect()
    }

    /// The audit events about one target (`approval:<id>`, `grant:<id>` …).
    pub fn events_about(&self, target: &str) -> Vec<AuditRow> {
        self.audit()
            .into_iter()
            .filter(|row| row.target == target)
            .collect()
    }

    /// The highest audit seq so far.
    pub fn audit_head(&self) -> i64 {
        self.audit().last().map_or(0, |row| row.seq)
    }

    /// Asserts the audit chain verifies end to end.
    pub fn assert_chain_verifies(&self) {
        let mut conn = self.store.conn().expect("a connection");
        let verification = countersign::audit::verify(&mut conn).expect("verify runs");
        assert_eq!(verification.broken, None, "the audit chain verifies");
    }

    /// Runs `countersign --database-url <db> <args…>` (no inherited settings).
    pub fn cli(&self, args: &[&str]) -> Output {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new(env!("CARGO_BIN_EXE_countersign"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("COUNTERSIGN_") || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command
            .current_dir(data_dir.path())
            .env("COUNTERSIGN_DATA_DIR", data_dir.path())
            .arg("--database-url")
            .arg(self.db_url())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("the binary runs")
    }

    /// Runs a CLI command that must succeed; returns its stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let output = self.cli(args);
        let stdout = String::from_utf8(output.stdout).expect("UTF-8 stdout");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "`{}` failed: {stderr}",
            args.join(" ")
        );
        stdout
    }

    /// Runs a CLI command that must print exactly one JSON document.
    pub fn cli_json(&self, args: &[&str]) -> Value {
        let stdout = self.cli_ok(args);
        let documents: Vec<Value> = serde_json::Deserializer::from_str(&stdout)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .expect("stdout is JSON");
        assert_eq!(documents.len(), 1, "exactly one JSON document: {stdout:?}");
        documents.into_iter().next().unwrap()
    }
}
