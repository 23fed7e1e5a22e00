//! Verifying the tokens this provider issued when they come back: access tokens
//! (RFC 9068 §4: signature, `typ: at+jwt`, expiry, and a live grant, read with its
//! user in one statement) at userinfo and introspection, and ID tokens as a relying
//! party checks them (OIDC Core §3.1.3.7), for the built-in demo RP.

use serde_json::Value;

use super::error::OAuthError;
use super::Provider;
use crate::crypto;
use crate::ids::GrantId;
use crate::store::{self, DbConn, UserRow};

/// What an access token stands for, once verified.
pub(crate) struct Verified {
    /// Its claims.
    pub claims: Value,
    /// The user of the live grant it was minted from, read with the grant (none for a
    /// machine token).
    pub user: Option<UserRow>,
}

impl Provider {
    /// Verifies an access token: signature, `typ: at+jwt`, expiry, and a live grant.
    pub(crate) fn verify_access_token(
        &self,
        c: &mut DbConn,
        token: &str,
        now: i64,
    ) -> Result<Option<Verified>, OAuthError> {
        let keys = self.keys.for_token(c, token, now)?;
        let Some(claims) = crypto::verify::<Value>(&keys, token, &self.issuer, Some("at+jwt"), now)
        else {
            return Ok(None);
        };
        let Some(grant_id) = claims["grant_id"].as_str() else {
            return Ok(None);
        };
        Ok(store::grant_with_user(c, &GrantId::new(grant_id))?
            .filter(|(grant, _)| grant.revoked_at.is_none())
            .map(|(_, user)| Verified { claims, user }))
    }

    /// Verifies an ID token as a relying party would (the built-in demo RP): signature,
    /// issuer, expiry, audience and nonce.
    pub fn verify_id_token(
        &self,
        token: &str,
        client_id: &str,
        nonce: &str,
        now: i64,
    ) -> Result<Value, OAuthError> {
        let keys = self.store.read(|c| self.keys.for_token(c, token, now))?;
        let claims: Value = crypto::verify(&keys, token, &self.issuer, None, now)
            .ok_or_else(|| OAuthError::invalid_token("the ID token does not verify"))?;
        if claims["aud"].as_str() != Some(client_id) || claims["nonce"].as_str() != Some(nonce) {
            return Err(OAuthError::invalid_token(
                "the ID token is for another client or request",
            ));
        }
        Ok(claims)
    }
}
