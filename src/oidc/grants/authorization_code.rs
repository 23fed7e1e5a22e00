//! The authorization_code grant (RFC 6749 §4.1.3, RFC 7636 §4.6, OIDC Core §3.1.3.2),
//! through oxide-auth's access-token flow over our registrar, authorizer and issuer.

use oxide_auth::code_grant::accesstoken::access_token;

use super::record_issue;
use crate::oidc::adapters::{CodeExchangeEndpoint, Ctx, TokenParams, Tokens};
use crate::oidc::clients::Client;
use crate::oidc::error::OAuthError;
use crate::oidc::grant_type::GrantType;
use crate::oidc::minting::TokenSet;
use crate::oidc::params::Params;
use crate::oidc::Provider;
use crate::store::DbConn;

/// Exchanges a code for tokens.
pub(super) fn exchange(
    provider: &Provider,
    c: &mut DbConn,
    client: &Client,
    params: &Params,
    now: i64,
) -> Result<TokenSet, OAuthError> {
    if !params.has("code") {
        return Err(OAuthError::invalid_request("code is missing"));
    }
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return Err(OAuthError::invalid_request(
            "redirect_uri is missing; it was sent in the authorization request",
        ));
    };
    let (keys, minter) = provider.minter(c, now, client)?;
    let issued = {
        let ctx = Ctx::new(c, now);
        let tokens = Tokens::new(&ctx, minter, &keys, client.may_use(GrantType::RefreshToken));
        let mut endpoint = CodeExchangeEndpoint::new(&ctx, client, redirect_uri, tokens);
        let request = TokenParams {
            params,
            client_id: client.client_id.as_str(),
        };
        match access_token(&mut endpoint, &request) {
            Ok(_) => endpoint
                .tokens
                .issued
                .take()
                .ok_or_else(|| OAuthError::server_error(&"no tokens recorded")),
            Err(_) => Err(ctx
                .take_failure()
                .unwrap_or_else(|| OAuthError::invalid_grant("the authorization code is invalid"))),
        }
    }?;
    record_issue(c, client, &issued, GrantType::AuthorizationCode, now)?;
    Ok(issued)
}
