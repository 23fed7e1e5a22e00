//! Prepared statements on the hot paths are compiled once per connection and reused
//! (diesel's statement cache): a query diesel cannot cache is compiled by SQLite at
//! every execution.

use std::sync::{Arc, Mutex};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::Connection;

use super::*;
use crate::ids::{ClientId, GrantId};

/// Records the SQL of every statement diesel puts in its cache and every query run.
#[derive(Default, Clone)]
struct Recorder(Arc<Mutex<(Vec<String>, usize)>>);

impl Instrumentation for Recorder {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        let mut seen = self.0.lock().unwrap();
        match event {
            InstrumentationEvent::CacheQuery { sql, .. } => seen.0.push(sql.to_owned()),
            InstrumentationEvent::StartQuery { .. } => seen.1 += 1,
            _ => {}
        }
    }
}

fn sqlite() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::Sqlite(dir.path().join("c.db").to_string_lossy().into_owned());
    let store = Store::connect(&url).unwrap();
    store.migrate().unwrap();
    (dir, store)
}

/// Runs `query` three times on one connection; returns how many statements it put in
/// the cache and how many it ran.
fn cached_and_run(store: &Store, query: impl Fn(&mut DbConn)) -> (usize, usize) {
    let mut conn = store.conn().unwrap();
    let recorder = Recorder::default();
    conn.set_instrumentation(recorder.clone());
    for _ in 0..3 {
        query(&mut conn);
    }
    let seen = recorder.0.lock().unwrap();
    (seen.0.len(), seen.1)
}

#[test]
fn lookups_by_key_are_compiled_once() {
    let (_dir, store) = sqlite();
    let (cached, run) = cached_and_run(&store, |c| {
        grant_by_id(c, &GrantId::new("g")).unwrap();
    });
    assert_eq!((cached, run), (1, 3), "grant_by_id");
    let (cached, run) = cached_and_run(&store, |c| {
        client_by_id(c, &ClientId::new("c")).unwrap();
    });
    assert_eq!((cached, run), (1, 3), "client_by_id");
    let (cached, run) = cached_and_run(&store, |c| {
        scope_is_sensitive(c, "openid").unwrap();
    });
    assert_eq!((cached, run), (1, 3), "scope_is_sensitive");
}

#[test]
fn an_audited_write_on_sqlite_compiles_only_the_head_update_each_time() {
    let (_dir, store) = sqlite();
    let (cached, run) = cached_and_run(&store, |c| {
        write_transaction(c, |c| {
            let (seq, hash) = lock_audit_head(c)?;
            let _ = (seq, hash);
            Ok::<_, StoreError>(())
        })
        .unwrap();
    });
    // Each round: BEGIN IMMEDIATE, the head read (cached once), COMMIT; no UPDATE.
    assert_eq!((cached, run), (1, 9));
}
