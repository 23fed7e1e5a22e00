//! Reads that run on the calling thread: a read-only request on SQLite (introspection,
//! userinfo) takes an idle pooled connection where it is, instead of a trip to the
//! blocking pool and back, whose two thread hand-offs cost more than the read.
//!
//! Only when it cannot block: on SQLite (a WAL reader never waits for a writer), with a
//! connection already idle in the pool, and reading only. A call that would wait for a
//! connection, or that tries to write, is refused part-way, and the caller runs it
//! again on the blocking pool; so only calls without other side effects may run here.

use std::cell::Cell;

use super::{DatabaseUrl, PooledConn, Store, StoreError};

thread_local! {
    /// `Some(refused)` while this thread runs a call inline.
    static INLINE: Cell<Option<bool>> = const { Cell::new(None) };
}

impl Store {
    /// Runs a read-only `call` on this thread if the store allows it without blocking;
    /// `None` when it did not (or stopped part-way): run it on the blocking pool.
    pub fn inline<T>(&self, call: impl FnOnce() -> T) -> Option<T> {
        if !matches!(self.url, DatabaseUrl::Sqlite(_)) || INLINE.get().is_some() {
            return None;
        }
        struct Reset;
        impl Drop for Reset {
            fn drop(&mut self) {
                INLINE.set(None);
            }
        }
        let _reset = Reset;
        INLINE.set(Some(false));
        let result = call();
        (INLINE.get() == Some(false)).then_some(result)
    }

    /// While running inline: an idle connection, or a refusal that ends the attempt.
    pub(super) fn inline_conn(&self) -> Option<Result<PooledConn, StoreError>> {
        INLINE.get()?;
        Some(self.pool.try_get().ok_or_else(refuse))
    }
}

/// While running inline, a write is refused (it may wait for SQLite's lock).
pub(super) fn refuse_write() -> Option<StoreError> {
    INLINE.get().map(|_| refuse())
}

fn refuse() -> StoreError {
    INLINE.set(Some(true));
    StoreError::Pool("not available without waiting".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::store::cache_tests::sqlite;

    #[test]
    fn a_read_runs_inline_with_an_idle_connection() {
        let (_dir, store) = sqlite();
        let head = store.inline(|| store.read(super::super::read_audit_head));
        assert_eq!(head.unwrap().unwrap().0, 0);
    }

    #[test]
    fn a_write_is_refused_and_changes_nothing() {
        let (_dir, store) = sqlite();
        let wrote = store.inline(|| {
            store.write(|c| {
                super::super::lock_audit_head(c)?;
                Ok::<_, StoreError>(())
            })
        });
        assert!(wrote.is_none());
        // Not inline any more: the same write now runs.
        store
            .write(|c| super::super::lock_audit_head(c).map(|_| ()))
            .unwrap();
    }

    #[test]
    fn a_read_that_would_wait_for_a_connection_is_refused() {
        let (_dir, store) = sqlite();
        let held: Vec<_> = (0..store.pool.max_size())
            .map(|_| store.conn().unwrap())
            .collect();
        let read = store.inline(|| store.read(super::super::read_audit_head));
        assert!(read.is_none());
        drop(held);
        assert!(store
            .inline(|| store.read(super::super::read_audit_head))
            .is_some());
    }
}
