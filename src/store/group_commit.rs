//! Group commit for SQLite: write transactions that arrive while another is running
//! join it, and the last one in commits them all at once.
//!
//! SQLite lets one writer in at a time, so this process's writers queue anyway; without
//! this they queued inside SQLite's busy handler, which sleeps 1, 2, 5, 10 ms… between
//! tries, and each paid its own `BEGIN IMMEDIATE`, its own WAL frames for the pages it
//! touched (the audit head's among them) and its own `COMMIT`. Here they queue on a
//! mutex, and under load one commit writes the shared pages once for many writers.
//!
//! Each writer after the first runs in a savepoint of its own, so one that fails is
//! rolled back alone; a failed `COMMIT` fails every writer of the batch, and no writer
//! returns before its batch is durable (or failed). Other processes on the same file
//! still meet SQLite's lock and busy timeout. PostgreSQL, whose transactions run side by
//! side, does not use this.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use diesel::connection::TransactionManager;
use diesel::Connection;

use super::{DbConn, PooledConn, Store, StoreError};

type Manager = <DbConn as Connection>::TransactionManager;

/// At most this many writers share a commit, so a steady stream of writers cannot keep
/// the first ones waiting.
const MAX_MEMBERS: usize = 64;

thread_local! {
    /// Set while this thread runs a writer's closure: a write started inside it cannot
    /// join (its batch would wait for itself) and runs on a connection of its own.
    static WRITING: Cell<bool> = const { Cell::new(false) };
}

/// The shared transaction and the writers waiting for it.
#[derive(Default)]
pub(super) struct GroupCommit {
    batch: Mutex<Batch>,
    /// Writers queued for `batch`: the writer that finds none behind it commits.
    queued: AtomicUsize,
    settled: Condvar,
}

#[derive(Default)]
struct Batch {
    /// The open transaction's connection, while a batch is open.
    conn: Option<PooledConn>,
    /// The newest batch's number, and how many writers joined it.
    open: u64,
    members: usize,
    /// Every batch up to this number has committed or failed.
    settled: u64,
    /// Failed batches whose waiting writers have yet to learn it: `(why, how many)`.
    failed: HashMap<u64, (String, usize)>,
}

impl GroupCommit {
    /// Runs `f` in the shared write transaction; returns once its batch has committed.
    pub(super) fn write<T, E>(
        &self,
        store: &Store,
        f: impl FnOnce(&mut DbConn) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        if WRITING.get() {
            let mut conn = store.conn()?;
            return super::write_transaction(&mut conn, f);
        }
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut batch = self.lock();
        self.queued.fetch_sub(1, Ordering::SeqCst);
        if batch.conn.is_none() {
            let mut conn = store.conn()?;
            super::begin_write(&mut conn)?;
            batch.conn = Some(conn);
            batch.open += 1;
            batch.members = 0;
        }
        let number = batch.open;
        let first = batch.members == 0;
        batch.members += 1;

        let mut member = Member {
            group: self,
            batch: Some(batch),
        };
        let ran = member.run(first, f);
        let Some(batch) = member.batch.take() else {
            return Err(StoreError::Pool("the shared transaction was lost".into()).into());
        };
        let result = match ran {
            Ok(result) => result,
            // The transaction itself is in doubt: end it for every writer in it.
            Err(broken) => {
                self.abort(batch, broken.to_string());
                return Err(broken.into());
            }
        };
        if first && result.is_err() {
            // Nothing else is in the transaction: end it.
            self.abort(batch, String::new());
            return result;
        }
        let last = self.queued.load(Ordering::SeqCst) == 0 || batch.members >= MAX_MEMBERS;
        let outcome = if last {
            self.commit(batch)
        } else {
            self.wait(batch, number)
        };
        match outcome {
            Ok(()) => result,
            Err(error) => Err(error.into()),
        }
    }

    /// Commits the open batch for all its writers.
    fn commit(&self, mut batch: MutexGuard<'_, Batch>) -> Result<(), StoreError> {
        let committed = match batch.conn.as_mut() {
            Some(conn) => Manager::commit_transaction(conn).map_err(StoreError::from),
            None => Err(StoreError::Pool("the shared transaction was lost".into())),
        };
        match committed {
            Ok(()) => {
                self.settle(&mut batch, None);
                Ok(())
            }
            Err(error) => {
                self.abort(batch, error.to_string());
                Err(error)
            }
        }
    }

    /// Rolls the open batch back; its other writers fail with `why`.
    fn abort(&self, mut batch: MutexGuard<'_, Batch>, why: String) {
        if let Some(conn) = batch.conn.as_mut() {
            if let Err(error) = Manager::rollback_transaction(conn) {
                tracing::error!(%error, "rollback failed");
            }
        }
        self.settle(&mut batch, Some(why));
    }

    /// Closes the open batch, records a failure for its waiting writers, wakes them.
    fn settle(&self, batch: &mut Batch, failure: Option<String>) {
        // Dropping the connection returns it to the pool (a broken one is discarded).
        batch.conn = None;
        batch.settled = batch.open;
        let waiting = batch.members.saturating_sub(1);
        if let (Some(why), true) = (failure, waiting > 0) {
            let why = format!("the shared transaction failed: {why}");
            batch.failed.insert(batch.open, (why, waiting));
        }
        self.settled.notify_all();
    }

