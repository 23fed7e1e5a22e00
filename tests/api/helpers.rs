//! Shared test fixtures: a fresh database per test ([`TestDb`]) on SQLite (default) or
//! PostgreSQL (`TEST_DATABASE_URL`), and the real application served on port 0
//! ([`spawn_app`]). Not every suite uses every fixture.
#![allow(dead_code)]

use std::net::TcpListener;
use std::sync::Arc;

use countersign::clock::FixedClock;
use countersign::config::{Config, RawSettings};
use countersign::startup::Application;
use countersign::store::{DatabaseUrl, Store};
use diesel::{Connection, PgConnection, RunQueryDsl};

/// Set to a PostgreSQL URL to run the suite on PostgreSQL: each test then gets its own
/// database on that server, named after the URL's database plus a random suffix.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// A 40-character secret key for test configurations.
pub const TEST_SECRET_KEY: &str = "test-secret-key-0123456789abcdefghijklmn";

/// The instant test clocks start at: 2026-11-22T12:00:00Z.
pub const TEST_NOW: i64 = 1_795_348_800;

/// A fresh, private database that disappears with the value.
pub struct TestDb {
    url: String,
    store: Option<Store>,
    backend: Backend,
}

enum Backend {
    Sqlite { _dir: tempfile::TempDir },
    Postgres { server_url: String, name: String },
}

impl TestDb {
    /// A fresh database with every migration applied.
    pub fn new() -> TestDb {
        let db = TestDb::unmigrated();
        db.store().migrate().expect("migrations apply");
        db
    }

    /// A fresh, empty database (no tables yet).
    pub fn unmigrated() -> TestDb {
        let (url, backend) = match std::env::var(TEST_DATABASE_URL) {
            Ok(server_url) if !server_url.trim().is_empty() => create_pg_database(&server_url),
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("countersign.sqlite3");
                (
                    format!("sqlite://{}", path.display()),
                    Backend::Sqlite { _dir: dir },
                )
            }
        };
        let parsed = DatabaseUrl::parse(&url).expect("test database URL parses");
        let store = Store::connect(&parsed).expect("test database opens");
        TestDb {
            url,
            store: Some(store),
            backend,
        }
    }

    /// The database URL, as the CLI and the config accept it.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// A handle on the database (shared pool).
    pub fn store(&self) -> Store {
        self.store
            .clone()
            .expect("store lives as long as the TestDb")
    }

    /// True when this run uses PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres { .. })
    }
}

impl Default for TestDb {
    fn default() -> Self {
        TestDb::new()
    }
}

/// Creates `<server database>_<random>` on the server `server_url` points at.
fn create_pg_database(server_url: &str) -> (String, Backend) {
    let mut url = url::Url::parse(server_url).expect("TEST_DATABASE_URL is a URL");
    let base: String = url
        .path()
        .trim_start_matches('/')
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(30)
        .collect();
    let base = if base.is_empty() { "test".into() } else { base };
    let name = format!("{base}_{}", uuid::Uuid::new_v4().simple()).to_lowercase();
    let mut admin = PgConnection::establish(server_url).expect("TEST_DATABASE_URL connects");
    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .expect("CREATE DATABASE");
    url.set_path(&format!("/{name}"));
    (
        url.to_string(),
        Backend::Postgres {
            server_url: server_url.to_owned(),
            name,
        },
    )
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Close our pool first so the drop does not have to kick our own connections.
        self.store.take();
        if let Backend::Postgres { server_url, name } = &self.backend {
            // Best effort: a failure leaves a database the CI script sweeps by prefix.
            if let Ok(mut admin) = PgConnection::establish(server_url) {
                let _ =
                    diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(&mut admin);
            }
        }
    }
}

/// The application, serving on a random local port.
pub struct TestApp {
    /// The issuer, `http://127.0.0.1:<port>`.
    pub issuer: String,
    /// `127.0.0.1:<port>`.
    pub address: String,
    /// The database the app serves from.
    pub store: Store,
    /// The app's clock; advance it instead of sleeping.
    pub clock: FixedClock,
    /// A plain HTTP client that does not follow redirects.
    pub http: reqwest::Client,
    _data_dir: tempfile::TempDir,
}

impl TestApp {
    /// `issuer + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

/// Binds a free local port and builds the real application on `db` with `clock`
/// (`demo` as `serve --demo`). Returns the app, its issuer `http://127.0.0.1:<port>` and
/// its data directory (keep it as long as the app).
pub async fn build_app(
    db: &TestDb,
    clock: &FixedClock,
    demo: bool,
) -> (Application, String, tempfile::TempDir) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let port = listener.local_addr().expect("bound address").port();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let issuer = format!("http://127.0.0.1:{port}");
    let config = Config::from_raw(RawSettings {
        issuer: Some(issuer.clone()),
        database_url: Some(db.url()),
        data_dir: Some(data_dir.path().display().to_string()),
        secret_key: Some(TEST_SECRET_KEY.into()),
        demo: Some(demo),
        ..RawSettings::default()
    })
    .expect("test configuration is valid");
    let app = Application::build_on(listener, config, Arc::new(clock.clone()))
        .await
        .expect("application builds");
    (app, issuer, data_dir)
}

/// A plain HTTP client that does not follow redirects.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// Builds the real application on `db` and serves it in the background.
pub async fn spawn_app(db: &TestDb) -> TestApp {
    let clock = FixedClock::at(TEST_NOW);
    let (app, issuer, data_dir) = build_app(db, &clock, false).await;
    tokio::spawn(app.run_until_stopped());
    let address = issuer.trim_start_matches("http://").to_owned();
    TestApp {
        issuer,
        address,
        store: db.store(),
        clock,
        http: http_client(),
        _data_dir: data_dir,
    }
}
