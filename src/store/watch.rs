//! What each pooled connection tells the pool about itself, through diesel's
//! instrumentation hook: whether the server closed it. The pool does not validate a
//! connection with a query at checkout (one round trip per request on PostgreSQL);
//! instead a connection that saw its server go away (`pg_terminate_backend`, a restart,
//! a cut network) is reported broken when it is returned, and the pool drops it.

//!
//! A connection idle for more than [`IDLE_CHECK`] is still pinged before it is handed
//! out (a server restarted while the pool was quiet then costs no request anything); a
//! busy pool never pings. A connection killed while busy fails the one request using it
//! (503 with `Retry-After`, as in an outage) and is replaced; since its siblings were
//! probably killed with it, every connection last used before that loss is pinged at
//! its next checkout ([`Losses`]).
//!
//! The watch passes every event on to diesel's default instrumentation, if the program
//! set one (`diesel::connection::set_default_instrumentation`): that is how a query log
//! or the test of cached statements (tests/api/approval/statements.rs) sees the pool.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::result::{DatabaseErrorKind, Error};
use diesel::Connection;

use super::DbConn;

/// A connection unused for longer than this is pinged at checkout.
pub const IDLE_CHECK: Duration = Duration::from_secs(1);

/// The instrumentation set on every pooled connection.
pub struct Watch {
    closed: bool,
    last_used: Instant,
    /// diesel's default instrumentation, which setting the watch would otherwise replace.
    also: Option<Box<dyn Instrumentation>>,
}

impl Default for Watch {
    fn default() -> Self {
        Watch {
            closed: false,
            last_used: Instant::now(),
            also: diesel::connection::get_default_instrumentation(),
        }
    }
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("closed", &self.closed)
            .field("last_used", &self.last_used)
            .field("also", &self.also.is_some())
            .finish()
    }
}

impl Watch {
    /// The watch of `conn`, if it has one.
    fn of(conn: &mut DbConn) -> Option<&Watch> {
        conn.instrumentation().downcast_ref::<Watch>()
    }

    /// True once a query on `conn` failed because the connection is gone.
    pub fn is_closed(conn: &mut DbConn) -> bool {
        Self::of(conn).is_some_and(|watch| watch.closed)
    }

    /// True when `conn` should be pinged before use: unused for [`IDLE_CHECK`], or
    /// last used before a connection of the pool was found lost.
    pub fn is_suspect(conn: &mut DbConn, losses: &Losses) -> bool {
        let last_loss = losses.last();
        Self::of(conn).is_none_or(|watch| {
            watch.last_used.elapsed() > IDLE_CHECK
                || last_loss.is_some_and(|lost| watch.last_used <= lost)
        })
    }
}

/// When a connection of the pool was last found lost.
#[derive(Debug, Default, Clone)]
pub struct Losses(Arc<Mutex<Option<Instant>>>);

impl Losses {
    /// A connection was found lost now.
    pub fn record(&self) {
        if let Ok(mut last) = self.0.lock() {
            *last = Some(Instant::now());
        }
    }

    fn last(&self) -> Option<Instant> {
        self.0.lock().ok().and_then(|last| *last)
    }
}

/// True for the errors a lost connection produces.
pub fn is_lost_connection(error: &Error) -> bool {
    matches!(
        error,
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, _)
            | Error::BrokenTransactionManager
    )
}

impl Instrumentation for Watch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::FinishQuery {
            error: Some(error), ..
        } = event
        {
            self.closed |= is_lost_connection(error);
        }
        self.last_used = Instant::now();
        if let Some(also) = &mut self.also {
            also.on_connection_event(event);
        }
    }
}
