//! Prepared statements on the hot paths are compiled once per connection and reused
//! (diesel's statement cache): a query diesel cannot cache is compiled by SQLite at
//! every execution.

use std::sync::{Arc, Mutex};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::Connection;

use super::*;
use crate::ids::{ClientId, GrantId};

/// Records the SQL of every statement diesel puts in its cache, and of every query run.
#[derive(Default, Clone)]
struct Recorder(Arc<Mutex<(Vec<String>, Vec<String>)>>);

impl Instrumentation for Recorder {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        let mut seen = self.0.lock().unwrap();
        match event {
            InstrumentationEvent::CacheQuery { sql, .. } => seen.0.push(sql.to_owned()),
            InstrumentationEvent::StartQuery { query, .. } => seen.1.push(query.to_string()),
            _ => {}
        }
    }
}

/// A migrated SQLite store in a temporary directory (shared by the store's unit tests).
pub(super) fn sqlite() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::Sqlite(dir.path().join("c.db").to_string_lossy().into_owned());
    let store = Store::connect(&url).unwrap();
    store.migrate().unwrap();
    (dir, store)
}

/// Runs `query` three times on one connection; returns how many statements it put in
/// the cache and how many it ran.
fn cached_and_run(store: &Store, query: impl Fn(&mut DbConn)) -> (usize, usize) {
    let (cached, run) = recorded(store, query);
    (cached.len(), run.len())
}

/// Runs `query` three times on one connection; returns the SQL it put in the cache and
/// the SQL of each statement it ran (with its binds).
fn recorded(store: &Store, query: impl Fn(&mut DbConn)) -> (Vec<String>, Vec<String>) {
    let mut conn = store.conn().unwrap();
    let recorder = Recorder::default();
    conn.set_instrumentation(recorder.clone());
    for _ in 0..3 {
        query(&mut conn);
    }
    let seen = recorder.0.lock().unwrap();
    seen.clone()
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
fn an_audited_write_on_sqlite_compiles_its_statements_once() {
    let (_dir, store) = sqlite();
    let (cached, run) = recorded(&store, |c| {
        write_transaction(c, |c| {
            let (seq, hash) = lock_audit_head(c)?;
            append_audit_row(
                c,
                &AuditRow {
                    seq: seq + 1,
                    at: 0,
                    actor: "system".into(),
                    action: "test".into(),
                    target: "t".into(),
                    details: "{}".into(),
                    prev_hash: hash,
                    hash: format!("h{seq}"),
                },
            )?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    });
    // Each round: BEGIN IMMEDIATE, the head read, the event's INSERT, the head's UPDATE,
    // COMMIT; the three statements are compiled in the first round only.
    assert_eq!(run.len(), 15, "{run:#?}");
    assert_eq!(cached.len(), 3, "{cached:#?}");
    assert!(cached.iter().any(|sql| sql.starts_with("UPDATE")));
}

/// SQLite recompiles a statement each time a value is bound to its `LIMIT` (the planner
/// may depend on it), and diesel binds `first()`'s `LIMIT 1` on every run; so the
/// lookups the hot paths run carry no `LIMIT`: one key names at most one row.
#[test]
fn lookups_by_key_bind_no_limit() {
    let (_dir, store) = sqlite();
    let (_, run) = recorded(&store, |c| {
        grant_by_id(c, &GrantId::new("g")).unwrap();
        client_by_id(c, &ClientId::new("c")).unwrap();
        user_by_id(c, &crate::ids::UserId::new("u")).unwrap();
        user_by_username(c, "alice").unwrap();
        read_audit_head(c).unwrap();
        refresh_by_hash(c, "h").unwrap();
    });
    assert_eq!(run.len(), 18);
    for sql in run {
        assert!(!sql.contains("LIMIT"), "{sql}");
    }
}

/// A row with empty optional columns is inserted by a statement compiled once (on
/// SQLite diesel binds `None` as NULL; it writes no `DEFAULT` that would vary the SQL).
#[test]
fn inserting_a_machine_grant_compiles_once() {
    let (_dir, store) = sqlite();
    let n = std::sync::atomic::AtomicUsize::new(0);
    let (cached, run) = cached_and_run(&store, |c| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if i == 0 {
            // No client row: this test is about the statement, not the foreign key.
            c.batch_execute("PRAGMA foreign_keys = OFF").unwrap();
        }
        insert_grant(
            c,
            &GrantRow {
                id: GrantId::new(format!("g{i}")),
                user_id: None,
                client_id: ClientId::new("c"),
                scopes: crate::scope_set::ScopeSet::parse("a"),
                approval_id: None,
                auth_time: None,
                sid: None,
                amr: None,
                created_at: 0,
                expires_at: Some(1),
                revoked_at: None,
            },
        )
        .unwrap();
    });
    assert_eq!((cached, run), (1, 4), "insert_grant and one PRAGMA");
}

/// The code's redemption, a hand-written UPDATE (cached.rs), is compiled once.
#[test]
fn redeeming_codes_compiles_once() {
    let (_dir, store) = sqlite();
    let (cached, run) = recorded(&store, |c| {
        assert!(!mark_code_used(c, "no such code", 1).unwrap());
    });
    assert_eq!(run.len(), 3);
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert!(cached[0].starts_with("UPDATE authorization_codes"));
}

/// The compare-and-swap moves of requests and approvals, a request's extension and a
/// refresh token's rotation, hand-written (cached.rs), are compiled once; a lost race
/// is a `Conflict`, not an error of the statement.
#[test]
fn moving_requests_and_approvals_compiles_once() {
    use crate::approval::ApprovalState;
    use crate::ids::{ApprovalId, RequestId, UserId};
    use crate::oidc::authorize::RequestState;
    let (_dir, store) = sqlite();
    let (cached, run) = recorded(&store, |c| {
        let request = transition_request(
            c,
            &RequestId::new("r"),
            RequestState::ALL[0],
            RequestState::ALL[1],
            &UserId::new("u"),
        );
        assert!(matches!(request, Err(StoreError::Conflict)));
        for stamps in [(Some(1), Some(2)), (Some(1), None), (None, None)] {
            let approval = transition_approval(
                c,
                &ApprovalId::new("a"),
                ApprovalState::Pending,
                ApprovalState::Approved,
                stamps.0,
                stamps.1,
            );
            assert!(matches!(approval, Err(StoreError::Conflict)));
        }
        extend_request(c, &RequestId::new("r"), 5).unwrap();
        assert!(!mark_refresh_used(c, "no such token", 1).unwrap());
    });
    assert_eq!(run.len(), 18);
    assert_eq!(cached.len(), 4, "{cached:?}");
}

/// On SQLite a request's scopes and their claims are read by cached key lookups, never
/// by an `IN (…)` list, which diesel cannot cache.
#[test]
fn reading_scopes_by_name_compiles_once_on_sqlite() {
    let (_dir, store) = sqlite();
    let (cached, run) = recorded(&store, |c| {
        let rows = scopes_by_names(c, &["profile", "openid", "profile"]).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(claim_lists_of(c, &["openid", "email"]).unwrap().len(), 2);
    });
    // Each round: two scopes and their groups, two claim lists.
    assert_eq!(run.len(), 18, "{run:#?}");
    assert_eq!(cached.len(), 3, "{cached:#?}");
    assert!(run.iter().all(|sql| !sql.contains(" IN (")), "{run:#?}");
}
