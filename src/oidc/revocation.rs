//! Token revocation (RFC 7009): an access or refresh token revokes its whole grant.

use serde_json::{json, Value};

use super::client_requests::TokenError;
use super::clients::Client;
use super::error::OAuthError;
use super::Provider;
use crate::audit::{self, Actor, AuditAction};
use crate::crypto;
use crate::ids::GrantId;
use crate::store::{self, DbConn};

impl Provider {
    /// `POST /revoke` (RFC 7009): an access or refresh token revokes its whole grant.
    /// Unknown tokens answer 200; another client's token is refused and changes nothing.
    pub fn revoke(
        &self,
        authorization: Option<&str>,
        form: bool,
        body: &[u8],
        now: i64,
    ) -> Result<(), TokenError> {
        self.with_client(authorization, form, body, true, |c, client, params| {
            let token = params
                .get("token")
                .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
            self.revoke_token(c, &client, token, now)
        })
    }

    fn revoke_token(
        &self,
        c: &mut DbConn,
        client: &Client,
        token: &str,
        now: i64,
    ) -> Result<(), OAuthError> {
        let keys = self.keys.for_token(c, token, now)?;
        let from_jwt = crypto::verify_ignoring_expiry::<Value>(&keys, token, &self.issuer)
            .and_then(|claims| claims["grant_id"].as_str().map(GrantId::new));
        let grant_id = match from_jwt {
            Some(id) => Some(id),
            None => store::refresh_by_hash(c, &crypto::sha256_hex(token.as_bytes()))?
                .map(|r| r.grant_id),
        };
        let Some(grant) = grant_id
            .map(|id| store::grant_by_id(c, &id))
            .transpose()?
            .flatten()
        else {
            return Ok(());
        };
        if grant.client_id != client.client_id {
            return Err(OAuthError::unauthorized_client(
                "the token was issued to another client",
            ));
        }
        if store::revoke_grant(c, &grant.id, now)? {
            audit::record(
                c,
                &Actor::Client(client.client_id.clone()),
                AuditAction::TokenRevoked,
                &format!("grant:{}", grant.id),
                json!({}),
                now,
            )?;
        }
        Ok(())
    }
}
