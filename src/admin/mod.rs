//! The admin console's gate (issue 19): who may use `/admin` and when. Admins are the
//! members of the oversight group (the group that may also revoke any approval); any
//! change needs a sign-in within the last [`FRESH_SIGN_IN`] seconds, so a session left
//! open does not administer. The console changes nothing itself: its pages call the
//! same `manage` functions as the CLI, which audit before and after.

use crate::accounts::sessions::{self, Session, SessionPolicy};
use crate::approval::OVERSIGHT_GROUP;
use crate::audit::Actor;
use crate::ids::SessionToken;
use crate::store::{self, Store, StoreError};

/// How recent an admin's sign-in must be to change anything (seconds).
pub const FRESH_SIGN_IN: i64 = 10 * 60;

/// The console over a store.
#[derive(Debug, Clone)]
pub struct Console {
    /// Storage (the `manage` calls take it too).
    pub store: Store,
    /// Session timeouts.
    pub sessions: SessionPolicy,
}

/// Why the console refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Nobody is signed in.
    #[error("sign in first")]
    SignIn,
    /// The sign-in is too old to change anything.
    #[error("sign in again to make changes")]
    Stale,
    /// Signed in, but not an admin.
    #[error("only members of the admins group may use the console")]
    NotAdmin,
    /// Storage failed.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// What a console call may read or change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Look.
    Read,
    /// Change: needs a fresh sign-in.
    Change,
}

/// The signed-in admin.
#[derive(Debug, Clone)]
pub struct Admin {
    /// Their session.
    pub session: Session,
}

impl Admin {
    /// Who the audit trail names for their changes.
    pub fn actor(&self) -> Actor {
        Actor::User(self.session.user.id.clone())
    }
}

impl Console {
    /// The admin behind `cookie`, allowed `access` now.
    pub fn admin(
        &self,
        cookie: Option<&SessionToken>,
        access: Access,
        now: i64,
    ) -> Result<Admin, Refusal> {
        let cookie = cookie.ok_or(Refusal::SignIn)?;
        let session =
            sessions::lookup(&self.store, cookie, now, self.sessions)?.ok_or(Refusal::SignIn)?;
        let groups = self
            .store
            .read(|c| store::groups_of_user(c, &session.user.id))?;
        if !groups.iter().any(|g| g == OVERSIGHT_GROUP) {
            return Err(Refusal::NotAdmin);
        }
        if access == Access::Change && now - session.auth_time > FRESH_SIGN_IN {
            return Err(Refusal::Stale);
        }
        Ok(Admin { session })
    }
}
