//! RP-Initiated Logout 1.0: `id_token_hint`, `client_id`, `post_logout_redirect_uri`
//! (exact match against the client's registered list) and `state`. Without a valid
//! hint the user confirms first (§2: the OP should ask).

use serde_json::{json, Value};

use super::clients::Client;
use super::error::OAuthError;
use super::params::Params;
use super::Provider;
use crate::accounts::sessions;
use crate::audit::{self, Actor, AuditAction};
use crate::crypto;
use crate::ids::{ClientId, SessionToken};
use crate::store::{self, DbConn};

/// Where a logout request goes.
#[derive(Debug, Clone)]
pub enum LogoutOutcome {
    /// Ask the user; resubmit these parameters with the confirmation.
    Confirm {
        /// The client asking, if known.
        client_name: Option<String>,
        /// Parameters to carry through the confirmation form.
        carry: Vec<(String, String)>,
    },
    /// Signed out: go to the client, or show the signed-out page.
    SignedOut {
        /// The post-logout redirect, with `state`.
        redirect: Option<String>,
        /// `(upstream, id_token)` when the session came from an upstream provider,
        /// whose own session should end too (issue 22 item 4).
        upstream: Option<(String, String)>,
    },
}

struct Checked {
    client: Option<Client>,
    redirect: Option<String>,
    hint_sub: Option<String>,
}

impl Provider {
    /// `GET|POST /logout`. `confirmed` is set by the confirmation form.
    pub fn logout(
        &self,
        params: &Params,
        cookie: Option<&SessionToken>,
        confirmed: bool,
        now: i64,
    ) -> Result<LogoutOutcome, OAuthError> {
        self.store.write(|c| {
            let checked = self.check_logout(c, params, now)?;
            let session = match cookie {
                Some(cookie) => sessions::find(c, cookie, now, self.sessions)?,
                None => None,
            };
            // A hint only vouches for the user it names: someone else's ID token in a
            // link must not sign this browser's user out without asking.
            let hint_matches = checked
                .hint_sub
                .as_deref()
                .is_some_and(|sub| session.as_ref().is_none_or(|s| s.user.id == sub));
            if !hint_matches && !confirmed {
                // The form carries the client the hint or client_id identified, not the
                // hint itself: without it the confirmed logout could not check
                // post_logout_redirect_uri and would fail, leaving the user signed in.
                let client_id = checked.client.as_ref().map(|c| c.client_id.to_string());
                let carry = ["post_logout_redirect_uri", "state"]
                    .iter()
                    .filter_map(|k| params.get(k).map(|v| (k.to_string(), v.to_owned())))
                    .chain(client_id.map(|id| ("client_id".to_owned(), id)))
                    .collect();
                return Ok(LogoutOutcome::Confirm {
                    client_name: checked.client.map(|c| c.name),
                    carry,
                });
            }
            let mut upstream = None;
            if let (Some(cookie), Some(session)) = (cookie, session) {
                upstream = store::upstream_session(c, &session.id_hash)?;
                sessions::end(c, cookie)?;
                let client_id = checked.client.as_ref().map(|c| c.client_id.clone());
                audit::record(
                    c,
                    &Actor::User(session.user.id.clone()),
                    AuditAction::Logout,
                    &format!("user:{}", session.user.username),
                    json!({"client_id": client_id}),
                    now,
                )?;
            }
            Ok(LogoutOutcome::SignedOut {
                redirect: checked.redirect,
                upstream,
            })
        })
    }

    fn check_logout(
        &self,
        c: &mut DbConn,
        params: &Params,
        now: i64,
    ) -> Result<Checked, OAuthError> {
        let hint: Option<Value> = match params.get("id_token_hint") {
            Some(hint) => {
                let keys = self.keys.for_token(c, hint, now)?;
                let claims = crypto::verify_id_token_hint(&keys, hint, &self.issuer);
                Some(claims.ok_or_else(|| {
                    OAuthError::invalid_request("id_token_hint is not an ID token issued here")
                })?)
            }
            None => None,
        };
        let hinted_client = hint
            .as_ref()
            .and_then(|h| h["aud"].as_str().or_else(|| h["aud"][0].as_str()))
            .map(str::to_owned);
        let client_id = match (params.get("client_id"), hinted_client.as_deref()) {
            (Some(given), Some(hinted)) if given != hinted => {
                return Err(OAuthError::invalid_request(
                    "client_id does not match the id_token_hint",
                ))
            }
            (given, hinted) => given.or(hinted).map(str::to_owned),
        };
        let client = match client_id {
            Some(id) => Some(
                match ClientId::parse(&id) {
                    Ok(id) => Client::load(c, &id)?,
                    Err(_) => None,
                }
                .ok_or_else(|| OAuthError::invalid_request("the client is not registered"))?,
            ),
            None => None,
        };
        let redirect = match params.get("post_logout_redirect_uri") {
            None => None,
            Some(uri) => {
                let registered = client
                    .as_ref()
                    .is_some_and(|c| c.post_logout_redirect_uris.iter().any(|r| r == uri));
                if !registered {
                    return Err(OAuthError::invalid_request(
                        "post_logout_redirect_uri is not registered for the client",
                    ));
                }
                Some(match params.get("state") {
                    Some(state) => {
                        let query = url::form_urlencoded::Serializer::new(String::new())
                            .append_pair("state", state)
                            .finish();
                        format!("{uri}{}{query}", if uri.contains('?') { '&' } else { '?' })
                    }
                    None => uri.to_owned(),
                })
            }
        };
        Ok(Checked {
            client,
            redirect,
            hint_sub: hint
                .as_ref()
                .and_then(|h| h["sub"].as_str())
                .map(str::to_owned),
        })
    }
}
