//! Storage: the only module that knows diesel. One r2d2 pool over a [`DbConn`] that is
//! either SQLite (embedded default) or PostgreSQL, chosen by the database URL; embedded
//! migrations per backend; write transactions that serialize where they must.
//!
//! Lookups by key end in `get_result`, never `first`: diesel binds `first()`'s `LIMIT 1`
//! on every run, and SQLite recompiles a statement each time its `LIMIT` is bound
//! (cache_tests.rs).

pub mod schema;
mod sql_types;

mod action_types;
mod approval_search;
mod approvals;
mod attributes;
mod audit;
mod authorization_requests;
mod availability;
mod backchannel;
mod cached;
mod checkpoints;
mod clients;
mod consents;
mod factors;
mod group_commit;
mod inline;
mod keys;
mod outbox;
mod passkeys;
mod scopes;
mod sessions;
mod throttle;
mod tokens;
mod upstreams;
mod users;
mod watch;

#[cfg(test)]
mod cache_tests;

pub use action_types::*;
pub use approval_search::*;
pub use approvals::*;
pub use attributes::*;
pub use audit::*;
pub use authorization_requests::*;
pub use availability::RETRY_AFTER_SECONDS;
pub use backchannel::*;
pub use checkpoints::*;
pub use clients::*;
pub use consents::*;
pub use factors::*;
pub use keys::*;
pub use outbox::*;
pub use passkeys::*;
pub use scopes::*;
pub use sessions::*;
pub use throttle::*;
pub use tokens::*;
pub use upstreams::*;
pub use users::*;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

pub use connection::DbConn;

#[allow(missing_docs)]
mod connection {
    use diesel::{PgConnection, SqliteConnection};

    /// One database connection of either backend; dialect-specific SQL matches on it.
    #[derive(diesel::MultiConnection)]
    pub enum DbConn {
        Pg(PgConnection),
        Sqlite(SqliteConnection),
    }
}

/// What went wrong talking to the database. Only `NotFound` and `Conflict` carry meaning
/// for callers; the rest is a server error, logged once where it becomes one.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique key already exists, or a compare-and-swap lost its race.
    #[error("conflict")]
    Conflict,
    /// Any other database error.
    #[error("database error: {0}")]
    Db(diesel::result::Error),
    /// The database is unavailable: unreachable, the connection was lost, or no pooled
    /// connection came free in time. Callers answer 503 with `Retry-After`.
    #[error("database unavailable: {0}")]
    Pool(String),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored value cannot be read back (a JSON column that does not parse).
    #[error("corrupt data: {0}")]
    Corrupt(String),
}

impl From<diesel::result::Error> for StoreError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => StoreError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => StoreError::Conflict,
            Error::DeserializationError(cause) => StoreError::Corrupt(cause.to_string()),
            // The server went away mid-query: an outage, not a bug (503, not 500).
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                StoreError::Pool(info.message().to_owned())
            }
            other => StoreError::Db(other),
        }
    }
}

/// A parsed database URL: which backend, and what to hand to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file.
    Sqlite(String),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// Accepts `postgres://…`, `postgresql://…`, `sqlite:///abs/path`, `sqlite://rel/path`,
    /// `sqlite:path` or a plain file path.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("is empty".into());
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_owned()));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        if path.is_empty() {
            return Err("names no SQLite file".into());
        }
        if path.contains("://") {
            return Err("has an unsupported scheme (use postgres:// or sqlite://)".into());
        }
        Ok(DatabaseUrl::Sqlite(path.to_owned()))
    }

    /// The URL with any password replaced, for logs and messages.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{path}"),
            DatabaseUrl::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    let _ = parsed.set_password(Some("***"));
                    parsed.to_string()
                }
                _ => url.clone(),
            },
        }
    }
}

/// Opens connections of the backend the URL names (diesel's own manager would try
/// every backend in turn and could create a SQLite file named after a bad PG URL).
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
    availability: availability::Availability,
    losses: watch::Losses,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        let connected = self.establish();
        match &connected {
            Ok(_) => self.availability.reached(),
            Err(error) => self.availability.failed(error),
        }
        connected
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        let lost = watch::Watch::is_closed(conn);
        if lost {
            // Until a new connection is made, requests wait briefly instead of the
            // pool's full timeout (availability.rs), as when a connection attempt fails.
            self.availability.failed(&"a pooled connection was lost");
            self.losses.record();
        }
        conn.is_broken() || lost
    }
}

impl Manager {
    fn establish(&self) -> Result<DbConn, r2d2::Error> {
        let mut conn = self.open()?;
        conn.set_instrumentation(watch::Watch::default());
        Ok(conn)
    }

    fn open(&self) -> Result<DbConn, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConn::Pg)
                .map_err(r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                // busy_timeout first: switching a new file to WAL takes an exclusive lock,
                // and connections opened together (the pool fills in parallel) must wait
                // for it rather than fail with "database is locked".
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

/// A pooled connection.
pub type PooledConn = PooledConnection<Manager>;

/// The connection pool; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool<Manager>,
    url: DatabaseUrl,
    availability: availability::Availability,
    losses: watch::Losses,
    /// SQLite's writers of this process share commits (group_commit.rs).
    group: std::sync::Arc<group_commit::GroupCommit>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.url.redacted())
            .finish()
    }
}

