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
use super::grant_type::GrantType;
use super::minting::TokenSet;
use super::params::Params;
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
        self.with_client(authorization, form, body, true, |c, client, params| {
            let grant_type = grant_type_of(params)?;
            permitted(&client, grant_type)?;
            match grant_type {
                GrantType::AuthorizationCode => {
                    authorization_code::exchange(self, c, &client, params, now)
                }
                GrantType::RefreshToken => refresh_token::refresh(self, c, &client, params, now),
                GrantType::ClientCredentials => {
                    client_credentials::issue(self, c, &client, params, now)
                }
                GrantType::Ciba => super::ciba::poll::poll(self, c, &client, params, now),
            }
        })
    }
}

/// The request's `grant_type` (RFC 6749 §5.2: unknown is `unsupported_grant_type`).
fn grant_type_of(params: &Params) -> Result<GrantType, OAuthError> {
    let name = params
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is missing"))?;
    GrantType::parse(name)
        .ok_or_else(|| OAuthError::unsupported_grant_type("grant_type is not supported"))
}

/// The client must be registered for the grant (RFC 6749 §5.2 `unauthorized_client`);
/// client_credentials and CIBA are for confidential clients only (§4.4, CIBA §4).
fn permitted(client: &Client, grant_type: GrantType) -> Result<(), OAuthError> {
    let confidential_only = matches!(grant_type, GrantType::ClientCredentials | GrantType::Ciba);
    let public_machine = confidential_only && client.is_public();
    if public_machine || !client.may_use(grant_type) {
        return Err(OAuthError::unauthorized_client(format!(
            "the client may not use the {grant_type} grant"
        )));
    }
    Ok(())
}

pub(super) fn record_issue(
    c: &mut DbConn,
    client: &Client,
    issued: &TokenSet,
    grant_type: GrantType,
    now: i64,
) -> Result<(), OAuthError> {
    let details = json!({"grant_type": grant_type.as_str(), "scope": issued.scope, "id_token": issued.id_token.is_some(),
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
