//! Token introspection (RFC 7662): confidential clients ask whether an access or
//! refresh token is active, and what it carries (the `approval` evidence included).

use serde_json::{json, Value};

use super::client_requests::TokenError;
use super::clients::Client;
use super::error::OAuthError;
use super::Provider;
use crate::crypto;
use crate::store::{self, DbConn};

impl Provider {
    /// `POST /introspect` (RFC 7662): confidential clients ask about any token.
    pub fn introspect(
        &self,
        authorization: Option<&str>,
        form: bool,
        body: &[u8],
        now: i64,
    ) -> Result<Value, TokenError> {
        self.with_client(authorization, form, body, false, |c, client, params| {
            if client.is_public() {
                return Err(OAuthError::unauthorized_client(
                    "public clients cannot introspect tokens",
                ));
            }
            let token = params
                .get("token")
                .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
            self.introspection(c, &client, token, now)
        })
        .map_err(|refused| TokenError {
            // RFC 7662 §2.1: an unauthorized introspection is a 401, whether or not the
            // caller tried the Authorization header.
            challenge: true,
            ..refused
        })
    }

    fn introspection(
        &self,
        c: &mut DbConn,
        _client: &Client,
        token: &str,
        now: i64,
    ) -> Result<Value, OAuthError> {
        if let Some(verified) = self.verify_access_token(c, token, now)? {
            let mut answer = verified.claims;
            if let Some(map) = answer.as_object_mut() {
                map.insert("active".into(), true.into());
                map.insert("token_type".into(), "Bearer".into());
                if let Some(user) = verified.user {
                    map.insert("username".into(), user.username.into());
                }
            }
            return Ok(answer);
        }
        let hash = crypto::sha256_hex(token.as_bytes());
        if let Some(refresh) = store::refresh_by_hash(c, &hash)? {
            let grant = store::grant_by_id(c, &refresh.grant_id)?;
            if let Some(grant) = grant.filter(|g| g.revoked_at.is_none()) {
                if refresh.used_at.is_none()
                    && refresh.revoked_at.is_none()
                    && refresh.expires_at > now
                {
                    let approval =
                        crate::approval::evidence::grant_evidence(c, grant.approval_id.as_ref())?;
                    if approval.as_ref().is_some_and(|a| a.access_until <= now) {
                        return Ok(json!({"active": false}));
                    }
                    let mut answer = json!({
                        "active": true, "token_type": "refresh_token", "scope": grant.scopes,
                        "client_id": grant.client_id, "sub": grant.user_id, "exp": refresh.expires_at,
                        "iat": refresh.created_at, "iss": self.issuer, "grant_id": grant.id,
                    });
                    if let (Some(map), Some(approval)) = (answer.as_object_mut(), approval) {
                        map.insert("approval".into(), approval.claim);
                        if let Some(details) = approval.authorization_details {
                            map.insert("authorization_details".into(), details);
                        }
                    }
                    return Ok(answer);
                }
            }
        }
        Ok(json!({"active": false}))
    }
}
