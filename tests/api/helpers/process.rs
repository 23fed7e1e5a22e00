//! The real `countersign serve` binary as a child process on a loopback port
//! ([`ServeProcess`]), for what only a process shows: being killed with SIGKILL
//! (`kill -9`: no shutdown, no drain, no flush) and started again on the same database,
//! port and secret key. Settings come from the environment as in production
//! (`COUNTERSIGN_DATABASE_URL`, `COUNTERSIGN_DATA_DIR`, `COUNTERSIGN_SECRET_KEY`,
//! `COUNTERSIGN_NOTIFY__…`), none inherited from the test's own environment.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::app::TEST_SECRET_KEY;
use super::web::url_on;

/// How long a start may take (migrations, key generation) before the test fails.
const START_PATIENCE: Duration = Duration::from_secs(20);

/// A running `countersign serve`; killed (SIGKILL) when dropped.
pub struct ServeProcess {
    /// `http://127.0.0.1:<port>`, exactly as configured.
    pub issuer: String,
    child: Child,
    log: PathBuf,
}

impl ServeProcess {
    /// A loopback port that was free a moment ago.
    pub fn free_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        listener.local_addr().expect("bound address").port()
    }

    /// Starts `countersign serve --bind 127.0.0.1:<port> --issuer http://127.0.0.1:<port>`
    /// on `database_url`, with `data_dir`, [`TEST_SECRET_KEY`] and `env`; waits until
    /// `/readyz` answers 200. Its log goes to a file in `data_dir`.
    pub async fn start(
        database_url: &str,
        data_dir: &Path,
        port: u16,
        env: &[(&str, &str)],
    ) -> ServeProcess {
        // The test's HTTP clients need rustls' provider, which the app in-process
        // would have installed.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let issuer = format!("http://127.0.0.1:{port}");
        let log = data_dir.join(format!("serve-{}.log", uuid::Uuid::new_v4().simple()));
        let mut command = Command::new(env!("CARGO_BIN_EXE_countersign"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("COUNTERSIGN_") || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        let child = command
            .current_dir(data_dir)
            .env("COUNTERSIGN_DATABASE_URL", database_url)
            .env("COUNTERSIGN_DATA_DIR", data_dir)
            .env("COUNTERSIGN_SECRET_KEY", TEST_SECRET_KEY)
            .envs(env.iter().copied())
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--issuer", &issuer])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("a log file"))
            .spawn()
            .expect("the binary starts");
        let mut process = ServeProcess { issuer, child, log };
        process.wait_until_ready().await;
        process
    }

    /// `issuer + path`.
    pub fn url(&self, path: &str) -> String {
        url_on(&self.issuer, path)
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `kill -9`: SIGKILL, then waits for the process to be gone; asserts the signal
    /// (not a clean exit) ended it.
    pub fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL is sent");
        let status = self.child.wait().expect("the process is reaped");
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status:?}");
    }

    async fn wait_until_ready(&mut self) {
        let http = super::app::http_client();
        let deadline = Instant::now() + START_PATIENCE;
        loop {
            let exited = self.child.try_wait().expect("the process can be polled");
            assert!(
                exited.is_none(),
                "serve exited ({exited:?}):\n{}",
                self.log()
            );
            let ready = http.get(self.url("/readyz")).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "serve not ready after {START_PATIENCE:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
