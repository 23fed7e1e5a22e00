//! The end-user's sign-in as the pages need it: the password login (throttled, session
//! rotated; DESIGN.md §8 "Throttling"), which also marks the authorization request
//! being signed in for (`prompt=login`, OIDC Core §3.1.2.1), the session behind a
//! cookie, and whether the database is ready to serve.

use super::Provider;
use crate::accounts::login::{self, Attempt, LoginOutcome};
use crate::accounts::sessions::{self, Session};
use crate::ids::SessionToken;
use crate::store::StoreError;

impl Provider {
    /// Checks a password login; on success for `request` (the id of the stored
    /// authorization request the login page was shown for), records the login on it.
    pub fn sign_in(
        &self,
        attempt: &Attempt<'_>,
        request: Option<&str>,
        now: i64,
    ) -> Result<LoginOutcome, StoreError> {
        let outcome = login::login(&self.store, attempt, now, self.throttle, self.sessions)?;
        if let (LoginOutcome::Success { .. }, Some(request)) = (&outcome, request) {
            self.note_login(request, now)?;
        }
        Ok(outcome)
    }

    /// The live session behind a session cookie, if any (touching its idle timer).
    pub fn session_of(
        &self,
        cookie: &SessionToken,
        now: i64,
    ) -> Result<Option<Session>, StoreError> {
        sessions::lookup(&self.store, cookie, now, self.sessions)
    }

    /// True when the database answers and every migration has been applied.
    pub fn ready(&self) -> Result<bool, StoreError> {
        self.store.is_ready()
    }
}
