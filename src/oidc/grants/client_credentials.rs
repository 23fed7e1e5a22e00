//! The client_credentials grant (RFC 6749 §4.4): a confidential client acting on its
//! own behalf gets an access token for its non-user, non-sensitive scopes.

use oxide_auth::primitives::grant::{Extensions, Grant, Value};
use oxide_auth::primitives::issuer::Issuer;

use super::record_issue;
use crate::ids::GrantId;
use crate::oidc::adapters::{Ctx, Tokens, GRANT_ID};
use crate::oidc::clients::Client;
use crate::oidc::error::OAuthError;
use crate::oidc::grant_type::GrantType;
use crate::oidc::minting::TokenSet;
use crate::oidc::params::Params;
use crate::oidc::Provider;
use crate::scope_set::ScopeSet;
use crate::store::{self, DbConn, GrantRow};

/// Issues a machine token.
pub(super) fn issue(
    provider: &Provider,
    c: &mut DbConn,
    client: &Client,
    params: &Params,
    now: i64,
) -> Result<TokenSet, OAuthError> {
    let scopes = client_credentials_scopes(c, client, params.get("scope"))?;
    let grant = GrantRow {
        id: GrantId::new(uuid::Uuid::new_v4().to_string()),
        user_id: None,
        client_id: client.client_id.clone(),
        scopes,
        approval_id: None,
        auth_time: None,
        sid: None,
        amr: None,
        created_at: now,
        expires_at: Some(now + provider.lifetimes.access),
        revoked_at: None,
    };
    store::insert_grant(c, &grant)?;
    let (keys, minter) = provider.minter(c, now, client)?;
    let issued = {
        let ctx = Ctx::new(c, now);
        let mut tokens = Tokens::new(&ctx, minter, &keys, false);
        let mut extensions = Extensions::new();
        extensions.set_raw(GRANT_ID.into(), Value::public(Some(grant.id.to_string())));
        let oxide_grant = Grant {
            owner_id: client.client_id.to_string(),
            client_id: client.client_id.to_string(),
            scope: grant
                .scopes
                .as_str()
                .parse()
                .map_err(|_| OAuthError::invalid_scope("a scope is required"))?,
            redirect_uri: url::Url::parse(&provider.issuer)
                .map_err(|e| OAuthError::server_error(&e))?,
            until: crate::oidc::adapters::until(now),
            extensions,
        };
        match tokens.issue(oxide_grant) {
            Ok(_) => tokens
                .issued
                .take()
                .ok_or_else(|| OAuthError::server_error(&"no tokens recorded")),
            Err(()) => Err(ctx
                .take_failure()
                .unwrap_or_else(|| OAuthError::server_error(&"issue failed"))),
        }
    }?;
    record_issue(c, client, &issued, GrantType::ClientCredentials, now)?;
    Ok(issued)
}

/// Scopes for a client acting on its own behalf: never `openid`/`offline_access` (there
/// is no user), never a scope that needs a countersignature.
fn client_credentials_scopes(
    c: &mut DbConn,
    client: &Client,
    requested: Option<&str>,
) -> Result<ScopeSet, OAuthError> {
    let user_scopes = ["openid", "offline_access", "profile", "email"];
    let scopes = match requested {
        Some(requested) => ScopeSet::parse(requested),
        None => client
            .allowed_scopes
            .iter()
            .filter(|s| !user_scopes.contains(s))
            .collect(),
    };
    if scopes.is_empty() {
        return Err(OAuthError::invalid_scope(
            "no scope is available to the client itself",
        ));
    }
    for scope in scopes.iter() {
        if user_scopes.contains(&scope) {
            return Err(OAuthError::invalid_scope(
                "user scopes such as openid are not available without a user",
            ));
        }
        if !client.allowed_scopes.contains(scope) {
            return Err(OAuthError::invalid_scope(
                "a requested scope is unknown or not allowed for this client",
            ));
        }
        if store::scope_is_sensitive(c, scope)? == Some(true) {
            return Err(OAuthError::invalid_scope(
                "a requested scope needs a countersignature, which needs a user",
            ));
        }
    }
    Ok(scopes)
}