impl Store {
    /// Connects (creating the SQLite file and its directory when needed).
    pub fn connect(url: &DatabaseUrl) -> Result<Self, StoreError> {
        if let DatabaseUrl::Sqlite(path) = url {
            if let Some(dir) = std::path::Path::new(path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| StoreError::Pool(format!("cannot create {dir:?}: {e}")))?;
                }
            }
        }
        let size = match url {
            DatabaseUrl::Sqlite(_) => 8,
            DatabaseUrl::Postgres(_) => 16,
        };
        let availability = availability::Availability::default();
        let losses = watch::Losses::default();
        let pool = Pool::builder()
            .max_size(size)
            // No idle minimum: r2d2 would refill it from a background thread, and a
            // process exiting (every CLI command) while that thread is in libpq's TLS
            // handshake crashes in OpenSSL's exit handlers (SIGSEGV).
            .min_idle(Some(0))
            .connection_timeout(availability::POOL_WAIT)
            // No `SELECT 1` per checkout: a lost connection is dropped when returned
            // (watch.rs), and only one idle for a while is pinged (Store::conn).
            .test_on_check_out(false)
            .error_handler(Box::new(availability::QuietErrors))
            .build(Manager {
                url: url.clone(),
                availability: availability.clone(),
                losses: losses.clone(),
            })
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        Ok(Store {
            pool,
            url: url.clone(),
            availability,
            losses,
            group: Default::default(),
        })
    }

    /// The URL this store was opened with.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// A connection from the pool; fails at once while the database is unreachable.
    pub fn conn(&self) -> Result<PooledConn, StoreError> {
        if let Some(inline) = self.inline_conn() {
            return inline;
        }
        // Each failed ping drops one dead connection; the pool holds at most max_size.
        for _ in 0..=self.pool.max_size() {
            let mut conn = self
                .availability
                .checkout(&self.pool)
                .map_err(|e| StoreError::Pool(e.to_string()))?;
            if !watch::Watch::is_suspect(&mut conn, &self.losses) || conn.ping().is_ok() {
                return Ok(conn);
            }
        }
        Err(StoreError::Pool("no live connection".into()))
    }

    /// True while the database cannot be reached (the last connection attempt failed).
    pub fn is_unreachable(&self) -> bool {
        self.availability.is_down()
    }

    /// Runs pending migrations; returns the versions applied. On PostgreSQL an advisory
    /// lock keeps instances starting together from migrating twice.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        let failed =
            |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
        let names = |versions: Vec<diesel::migration::MigrationVersion<'_>>| {
            versions.iter().map(|v| v.to_string()).collect::<Vec<_>>()
        };
        match &mut *conn {
            DbConn::Sqlite(c) => c
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map(names)
                .map_err(failed),
            DbConn::Pg(c) => {
                c.batch_execute("SELECT pg_advisory_lock(7268946)")?;
                let result = c
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(names)
                    .map_err(failed);
                c.batch_execute("SELECT pg_advisory_unlock(7268946)")?;
                result
            }
        }
    }

    /// True when the database answers and every migration has been applied.
    pub fn is_ready(&self) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        let failed =
            |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
        match &mut *conn {
            DbConn::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
            DbConn::Pg(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        }
        .map(|pending| !pending)
        .map_err(failed)
    }

    /// Runs `f` in a write transaction. SQLite begins it `IMMEDIATE` so a transaction
    /// that reads before it writes never fails its lock upgrade with SQLITE_BUSY, and
    /// this process's concurrent writers share it (group_commit.rs); either way `f`'s
    /// writes are committed, or undone, when this returns.
    pub fn write<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        if let Some(refused) = inline::refuse_write() {
            return Err(refused.into());
        }
        match self.url {
            DatabaseUrl::Sqlite(_) => self.group.write(self, f),
            DatabaseUrl::Postgres(_) => {
                let mut conn = self.conn()?;
                write_transaction(&mut conn, f)
            }
        }
    }

    /// Runs `f` with a connection and no explicit transaction (reads).
    pub fn read<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut conn = self.conn()?;
        f(&mut conn)
    }
}

/// A write transaction on an already checked-out connection (see [`Store::write`]).
pub fn write_transaction<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<StoreError>,
{
    begin_write(conn)?;
    audit::forget_locked_head();
    type Manager = <DbConn as Connection>::TransactionManager;
    let done = f(conn);
    audit::forget_locked_head();
    match done {
        Ok(value) => match Manager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(error) => {
                let _ = Manager::rollback_transaction(conn);
                Err(StoreError::from(error).into())
            }
        },
        Err(error) => {
            if let Err(rollback) = Manager::rollback_transaction(conn) {
                tracing::error!(error = %rollback, "rollback failed");
            }
            Err(error)
        }
    }
}

/// Begins a write transaction: `IMMEDIATE` on SQLite.
fn begin_write(conn: &mut DbConn) -> Result<(), StoreError> {
    if let Some(refused) = inline::refuse_write() {
        return Err(refused);
    }
    let begun = match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
        DbConn::Pg(c) => AnsiTransactionManager::begin_transaction(c),
    };
    Ok(begun?)
}

/// Encodes a list of strings as the JSON text stored in list columns.
pub fn encode_list<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// Decodes a JSON list column; a malformed value reads as empty (and is logged).
pub fn decode_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_else(|error| {
        tracing::error!(%error, "malformed list column");
        Vec::new()
    })
}
