//! The client_credentials grant (RFC 6749 §4.4): a confidential client acting on its
//! own behalf gets an access token for its non-user, non-sensitive scopes.

use super::record_issue;
use crate::ids::GrantId;
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
    // A durable grant even for a machine token: the token names it (`grant_id`), so
    // revoking the token (RFC 7009), removing the client or revoking its grants ends it
    // at introspection at once, not at `exp`; and the audit event names it. It costs
    // one single-row INSERT of a cached statement in the transaction the audit event
    // needs anyway; no other statement is run for it.
    store::insert_grant(c, &grant)?;
    // Minted directly: no user, approval, ID token or refresh token can be involved,
    // so oxide-auth's issuer (which reads the grant back) has nothing to add.
    let (_, minter) = provider.minter(c, now, client)?;
    let access_token = minter.access_token(&grant, &grant.scopes, None, None)?;
    let issued = TokenSet {
        access_token,
        token_type: "Bearer",
        expires_in: minter.access_expiry(None) - now,
        scope: grant.scopes.to_string(),
        refresh_token: None,
        id_token: None,
        authorization_details: None,
        grant_id: grant.id.clone(),
    };
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
