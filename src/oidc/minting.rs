//! Minting tokens: RFC 9068 JWT access tokens, OIDC Core §2 ID tokens, and opaque
//! refresh tokens (stored hashed, rotated on use).

use serde_json::{json, Map, Value};

use super::claims::{self, Released};
use super::error::OAuthError;
use crate::approval::evidence::{self, Evidence};
use crate::crypto::{self, SigningKey};
use crate::ids::{GrantId, UserId};
use crate::scope_set::ScopeSet;
use crate::store::{self, DbConn, GrantRow, RefreshRow};

/// Token lifetimes in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// Access tokens.
    pub access: i64,
    /// ID tokens.
    pub id: i64,
    /// Refresh tokens (each rotation starts a new one).
    pub refresh: i64,
    /// Authorization codes.
    pub code: i64,
}

/// What the token endpoint returns (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenSet {
    /// The access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Granted scope.
    pub scope: String,
    /// The refresh token, when issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The ID token, for `openid` requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The approved RFC 9396 `authorization_details` (§7), exactly as approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<Value>,
    /// The grant behind the tokens (not sent).
    #[serde(skip)]
    pub grant_id: GrantId,
}

/// Signs tokens for one request.
#[derive(Debug)]
pub struct Minter<'a> {
    /// The issuer identifier.
    pub issuer: &'a str,
    /// The active key of the client's access token algorithm.
    pub key: SigningKey,
    /// The active key of the client's ID token algorithm.
    pub id_key: SigningKey,
    /// Lifetimes.
    pub lifetimes: Lifetimes,
    /// Now (unix seconds).
    pub now: i64,
}

fn fail(error: impl std::fmt::Display) -> OAuthError {
    OAuthError::server_error(&error)
}

impl Minter<'_> {
    /// When an access token minted now expires: its lifetime, cut at the approval's
    /// access window (DESIGN.md §5.1 step 7).
    pub fn access_expiry(&self, approval: Option<&Evidence>) -> i64 {
        let normal = self.now + self.lifetimes.access;
        approval.map_or(normal, |a| normal.min(a.access_until))
    }

    /// When a refresh token minted now expires, cut at the approval's access window.
    pub fn refresh_expiry(&self, approval: Option<&Evidence>) -> i64 {
        let normal = self.now + self.lifetimes.refresh;
        approval.map_or(normal, |a| normal.min(a.access_until))
    }

    /// An RFC 9068 access token for `grant` with `scopes` (may be narrower than the
    /// grant), carrying the user's released routing claims.
    pub fn access_token(
        &self,
        grant: &GrantRow,
        scopes: &ScopeSet,
        released: Option<&Released>,
        approval: Option<&Evidence>,
    ) -> Result<String, OAuthError> {
        let subject = grant
            .user_id
            .as_ref()
            .map_or(grant.client_id.as_str(), UserId::as_str);
        let mut claims = json!({
            "iss": self.issuer,
            "sub": subject,
            "aud": grant.client_id.as_str(),
            "client_id": grant.client_id.as_str(),
            "scope": scopes,
            "jti": crypto::random_token(16),
            "iat": self.now,
            "exp": self.access_expiry(approval),
            "grant_id": grant.id,
        });
        if let Some(map) = claims.as_object_mut() {
            // Never over a protocol claim (scope configuration keeps their names apart;
            // this keeps it so whatever is stored).
            for (name, value) in released.map(|r| r.routing.clone()).unwrap_or_default() {
                map.entry(name).or_insert(value);
            }
            if let Some(auth_time) = grant.auth_time {
                map.insert("auth_time".into(), auth_time.into());
            }
            if let Some(approval) = approval {
                map.insert("approval".into(), approval.claim.clone());
                // RFC 9396 §9.1: the resource server reads what was approved here.
                if let Some(details) = &approval.authorization_details {
                    map.insert("authorization_details".into(), details.clone());
                }
            }
        }
        self.key.sign("at+jwt", &claims).map_err(fail)
    }

    /// An ID token for the user of `grant` (OIDC Core §2, §3.1.3.6 `at_hash`).
    pub fn id_token(
        &self,
        grant: &GrantRow,
        released: &Released,
        nonce: Option<&str>,
        access_token: &str,
        approval: Option<&Evidence>,
    ) -> Result<String, OAuthError> {
        let mut claims: Map<String, Value> = released.all.clone();
        let mut put = |k: &str, v: Value| {
            claims.insert(k.into(), v);
        };
        put("iss", self.issuer.into());
        put("aud", grant.client_id.as_str().into());
        put("azp", grant.client_id.as_str().into());
        put("iat", self.now.into());
        put("exp", (self.now + self.lifetimes.id).into());
        put(
            "at_hash",
            crypto::left_half_hash(access_token, self.id_key.alg).into(),
        );
        if let Some(auth_time) = grant.auth_time {
            put("auth_time", auth_time.into());
        }
        if let Some(nonce) = nonce {
            put("nonce", nonce.into());
        }
        if let Some(sid) = &grant.sid {
            put("sid", sid.clone().into());
        }
        if let Some(amr) = &grant.amr {
            put("amr", amr.split_whitespace().collect::<Vec<_>>().into());
        }
        if let Some(approval) = approval {
            put("approval", approval.claim.clone());
        }
        self.id_key
            .sign("JWT", &Value::Object(claims))
            .map_err(fail)
    }
}