    /// Waits until batch `number` has settled; its outcome.
    fn wait(&self, batch: MutexGuard<'_, Batch>, number: u64) -> Result<(), StoreError> {
        let mut batch = self
            .settled
            .wait_while(batch, |b| b.settled < number)
            .unwrap_or_else(PoisonError::into_inner);
        let Some((why, left)) = batch.failed.get_mut(&number) else {
            return Ok(());
        };
        *left -= 1;
        let why = why.clone();
        if *left == 0 {
            batch.failed.remove(&number);
        }
        Err(StoreError::Pool(why))
    }

    fn lock(&self) -> MutexGuard<'_, Batch> {
        // A writer that panicked rolled its batch back (Member's Drop): the state is whole.
        self.batch.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A writer holding the open batch; if its closure panics, the batch is rolled back.
struct Member<'a> {
    group: &'a GroupCommit,
    batch: Option<MutexGuard<'a, Batch>>,
}

impl Member<'_> {
    /// Runs the writer's closure, in a savepoint unless it is the batch's first writer.
    /// The outer error means the transaction itself failed (a savepoint statement).
    fn run<T, E>(
        &mut self,
        first: bool,
        f: impl FnOnce(&mut DbConn) -> Result<T, E>,
    ) -> Result<Result<T, E>, StoreError> {
        let Some(conn) = self.batch.as_mut().and_then(|b| b.conn.as_mut()) else {
            return Err(StoreError::Pool("the shared transaction was lost".into()));
        };
        let conn: &mut DbConn = conn;
        if !first {
            Manager::begin_transaction(conn)?;
        }
        WRITING.set(true);
        let result = f(conn);
        WRITING.set(false);
        if !first {
            match result {
                Ok(_) => Manager::commit_transaction(conn)?,
                Err(_) => Manager::rollback_transaction(conn)?,
            }
        }
        Ok(result)
    }
}

impl Drop for Member<'_> {
    fn drop(&mut self) {
        if let Some(batch) = self.batch.take() {
            WRITING.set(false);
            self.group.abort(batch, "a writer panicked".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::audit::{self, Actor, AuditAction};
    use crate::store::read_audit_head;

    use crate::store::cache_tests::sqlite;

    /// One audited write; `fail` returns an error after writing, `pause` holds the
    /// transaction so that the other writers queue behind it.
    fn audited(
        store: &Store,
        target: &str,
        fail: bool,
        pause: Duration,
    ) -> Result<i64, StoreError> {
        store.write(|c| {
            let seq = audit::record(
                c,
                &Actor::System,
                AuditAction::TokenIssued,
                target,
                json!({}),
                1,
            )?;
            std::thread::sleep(pause);
            if fail {
                return Err(StoreError::Conflict);
            }
            Ok(seq)
        })
    }

    /// Writers started together: every one that succeeded is in the chain (each after
    /// the batch that holds it committed), every one that failed left nothing, the chain
    /// verifies, and writers did share commits.
    #[test]
    fn concurrent_writers_share_commits_and_fail_alone() {
        let (_dir, store) = sqlite();
        let threads = 8;
        let rounds = 12;
        let start = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (store, start) = (store.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    let mut kept = Vec::new();
                    for round in 0..rounds {
                        let fail = (t + round) % 3 == 0;
                        let target = format!("t{t}-r{round}");
                        let pause = Duration::from_millis(2);
                        match audited(&store, &target, fail, pause) {
                            Ok(_) => {
                                assert!(!fail);
                                // Durable on return: another connection sees it.
                                let seen = store
                                    .read(|c| crate::store::audit_rows_after(c, 0, 10_000))
                                    .unwrap();
                                assert!(seen.iter().any(|r| r.target == target));
                                kept.push(target);
                            }
                            Err(error) => {
                                assert!(fail, "{error}");
                                assert!(matches!(error, StoreError::Conflict));
                            }
                        }
                    }
                    kept
                })
            })
            .collect();
        let mut kept: Vec<String> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        kept.sort();
        let rows = store
            .read(|c| crate::store::audit_rows_after(c, 0, 10_000))
            .unwrap();
        let mut stored: Vec<String> = rows.iter().map(|r| r.target.clone()).collect();
        stored.sort();
        assert_eq!(stored, kept);
        assert_eq!(kept.len(), threads * rounds - threads * rounds / 3);
        let verification = store.read(audit::verify).unwrap();
        assert_eq!(verification.broken, None);
        assert_eq!(verification.checked, kept.len() as i64);
        let batches = store.group.lock().open;
        assert!(
            (batches as usize) < threads * rounds,
            "{batches} commits for {} writes: none shared",
            threads * rounds
        );
    }

    /// A writer that panics mid-transaction rolls its batch back and leaves the store
    /// usable; the writers queued behind it go on.
    #[test]
    #[allow(clippy::panic)] // the panic is what is tested
    fn a_panicking_writer_rolls_back_and_the_next_writes() {
        let (_dir, store) = sqlite();
        let panicked = std::thread::spawn({
            let store = store.clone();
            move || {
                let _: Result<(), StoreError> = store.write(|c| {
                    audit::record(
                        c,
                        &Actor::System,
                        AuditAction::TokenIssued,
                        "lost",
                        json!({}),
                        1,
                    )?;
                    panic!("a bug mid-write");
                });
            }
        })
        .join();
        assert!(panicked.is_err());
        audited(&store, "kept", false, Duration::ZERO).unwrap();
        let head = store.read(read_audit_head).unwrap();
        assert_eq!(head.0, 1);
        let rows = store
            .read(|c| crate::store::audit_rows_after(c, 0, 10))
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].target, "kept");
    }
}
