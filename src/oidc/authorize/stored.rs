//! Loading a stored authorization request for another pass: it must exist, be live
//! and unexpired, and belong to whoever is signed in (a request never changes owner);
//! its parameters are validated again, and an `id_token_hint` resolved to the subject
//! it names (OIDC Core §3.1.2.1).

use serde_json::Value;

use super::{already_handled, valid_target, validate, AuthorizeError, ValidRequest};
use super::{RequestEvent, RequestState};
use crate::accounts::sessions::{self, Session};
use crate::crypto;
use crate::ids::{RequestId, SessionToken, UserId};
use crate::oidc::error::OAuthError;
use crate::oidc::params::Params;
use crate::oidc::Provider;
use crate::store::{self, DbConn, RequestRow};

impl Provider {
    /// The live session behind the browser's cookie, if any.
    pub(super) fn session(
        &self,
        c: &mut DbConn,
        cookie: Option<&SessionToken>,
        now: i64,
    ) -> Result<Option<Session>, OAuthError> {
        match cookie {
            Some(cookie) => Ok(sessions::find(c, cookie, now, self.sessions)?),
            None => Ok(None),
        }
    }

    /// The stored request `id`, checked for `session` (when someone is signed in).
    pub(super) fn load_request(
        &self,
        c: &mut DbConn,
        id: &str,
        session: Option<&Session>,
        now: i64,
    ) -> Result<(RequestRow, Params, ValidRequest), AuthorizeError> {
        let unknown = || {
            OAuthError::invalid_request(
                "the authorization request is unknown; start again from the application",
            )
        };
        let id = RequestId::parse(id).map_err(|_| unknown())?;
        let row = store::request_by_id(c, &id)?.ok_or_else(unknown)?;
        if row.expires_at <= now {
            return Err(OAuthError::invalid_request(
                "the authorization request expired; start again from the application",
            )
            .into());
        }
        if !row.state.is_live() {
            return Err(already_handled().into());
        }
        if let Some(session) = session {
            owned_by(&row, &session.user.id)?;
        }
        if row.is_backchannel() {
            return Err(OAuthError::invalid_request(
                "this request was made by an application on the back channel, which is told the outcome",
            )
            .into());
        }
        let pairs: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&row.params).map_err(|e| OAuthError::server_error(&e))?;
        let params = Params::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let valid = validate::validate(c, &params, None)?;
        let valid = self.check_id_token_hint(c, valid, now)?;
        Ok((row, params, valid))
    }

    /// Resolves `id_token_hint` to the `sub` of the ID token, which must be one this
    /// provider issued (signature checked; expiry is not, as OIDC Core §3.1.2.1 allows
    /// expired hints).
    pub(super) fn check_id_token_hint(
        &self,
        c: &mut DbConn,
        mut valid: ValidRequest,
        now: i64,
    ) -> Result<ValidRequest, AuthorizeError> {
        let Some(hint) = valid.id_token_hint.as_deref() else {
            return Ok(valid);
        };
        let keys = self.keys.for_token(c, hint, now)?;
        let claims: Option<Value> = crypto::verify_id_token_hint(&keys, hint, &self.issuer);
        match claims.as_ref().and_then(|claims| claims["sub"].as_str()) {
            Some(sub) => {
                valid.hint_subject = Some(UserId::new(sub));
                Ok(valid)
            }
            None => Err(AuthorizeError::Redirect(
                valid_target(&valid),
                OAuthError::invalid_request("id_token_hint is not an ID token issued here"),
            )),
        }
    }
}

/// Applies `event` to the stored request (compare-and-swap on its state and owner,
/// binding it to `user` on its first move) and returns the new state. An illegal move
/// or a lost race means another pass already handled it.
pub(super) fn move_request(
    c: &mut DbConn,
    row: &RequestRow,
    event: RequestEvent,
    user: &UserId,
) -> Result<RequestState, OAuthError> {
    let to = row.state.next(event).map_err(|_| already_handled())?;
    store::transition_request(c, &row.id, row.state, to, user).map_err(|_| already_handled())?;
    Ok(to)
}

/// A request bound to a user (on its first move past `open`) is theirs alone.
fn owned_by(row: &RequestRow, user: &UserId) -> Result<(), AuthorizeError> {
    match &row.user_id {
        Some(owner) if owner != user => {
            Err(OAuthError::access_denied("this sign-in request belongs to another user").into())
        }
        _ => Ok(()),
    }
}
