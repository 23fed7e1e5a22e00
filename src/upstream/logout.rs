//! Ending the upstream session with ours (issue 22 item 4; RP-Initiated Logout 1.0
//! §2): when a session that came from an upstream signs out here, the browser goes to
//! the upstream's `end_session_endpoint` with our `id_token_hint`, and comes back to
//! `/logout/upstream/done`. Where to go after that (the client's
//! `post_logout_redirect_uri`, already checked) travels in `state`, MACed so that
//! nothing else can be sent through it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::{protocol, Broker};
use crate::crypto;

impl Broker {
    /// Where to send the browser to end its session at upstream `name`, coming back
    /// to `then` (or the signed-out page); `None` when the upstream has no
    /// end_session endpoint or cannot be asked (the local session is over anyway).
    #[tracing::instrument(skip_all, fields(upstream = name))]
    pub async fn end_session(
        &self,
        name: &str,
        id_token: &str,
        then: Option<&str>,
    ) -> Option<String> {
        let row = match self.upstream(name).await {
            Ok(row) => row,
            Err(error) => {
                tracing::warn!(%error, "upstream logout skipped");
                return None;
            }
        };
        let mut url = match protocol::end_session_endpoint(&self.http, &row.issuer).await {
            Ok(Some(url)) => url,
            Ok(None) => return None,
            Err(error) => {
                tracing::warn!(%error, "upstream logout skipped");
                return None;
            }
        };
        let id_token = match self.unseal(id_token) {
            Ok(id_token) => id_token,
            Err(error) => {
                tracing::warn!(%error, "upstream logout skipped");
                return None;
            }
        };
        let payload = URL_SAFE_NO_PAD.encode(then.unwrap_or_default());
        let state = format!("{payload}.{}", crypto::csrf_mac(&self.logout_key, &payload));
        url.query_pairs_mut()
            .append_pair("id_token_hint", &id_token)
            .append_pair("client_id", &row.client_id)
            .append_pair("post_logout_redirect_uri", &self.logout_return())
            .append_pair("state", &state);
        Some(url.into())
    }

    /// Our `post_logout_redirect_uri` at every upstream.
    pub fn logout_return(&self) -> String {
        format!("{}/logout/upstream/done", self.issuer)
    }

    /// Where to go once the upstream signed out: the redirect carried in `state` when
    /// we MACed it, else nowhere (the signed-out page).
    pub fn after_end_session(&self, state: Option<&str>) -> Option<String> {
        let (payload, mac) = state?.split_once('.')?;
        let expected = crypto::csrf_mac(&self.logout_key, payload);
        if !crypto::constant_time_eq(expected.as_bytes(), mac.as_bytes()) {
            return None;
        }
        let then = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        (!then.is_empty()).then_some(then)
    }
}
