//! A value built from the database and kept in memory for a bounded time: the discovery
//! document, served on every request, changes only when a scope does. Another instance
//! (or the CLI) may change a scope, so a copy is rebuilt at most
//! [`METADATA_REFRESH_SECONDS`] (of the provider's clock) after it was built; a change
//! made through this instance forgets it at once.

use std::sync::{Arc, RwLock};

/// How long a built document is served before it is built again: the staleness bound
/// for a scope changed elsewhere.
pub const METADATA_REFRESH_SECONDS: i64 = 10;

/// A value and when it was built.
type Built = (i64, Arc<str>);

/// One memoized value and when it was built.
#[derive(Debug, Default, Clone)]
pub struct Memo(Arc<RwLock<Option<Built>>>);

impl Memo {
    /// The value, if it was built within the bound before `now`.
    pub fn fresh(&self, now: i64) -> Option<Arc<str>> {
        let held = self.0.read().ok()?;
        let (built, value) = held.as_ref()?;
        (*built..built.saturating_add(METADATA_REFRESH_SECONDS))
            .contains(&now)
            .then(|| value.clone())
    }

    /// Keeps `value`, built at `now`.
    pub fn put(&self, now: i64, value: Arc<str>) {
        if let Ok(mut held) = self.0.write() {
            *held = Some((now, value));
        }
    }

    /// Forgets the value (it changed here).
    pub fn forget(&self) {
        if let Ok(mut held) = self.0.write() {
            *held = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_fresh_within_the_bound_and_until_forgotten() {
        let memo = Memo::default();
        assert!(memo.fresh(0).is_none());
        memo.put(100, "doc".into());
        assert_eq!(
            memo.fresh(100 + METADATA_REFRESH_SECONDS - 1).as_deref(),
            Some("doc")
        );
        assert!(memo.fresh(100 + METADATA_REFRESH_SECONDS).is_none());
        assert!(memo.fresh(99).is_none(), "a clock set back builds it again");
        memo.forget();
        assert!(memo.fresh(100).is_none());
    }
}
