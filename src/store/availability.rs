//! Whether the database can be reached, as the pool last saw it. While it cannot, a
//! request waits a short moment for a connection instead of the pool's full timeout, so
//! every endpoint answers "503, retry later" at once (issue 17); the pool keeps trying to
//! connect in the background, and the first connection that succeeds ends the outage
//! without a restart. Transitions are logged once each, not at every retry.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::r2d2;

/// How long a request may wait for a connection while the database is reachable: a busy
/// pool frees a connection within this, an overloaded one is reported as unavailable.
pub const POOL_WAIT: Duration = Duration::from_secs(5);

/// How long a request waits for a connection while the database is unreachable: long
/// enough to pick up a connection the background retry has just made.
const OUTAGE_WAIT: Duration = Duration::from_millis(250);

/// The slice a healthy wait is cut into, so a connection attempt failing meanwhile ends
/// the wait at once instead of at the end of [`POOL_WAIT`].
const WAIT_SLICE: Duration = Duration::from_millis(100);

/// What clients are told to wait before retrying (`Retry-After`, in seconds) while the
/// database is unavailable; the pool retries connecting at least this often.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// Shared between the pool's connection manager (which sees connection attempts) and
/// the store (which hands out connections).
#[derive(Debug, Default, Clone)]
pub struct Availability(Arc<AtomicBool>);

impl Availability {
    /// True while the last connection attempt failed.
    pub fn is_down(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// A connection attempt failed.
    pub fn failed(&self, error: &dyn std::fmt::Display) {
        if !self.0.swap(true, Ordering::AcqRel) {
            tracing::error!(%error, "database unreachable; answering 503 until it is back");
        }
    }

    /// A connection attempt (or a checkout) succeeded.
    pub fn reached(&self) {
        if self.0.swap(false, Ordering::AcqRel) {
            tracing::warn!("database reachable again");
        }
    }

    /// A connection from `pool`: waits up to [`POOL_WAIT`] while the database is
    /// reachable, and gives up as soon as it is known not to be.
    pub fn checkout<M: r2d2::ManageConnection>(
        &self,
        pool: &r2d2::Pool<M>,
    ) -> Result<r2d2::PooledConnection<M>, r2d2::PoolError> {
        let deadline = Instant::now() + POOL_WAIT;
        loop {
            let wait = if self.is_down() {
                OUTAGE_WAIT
            } else {
                WAIT_SLICE.min(deadline.saturating_duration_since(Instant::now()))
            };
            match pool.get_timeout(wait) {
                Ok(conn) => {
                    self.reached();
                    return Ok(conn);
                }
                Err(error) if self.is_down() || Instant::now() >= deadline => return Err(error),
                Err(_) => continue,
            }
        }
    }
}

/// The pool's error handler: connection failures are reported through
/// [`Availability::failed`] instead of being logged at every background retry.
#[derive(Debug)]
pub struct QuietErrors;

impl<E> r2d2::HandleError<E> for QuietErrors
where
    E: std::error::Error,
{
    fn handle_error(&self, error: E) {
        tracing::debug!(%error, "database connection attempt failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_reported_once_and_ends_with_the_first_success() {
        let availability = Availability::default();
        assert!(!availability.is_down());
        availability.failed(&"connection refused");
        availability.failed(&"connection refused");
        assert!(availability.is_down());
        availability.reached();
        assert!(!availability.is_down());
    }
}
