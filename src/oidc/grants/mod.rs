//! The token endpoint (RFC 6749 §3.2, §5; OIDC Core §3.1.3, §12): one file per grant
//! type. This file dispatches on `grant_type` and records what was issued; each grant
//! checks that the client may use it, then mints through the shared [`Minter`].
//!
//! [`Minter`]: super::minting::Minter

mod authorization_code;
mod client_credentials;
mod refresh_token;

use serde_json::json;

use super::client_requests::TokenError;
use super::clients::Client;
use super::error::OAuthError;
use super::minting::TokenSet;
use super::Provider;
use crate::audit::{self, Actor, AuditAction};
use crate::store::DbConn;

impl Provider {
    /// `POST /token`.
    pub fn token(
        &self,
        authorization: Option<&str>,
        form: bool,
        body: &[u8],
        now: i64,
    ) -> Result<TokenSet, TokenError> {
        self.with_client(
            authorization,
            form,
            body,
            true,
            |c, client, params| match params.get("grant_type") {
                Some("authorization_code") => {
                    authorization_code::exchange(self, c, &client, params, now)
                }
                Some("refresh_token") => refresh_token::refresh(self, c, &client, params, now),
                Some("client_credentials") => {
                    client_credentials::issue(self, c, &client, params, now)
                }
                Some(_) => Err(OAuthError::unsupported_grant_type(
                    "grant_type is not supported",
                )),
                None => Err(OAuthError::invalid_request("grant_type is missing")),
            },
        )
    }
}

pub(super) fn record_issue(
    c: &mut DbConn,
    client: &Client,
    issued: &TokenSet,
    grant_type: &str,
    now: i64,
) -> Result<(), OAuthError> {
    let details = json!({"grant_type": grant_type, "scope": issued.scope, "id_token": issued.id_token.is_some(),
        "refresh_token": issued.refresh_token.is_some()});
    audit::record(
        c,
        &Actor::Client(client.client_id.clone()),
        AuditAction::TokenIssued,
        &format!("grant:{}", issued.grant_id),
        details,
        now,
    )?;
    Ok(())
}
