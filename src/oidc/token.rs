//! The token endpoint (RFC 6749 §3.2, §4.1.3, §4.4, §6; OIDC Core §3.1.3, §12):
//! authorization_code through oxide-auth's access-token flow, refresh_token with
//! rotation and reuse detection, client_credentials.

use oxide_auth::code_grant::accesstoken::access_token;
use oxide_auth::primitives::grant::{Extensions, Grant, Value};
use oxide_auth::primitives::issuer::Issuer;
use serde_json::json;

use super::adapters::{CodeExchangeEndpoint, Ctx, TokenParams, Tokens};
use super::clients::{Client, ClientCredentials};
use super::error::OAuthError;
use super::params::{ParamError, Params};
use super::tokens::TokenSet;
use super::Provider;
use crate::audit::{self, Actor};
use crate::store::{self, DbConn, GrantRow, StoreError};

/// A token endpoint error and whether the client tried the Authorization header
/// (RFC 6749 §5.2: then `invalid_client` is a 401).
#[derive(Debug, Clone)]
pub struct TokenError {
    /// The error.
    pub error: OAuthError,
    /// The request carried an Authorization header.
    pub used_auth_header: bool,
}

/// Reads a client-authenticated form body (token, introspection, revocation).
pub fn parse_body(body: &[u8], form_content_type: bool) -> Result<Params, OAuthError> {
    if !form_content_type {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    Params::parse(body).map_err(|(error, _)| match error {
        ParamError::Repeated(_) => OAuthError::invalid_request("a parameter is repeated"),
        ParamError::Undecodable(_) => {
            OAuthError::invalid_request("a parameter is not valid percent-encoded UTF-8")
        }
    })
}

impl Provider {
    /// A client-authenticated form request (token, introspection, revocation): reads the
    /// body, authenticates the client, and runs `call` in the same transaction. A write
    /// transaction commits even when `call` refuses, so what a refusal records (a
    /// replayed code revoking its grant, its audit event) is kept.
    pub(super) fn with_client<T>(
        &self,
        authorization: Option<&str>,
        form: bool,
        body: &[u8],
        writes: bool,
        call: impl FnOnce(&mut DbConn, Client, &Params) -> Result<T, OAuthError>,
    ) -> Result<T, TokenError> {
        let used_auth_header = authorization.is_some();
        let wrap = |error: OAuthError| TokenError {
            error,
            used_auth_header,
        };
        let params = parse_body(body, form).map_err(wrap)?;
        let credentials = ClientCredentials::from_request(authorization, &params);
        let run = |c: &mut DbConn| -> Result<Result<T, OAuthError>, StoreError> {
            Ok(credentials
                .authenticate(c)
                .and_then(|client| call(c, client, &params)))
        };
        let outcome = if writes {
            self.store.write(run)
        } else {
            self.store.read(run)
        };
        outcome.map_err(|e| wrap(e.into()))?.map_err(wrap)
    }

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
                Some("authorization_code") => self.exchange_code(c, &client, params, now),
                Some("refresh_token") => self.refresh(c, &client, params, now),
                Some("client_credentials") => self.client_credentials(c, &client, params, now),
                Some(_) => Err(OAuthError::unsupported_grant_type(
                    "grant_type is not supported",
                )),
                None => Err(OAuthError::invalid_request("grant_type is missing")),
            },
        )
    }

    fn exchange_code(
        &self,
        c: &mut DbConn,
        client: &Client,
        params: &Params,
        now: i64,
    ) -> Result<TokenSet, OAuthError> {
        if !client.may_use("authorization_code") {
            return Err(OAuthError::unauthorized_client(
                "the client may not use the authorization_code grant",
            ));
        }
        if !params.has("code") {
            return Err(OAuthError::invalid_request("code is missing"));
        }
        let Some(redirect_uri) = params.get("redirect_uri") else {
            return Err(OAuthError::invalid_request(
                "redirect_uri is missing; it was sent in the authorization request",
            ));
        };
        let (keys, minter) = self.minter(c, now, client.id_token_alg)?;
        let issued = {
            let ctx = Ctx::new(c, now);
            let tokens = Tokens::new(&ctx, minter, &keys, client.may_use("refresh_token"));
            let mut endpoint = CodeExchangeEndpoint::new(&ctx, client, redirect_uri, tokens);
            let request = TokenParams {
                params,
                client_id: &client.client_id,
            };
            match access_token(&mut endpoint, &request) {
                Ok(_) => endpoint
                    .tokens
                    .issued
                    .take()
                    .ok_or_else(|| OAuthError::server_error(&"no tokens recorded")),
                Err(_) => Err(ctx.take_failure().unwrap_or_else(|| {
                    OAuthError::invalid_grant("the authorization code is invalid")
                })),
            }
        }?;
        record_issue(c, client, &issued, "authorization_code", now)?;
        Ok(issued)
    }

    fn refresh(
        &self,
        c: &mut DbConn,
        client: &Client,
        params: &Params,
        now: i64,
    ) -> Result<TokenSet, OAuthError> {
        if !client.may_use("refresh_token") {
            return Err(OAuthError::unauthorized_client(
                "the client may not use the refresh_token grant",
            ));
        }
        let Some(refresh_token) = params.get("refresh_token") else {
            return Err(OAuthError::invalid_request("refresh_token is missing"));
        };
        let (keys, minter) = self.minter(c, now, client.id_token_alg)?;
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
            if grant.client_id != client.client_id {
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
            "token.refreshed",
            &format!("grant:{}", issued.grant_id),
            json!({"scope": issued.scope}),
            now,
        )?;
        Ok(issued)
    }

    fn client_credentials(
        &self,
        c: &mut DbConn,
        client: &Client,
        params: &Params,
        now: i64,
    ) -> Result<TokenSet, OAuthError> {
        if client.is_public() || !client.may_use("client_credentials") {
            return Err(OAuthError::unauthorized_client(
                "the client may not use the client_credentials grant",
            ));
        }
        let scopes = client_credentials_scopes(c, client, params.get("scope"))?;
        let grant = GrantRow {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: None,
            client_id: client.client_id.clone(),
            scopes: scopes.join(" "),
            approval_id: None,
            auth_time: None,
            sid: None,
            amr: None,
            created_at: now,
            expires_at: Some(now + self.lifetimes.access),
            revoked_at: None,
        };
        store::insert_grant(c, &grant)?;
        let (keys, minter) = self.minter(c, now, client.id_token_alg)?;
        let issued = {
            let ctx = Ctx::new(c, now);
            let mut tokens = Tokens::new(&ctx, minter, &keys, false);
            let mut extensions = Extensions::new();
            extensions.set_raw("grant_id".into(), Value::public(Some(grant.id.clone())));
            let oxide_grant = Grant {
                owner_id: client.client_id.clone(),
                client_id: client.client_id.clone(),
                scope: grant
                    .scopes
                    .parse()
                    .map_err(|_| OAuthError::invalid_scope("a scope is required"))?,
                redirect_uri: url::Url::parse(&self.issuer)
                    .map_err(|e| OAuthError::server_error(&e))?,
                until: chrono::Utc::now(),
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
        record_issue(c, client, &issued, "client_credentials", now)?;
        Ok(issued)
    }
}

/// Scopes for a client acting on its own behalf: never `openid`/`offline_access` (there
/// is no user), never a scope that needs a countersignature.
fn client_credentials_scopes(
    c: &mut DbConn,
    client: &Client,
    requested: Option<&str>,
) -> Result<Vec<String>, OAuthError> {
    let user_scopes = ["openid", "offline_access", "profile", "email"];
    let scopes: Vec<String> = match requested {
        Some(requested) => requested
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        None => client
            .allowed_scopes
            .iter()
            .filter(|s| !user_scopes.contains(&s.as_str()))
            .cloned()
            .collect(),
    };
    if scopes.is_empty() {
        return Err(OAuthError::invalid_scope(
            "no scope is available to the client itself",
        ));
    }
    for scope in &scopes {
        if user_scopes.contains(&scope.as_str()) {
            return Err(OAuthError::invalid_scope(
                "user scopes such as openid are not available without a user",
            ));
        }
        if !client.allowed_scopes.contains(scope) {
            return Err(OAuthError::invalid_scope(
                "a requested scope is unknown or not allowed for this client",
            ));
        }
        if store::scope_by_name(c, scope)?.is_some_and(|s| s.sensitive) {
            return Err(OAuthError::invalid_scope(
                "a requested scope needs a countersignature, which needs a user",
            ));
        }
    }
    Ok(scopes)
}

fn record_issue(
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
        "token.issued",
        &format!("grant:{}", issued.grant_id),
        details,
        now,
    )?;
    Ok(())
}
