//! The refresh_token grant (RFC 6749 §6): rotation on every use, reuse detection
//! (RFC 9700 §4.14.2), optional narrowing of the scope.

use oxide_auth::primitives::issuer::Issuer;
use serde_json::json;

use crate::audit::{self, Actor, AuditAction};
use crate::oidc::adapters::{Ctx, Tokens};
use crate::oidc::clients::Client;
use crate::oidc::error::OAuthError;
use crate::oidc::minting::TokenSet;
use crate::oidc::params::Params;
use crate::oidc::Provider;
use crate::store::{self, DbConn};

/// Rotates a refresh token into a new token set.
pub(super) fn refresh(
    provider: &Provider,
    c: &mut DbConn,
    client: &Client,
    params: &Params,
    now: i64,
) -> Result<TokenSet, OAuthError> {
    let Some(refresh_token) = params.get("refresh_token") else {
        return Err(OAuthError::invalid_request("refresh_token is missing"));
    };
    // RFC 6749 §6: the token must be this client's before anything else, so another
    // client showing a used token is refused without revoking the owner's grant. The
    // grant is locked here, before any refresh token row (see `lock_refresh_grant`).
    if let Some(owner) = store::lock_refresh_grant(c, refresh_token)? {
        if owner != client.client_id {
            return Err(OAuthError::invalid_grant(
                "the refresh token was issued to another client",
            ));
        }
    }
    let (keys, minter) = provider.minter(c, now, client)?;
    let issued = {
        let ctx = Ctx::new(c, now);
        let mut tokens = Tokens::new(&ctx, minter, &keys, true);
        let recovered = tokens.recover_refresh(refresh_token);
        let failed = |ctx: &Ctx| {
            ctx.take_failure()
                .unwrap_or_else(|| OAuthError::invalid_grant("the refresh token is invalid"))
        };
        let Ok(Some(mut grant)) = recovered else {
            return Err(failed(&ctx));
        };
        if client.client_id != grant.client_id.as_str() {
            return Err(OAuthError::invalid_grant(
                "the refresh token was issued to another client",
            ));
        }
        if let Some(requested) = params.get("scope") {
            let narrowed = requested
                .parse()
                .map_err(|_| OAuthError::invalid_scope("scope is malformed"))?;
            if !grant.scope.priviledged_to(&narrowed) {
                return Err(OAuthError::invalid_scope(
                    "the requested scope exceeds the original grant",
                ));
            }
            grant.scope = narrowed;
        }
        match tokens.refresh(refresh_token, grant) {
            Ok(_) => tokens
                .issued
                .take()
                .ok_or_else(|| OAuthError::server_error(&"no tokens recorded")),
            Err(()) => Err(failed(&ctx)),
        }
    }?;
    audit::record(
        c,
        &Actor::Client(client.client_id.clone()),
        AuditAction::TokenRefreshed,
        &format!("grant:{}", issued.grant_id),
        json!({"scope": issued.scope}),
        now,
    )?;
    Ok(issued)
}
