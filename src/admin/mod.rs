//! The admin console's gate (issue 19): who may use `/admin` and when. Admins are the
//! members of the configured `admin_group` (by default the oversight group `admins`,
//! which may also revoke any approval); any change needs a sign-in within the last
//! [`FRESH_SIGN_IN`] seconds and, unless `admin_factor = "none"`, a second factor
//! proven in that session (a passkey sign-in, or a step-up with a code or a passkey:
//! `step_up.rs`), so neither a session left open nor a stolen password administers
//! (once the admin holds a factor: the first one is enrolled with the password). The console changes nothing itself: its pages call the same `manage`
//! functions as the CLI, which audit before and after.

mod step_up;

pub use step_up::Elevation;

use crate::accounts::sessions::{self, Session, SessionPolicy};
use crate::approval::ApproverFactor;
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
    /// Whose members are admins (`admin_group`).
    pub group: String,
    /// The second factor a change needs (`admin_factor`).
    pub factor: ApproverFactor,
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
    /// Fresh, but the session has not proven the second factor changes need.
    #[error("changes need {}: confirm it first", .0.describe())]
    Factor(ApproverFactor),
    /// Signed in, but not an admin.
    #[error("only admins may use the console")]
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
        if !groups.contains(&self.group) {
            return Err(Refusal::NotAdmin);
        }
        if access == Access::Change {
            if now - session.auth_time > FRESH_SIGN_IN {
                return Err(Refusal::Stale);
            }
            if !self.factor.proven_by_session(&session.amr) {
                return Err(Refusal::Factor(self.factor));
            }
        }
        Ok(Admin { session })
    }

    /// Whether `admin` may change things now (for the pages' hints).
    pub fn may_change(&self, admin: &Admin, now: i64) -> bool {
        now - admin.session.auth_time <= FRESH_SIGN_IN
            && self.factor.proven_by_session(&admin.session.amr)
    }
}
