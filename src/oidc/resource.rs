//! Endpoints that take tokens back: userinfo (OIDC Core §5.3, RFC 6750 §2),
//! introspection (RFC 7662) and revocation (RFC 7009).

use serde_json::{json, Value};

use super::claims::user_claims;
use super::clients::Client;
use super::error::OAuthError;
use super::params::Params;
use super::token::TokenError;
use super::Provider;
use crate::audit::{self, Actor};
use crate::crypto;
use crate::store::{self, DbConn, GrantRow, StoreError};

/// Why userinfo refused (RFC 6750 §3.1).
#[derive(Debug, Clone)]
pub enum UserinfoError {
    /// No token at all: 401 with a bare `WWW-Authenticate: Bearer` challenge.
    NoToken,
    /// 400 `invalid_request`, 401 `invalid_token` or 403 `insufficient_scope`.
    Refused(OAuthError),
}

/// The bearer token of a userinfo request: header or form body, not both (RFC 6750 §2).
pub fn bearer_token(
    authorization: Option<&str>,
    form_body: Option<&Params>,
) -> Result<Option<String>, OAuthError> {
    let from_header = match authorization {
        Some(header) => {
            let (scheme, token) = header.trim_start().split_once(' ').unwrap_or((header, ""));
            if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
                return Err(OAuthError::invalid_request(
                    "the Authorization header is not a Bearer token",
                ));
            }
            Some(token.trim().to_owned())
        }
        None => None,
    };
    let from_body = form_body
        .and_then(|p| p.get("access_token"))
        .map(str::to_owned);
    match (from_header, from_body) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "send the access token in one place only",
        )),
        (header, body) => Ok(header.or(body)),
    }
}

/// What an access token stands for, once verified.
struct Verified {
    claims: Value,
    grant: GrantRow,
}

impl Provider {
    /// Verifies an access token: signature, `typ: at+jwt`, expiry, and a live grant.
    fn verify_access_token(
        &self,
        c: &mut DbConn,
        token: &str,
        now: i64,
    ) -> Result<Option<Verified>, OAuthError> {
        let keys = store::list_keys(c)?;
        let Some(claims) = crypto::verify::<Value>(&keys, token, &self.issuer, Some("at+jwt"), now)
        else {
            return Ok(None);
        };
        let Some(grant_id) = claims["grant_id"].as_str() else {
            return Ok(None);
        };
        Ok(store::grant_by_id(c, grant_id)?
            .filter(|grant| grant.revoked_at.is_none())
            .map(|grant| Verified { claims, grant }))
    }

    /// `GET|POST /userinfo`: the user's claims by the token's scope.
    pub fn userinfo(
        &self,
        token: Result<Option<String>, OAuthError>,
        now: i64,
    ) -> Result<Value, UserinfoError> {
        let token = token
            .map_err(UserinfoError::Refused)?
            .ok_or(UserinfoError::NoToken)?;
        let invalid = || {
            UserinfoError::Refused(OAuthError::invalid_token(
                "the access token is invalid, expired or revoked",
            ))
        };
        self.store
            .read(|c| -> Result<Result<Value, UserinfoError>, StoreError> {
                let verified = match self.verify_access_token(c, &token, now) {
                    Ok(Some(verified)) => verified,
                    Ok(None) => return Ok(Err(invalid())),
                    Err(error) => return Ok(Err(UserinfoError::Refused(error))),
                };
                let scopes: Vec<String> = verified.claims["scope"]
                    .as_str()
                    .unwrap_or_default()
                    .split(' ')
                    .map(str::to_owned)
                    .collect();
                if !scopes.iter().any(|s| s == "openid") {
                    return Ok(Err(UserinfoError::Refused(OAuthError::insufficient_scope(
                        "the access token lacks the openid scope",
                    ))));
                }
                let Some(user_id) = verified.grant.user_id.as_deref() else {
                    return Ok(Err(invalid()));
                };
                let Some(user) = store::user_by_id(c, user_id)?.filter(|u| !u.disabled) else {
                    return Ok(Err(invalid()));
                };
                Ok(Ok(Value::Object(user_claims(&user, &scopes))))
            })
            .unwrap_or_else(|error| Err(UserinfoError::Refused(error.into())))
    }

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
                if let Some(user) = verified
                    .grant
                    .user_id
                    .as_deref()
                    .map(|id| store::user_by_id(c, id))
                    .transpose()?
                    .flatten()
                {
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
                        crate::approval::evidence::grant_evidence(c, grant.approval_id.as_deref())?;
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
                    }
                    return Ok(answer);
                }
            }
        }
        Ok(json!({"active": false}))
    }

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
        let keys = store::list_keys(c)?;
        let from_jwt = crypto::verify_ignoring_expiry::<Value>(&keys, token, &self.issuer)
            .and_then(|claims| claims["grant_id"].as_str().map(str::to_owned));
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
                "token.revoked",
                &format!("grant:{}", grant.id),
                json!({}),
                now,
            )?;
        }
        Ok(())
    }
}

impl Provider {
    /// Verifies an ID token as a relying party would (the built-in demo RP): signature,
    /// issuer, expiry, audience and nonce.
    pub fn verify_id_token(
        &self,
        token: &str,
        client_id: &str,
        nonce: &str,
        now: i64,
    ) -> Result<Value, OAuthError> {
        let keys = self.store.read(store::list_keys)?;
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