/// Mints an access token (scope `scopes`), an ID token when the grant has `openid`,
/// and a refresh token when `refresh` is set, for `grant` and the approval it names.
pub fn mint(
    c: &mut DbConn,
    minter: &Minter<'_>,
    grant: &GrantRow,
    scopes: &ScopeSet,
    nonce: Option<&str>,
    refresh: bool,
) -> Result<TokenSet, OAuthError> {
    let approval = evidence::grant_evidence(c, grant.approval_id.as_ref())?;
    if approval
        .as_ref()
        .is_some_and(|a| a.access_until <= minter.now)
    {
        return Err(OAuthError::invalid_grant(
            "the approval's access window has ended",
        ));
    }
    let released = match &grant.user_id {
        Some(user_id) => {
            let user = store::user_by_id(c, user_id)?
                .filter(|u| !u.disabled)
                .ok_or_else(|| OAuthError::invalid_grant("the user is disabled"))?;
            // What the access token's scopes release; the ID token follows the grant
            // (the two differ only after a refresh that narrowed the scope).
            let for_grant = claims::released(c, &user, &grant.scopes)?;
            let for_access = match scopes == &grant.scopes {
                true => for_grant.clone(),
                false => claims::released(c, &user, scopes)?,
            };
            Some((for_access, for_grant))
        }
        None => None,
    };
    let access_token = minter.access_token(
        grant,
        scopes,
        released.as_ref().map(|(access, _)| access),
        approval.as_ref(),
    )?;
    let id_token = match &released {
        Some((_, all)) if grant.scopes.contains("openid") => {
            Some(minter.id_token(grant, all, nonce, &access_token, approval.as_ref())?)
        }
        _ => None,
    };
    let refresh_token = match refresh {
        true => Some(new_refresh_token(
            c,
            &grant.id,
            minter.now,
            minter.refresh_expiry(approval.as_ref()),
        )?),
        false => None,
    };
    Ok(TokenSet {
        access_token,
        token_type: "Bearer",
        expires_in: minter.access_expiry(approval.as_ref()) - minter.now,
        scope: scopes.to_string(),
        refresh_token,
        id_token,
        authorization_details: approval.and_then(|a| a.authorization_details),
        grant_id: grant.id.clone(),
    })
}

/// Stores a new refresh token of `grant_id` and returns its value (shown once).
pub fn new_refresh_token(
    c: &mut DbConn,
    grant_id: &GrantId,
    now: i64,
    expires_at: i64,
) -> Result<String, OAuthError> {
    let token = crypto::random_token(32);
    store::insert_refresh(
        c,
        &RefreshRow {
            token_hash: crypto::sha256_hex(token.as_bytes()),
            grant_id: grant_id.clone(),
            created_at: now,
            expires_at,
            used_at: None,
            revoked_at: None,
        },
    )?;
    Ok(token)
}

/// Whether a grant gets a refresh token: the client may use the grant type and the
/// scope includes `offline_access` (OIDC Core §11).
pub fn wants_refresh(client_may_refresh: bool, scopes: &ScopeSet) -> bool {
    client_may_refresh && scopes.contains("offline_access")
}
