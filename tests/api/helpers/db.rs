//! A fresh database per test ([`TestDb`]) on SQLite (default) or PostgreSQL
//! (`TEST_DATABASE_URL`).

use countersign::store::{DatabaseUrl, Store};
use diesel::{Connection, PgConnection, RunQueryDsl};

/// Set to a PostgreSQL URL to run the suite on PostgreSQL: each test then gets its own
/// database on that server, named after the URL's database plus a random suffix.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

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

    /// The PostgreSQL server's address (`None` on SQLite).
    pub fn server_addr(&self) -> Option<std::net::SocketAddr> {
        let url = url::Url::parse(&self.url).ok()?;
        if !matches!(self.backend, Backend::Postgres { .. }) {
            return None;
        }
        url.socket_addrs(|| Some(5432)).ok()?.into_iter().next()
    }

    /// A handle on the database (shared pool).
    pub fn store(&self) -> Store {
        self.store
            .clone()
            .expect("store lives as long as the TestDb")
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
