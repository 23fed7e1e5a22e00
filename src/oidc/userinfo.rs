//! The userinfo endpoint (OIDC Core §5.3) and how it takes its bearer token
//! (RFC 6750 §2: header or form body, not both; §3.1 errors).

use serde_json::Value;

use super::claims;
use super::error::OAuthError;
use super::params::Params;
use super::Provider;
use crate::scope_set::ScopeSet;
use crate::store::StoreError;

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

impl Provider {
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
                let scopes = ScopeSet::parse(verified.claims["scope"].as_str().unwrap_or_default());
                if !scopes.contains("openid") {
                    return Ok(Err(UserinfoError::Refused(OAuthError::insufficient_scope(
                        "the access token lacks the openid scope",
                    ))));
                }
                let Some(user) = verified.user.filter(|u| !u.disabled) else {
                    return Ok(Err(invalid()));
                };
                Ok(Ok(Value::Object(claims::released(c, &user, &scopes)?.all)))
            })
            .unwrap_or_else(|error| Err(UserinfoError::Refused(error.into())))
    }
}
