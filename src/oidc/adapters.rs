//! oxide-auth adapters: our database-backed `Registrar`, `Authorizer` (one-time codes)
//! and `Issuer` (JWT access tokens, rotating refresh tokens), the PKCE/nonce extension,
//! and the request views the code-grant flows read. oxide-auth's primitives answer
//! `Err(())`/`None`; each adapter records the precise protocol error in [`Ctx`] first,
//! so the endpoint can tell the client exactly what went wrong.

use std::borrow::Cow;
use std::cell::RefCell;

use chrono::{TimeZone, Utc};
use oxide_auth::code_grant::accesstoken as token_flow;
use oxide_auth::code_grant::authorization as authorize_flow;
use oxide_auth::code_grant::extensions::Pkce;
use oxide_auth::endpoint::Scope;
use oxide_auth::primitives::authorizer::Authorizer;
use oxide_auth::primitives::grant::{Extensions, Grant, Value};
use oxide_auth::primitives::issuer::{IssuedToken, Issuer, RefreshedToken, TokenType};
use oxide_auth::primitives::registrar::{
    BoundClient, ClientUrl, ExactUrl, PreGrant, RegisteredUrl, Registrar, RegistrarError,
};
use serde_json::json;

use super::clients::Client;
use super::error::OAuthError;
use super::params::Params;
use super::tokens::{new_refresh_token, wants_refresh, Minter, TokenSet};
use crate::approval;
use crate::audit::{self, Actor};
use crate::crypto;
use crate::store::{self, CodeRow, DbConn, GrantRow, KeyRow, StoreError};

/// Shared by the adapters of one request: the connection (inside the request's
/// transaction), the clock, and the first precise error an adapter hit.
pub struct Ctx<'c> {
    db: RefCell<&'c mut DbConn>,
    failure: RefCell<Option<OAuthError>>,
    /// Now (unix seconds).
    pub now: i64,
}

impl<'c> Ctx<'c> {
    /// A context over a connection.
    pub fn new(conn: &'c mut DbConn, now: i64) -> Self {
        Ctx {
            db: RefCell::new(conn),
            failure: RefCell::new(None),
            now,
        }
    }

    /// Runs `f` with the connection; a database error is recorded and becomes `Err(())`.
    fn with_db<T>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, StoreError>) -> Result<T, ()> {
        let mut db = self.db.borrow_mut();
        f(&mut db).map_err(|error| self.fail(OAuthError::from(error)))
    }

    /// Records an error (the first one wins) for the endpoint to report.
    pub fn fail(&self, error: OAuthError) {
        self.failure.borrow_mut().get_or_insert(error);
    }

    /// Takes the recorded error.
    pub fn take_failure(&self) -> Option<OAuthError> {
        self.failure.borrow_mut().take()
    }
}

fn until(at: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(at, 0).single().unwrap_or_else(Utc::now)
}

fn scope_of(scopes: &str) -> Result<Scope, ()> {
    scopes.parse().map_err(|_| ())
}

/// The registrar for one already-loaded client: exact redirect URIs, scopes limited to
/// the client's, and (at the token endpoint) the client our own authentication accepted.
pub struct ClientRegistrar<'a> {
    /// The client.
    pub client: &'a Client,
    /// The client already passed [`super::clients::ClientCredentials::authenticate`].
    pub authenticated: bool,
}

impl Registrar for ClientRegistrar<'_> {
    fn bound_redirect<'a>(&self, bound: ClientUrl<'a>) -> Result<BoundClient<'a>, RegistrarError> {
        let requested = bound.redirect_uri.as_deref().map(ExactUrl::as_str);
        match requested {
            Some(uri)
                if bound.client_id == self.client.client_id
                    && self.client.has_redirect_uri(uri) =>
            {
                let exact =
                    ExactUrl::new(uri.to_owned()).map_err(|_| RegistrarError::Unspecified)?;
                Ok(BoundClient {
                    client_id: bound.client_id,
                    redirect_uri: Cow::Owned(RegisteredUrl::Exact(exact)),
                })
            }
            _ => Err(RegistrarError::Unspecified),
        }
    }

    fn negotiate(
        &self,
        client: BoundClient,
        scope: Option<Scope>,
    ) -> Result<PreGrant, RegistrarError> {
        let scope = scope.ok_or(RegistrarError::Unspecified)?;
        if !scope
            .iter()
            .all(|s| self.client.allowed_scopes.iter().any(|a| a == s))
        {
            return Err(RegistrarError::Unspecified);
        }
        Ok(PreGrant {
            client_id: client.client_id.into_owned(),
            redirect_uri: client.redirect_uri.into_owned(),
            scope,
        })
    }

    fn check(&self, client_id: &str, _passphrase: Option<&[u8]>) -> Result<(), RegistrarError> {
        if self.authenticated && client_id == self.client.client_id {
            Ok(())
        } else {
            Err(RegistrarError::Unspecified)
        }
    }
}

/// A stored, validated authorization request as oxide-auth's flow reads it.
pub struct AuthorizeParams<'a>(pub &'a Params);

impl authorize_flow::Request for AuthorizeParams<'_> {
    fn valid(&self) -> bool {
        true
    }
    fn client_id(&self) -> Option<Cow<'_, str>> {
        self.0.get("client_id").map(Cow::Borrowed)
    }
    fn scope(&self) -> Option<Cow<'_, str>> {
        self.0.get("scope").map(Cow::Borrowed)
    }
    fn redirect_uri(&self) -> Option<Cow<'_, str>> {
        self.0.get("redirect_uri").map(Cow::Borrowed)
    }
    fn state(&self) -> Option<Cow<'_, str>> {
        self.0.get("state").map(Cow::Borrowed)
    }
    fn response_type(&self) -> Option<Cow<'_, str>> {
        self.0.get("response_type").map(Cow::Borrowed)
    }
    fn extension(&self, key: &str) -> Option<Cow<'_, str>> {
        self.0.get(key).map(Cow::Borrowed)
    }
}

/// PKCE (S256, RFC 7636) and `nonce` carried from the authorization request to the
/// token request in the grant's extensions.
pub struct PkceAndNonce<'c> {
    ctx: &'c Ctx<'c>,
}

const NONCE: &str = "nonce";
const GRANT_ID: &str = "grant_id";

impl authorize_flow::Extension for PkceAndNonce<'_> {
    fn extend(&mut self, request: &dyn authorize_flow::Request) -> Result<Extensions, ()> {
        let mut extensions = Extensions::new();
        let pkce = Pkce::optional();
        let method = request.extension("code_challenge_method");
        if let Some(value) = pkce.challenge(method, request.extension("code_challenge"))? {
            extensions.set(&pkce, value);
        }
        if let Some(nonce) = request.extension(NONCE) {
            extensions.set_raw(NONCE.into(), Value::public(Some(nonce.into_owned())));
        }
        Ok(extensions)
    }
}

impl token_flow::Extension for PkceAndNonce<'_> {
    fn extend(
        &mut self,
        request: &dyn token_flow::Request,
        mut data: Extensions,
    ) -> Result<Extensions, ()> {
        let pkce = Pkce::optional();
        let challenge = data.remove(&pkce);
        let verifier = request.extension("code_verifier");
        match (&challenge, &verifier) {
            // RFC 9700 §2.1.1: a verifier for a code issued without a challenge is an attack.
            (None, Some(_)) => {
                self.ctx.fail(OAuthError::invalid_grant(
                    "code_verifier sent but the code was issued without code_challenge",
                ));
                return Err(());
            }
            (Some(_), None) => {
                self.ctx.fail(OAuthError::invalid_grant(
                    "code_verifier is required for this code",
                ));
                return Err(());
            }
            _ => {}
        }
        if pkce.verify(challenge, verifier).is_err() {
            self.ctx.fail(OAuthError::invalid_grant(
                "code_verifier does not match the code_challenge",
            ));
            return Err(());
        }
        Ok(data)
    }
}

/// Who is being authorized, for the grant behind a new code.
#[derive(Debug, Clone)]
pub struct Authorization {
    /// The user (`sub`).
    pub user_id: String,
    /// When they authenticated.
    pub auth_time: i64,
    /// Session id for the `sid` claim.
    pub sid: String,
    /// Authentication methods.
    pub amr: Vec<String>,
    /// Scopes granted, in request order.
    pub scopes: Vec<String>,
    /// The registered redirect URI, exactly.
    pub redirect_uri: String,
    /// The countersignature behind this grant, if any.
    pub approval_id: Option<String>,
}

/// One-time authorization codes (RFC 6749 §4.1.2, §10.5): stored hashed, 60 s by
/// default, bound to client, redirect_uri and PKCE. A replayed code revokes every
/// token issued from it.
pub struct Codes<'c> {
    ctx: &'c Ctx<'c>,
    ttl: i64,
    issuing: Option<Authorization>,
    redeeming: Option<(&'c Client, &'c str)>,
}

impl Authorizer for Codes<'_> {
    fn authorize(&mut self, grant: Grant) -> Result<String, ()> {
        let Some(who) = self.issuing.take() else {
            return Err(());
        };
        let now = self.ctx.now;
        let code = crypto::random_token(32);
        let challenge = grant
            .extensions
            .private()
            .find(|(k, _)| *k == "pkce")
            .and_then(|(_, v)| v.map(str::to_owned));
        let nonce = grant
            .extensions
            .public()
            .find(|(k, _)| *k == NONCE)
            .and_then(|(_, v)| v.map(str::to_owned));
        let grant_row = GrantRow {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: Some(who.user_id.clone()),
            client_id: grant.client_id.clone(),
            scopes: who.scopes.join(" "),
            approval_id: who.approval_id.clone(),
            auth_time: Some(who.auth_time),
            sid: Some(who.sid.clone()),
            amr: Some(who.amr.join(" ")),
            created_at: now,
            expires_at: None,
            revoked_at: None,
        };
        let code_row = CodeRow {
            code_hash: crypto::sha256_hex(code.as_bytes()),
            grant_id: grant_row.id.clone(),
            client_id: grant.client_id,
            redirect_uri: who.redirect_uri,
            redirect_uri_sent: true,
            nonce,
            code_challenge: challenge,
            created_at: now,
            expires_at: now + self.ttl,
            used_at: None,
        };
        self.ctx.with_db(|c| {
            store::insert_grant(c, &grant_row)?;
            store::insert_code(c, &code_row)
        })?;
        Ok(code)
    }

    fn extract(&mut self, code: &str) -> Result<Option<Grant>, ()> {
        let Some((client, redirect_uri)) = self.redeeming else {
            return Err(());
        };
        let now = self.ctx.now;
        let hash = crypto::sha256_hex(code.as_bytes());
        let Some(row) = self.ctx.with_db(|c| store::code_by_hash(c, &hash))? else {
            self.ctx.fail(OAuthError::invalid_grant(
                "the authorization code is invalid",
            ));
            return Ok(None);
        };
        let first_use =
            row.used_at.is_none() && self.ctx.with_db(|c| store::mark_code_used(c, &hash, now))?;
        if !first_use {
            // RFC 6749 §4.1.2: a replayed code revokes the tokens issued from it.
            self.ctx.with_db(|c| {
                let revoked_now = store::revoke_grant(c, &row.grant_id, now)?;
                audit::record(
                    c,
                    &Actor::Client(client.client_id.clone()),
                    "code.replay_detected",
                    &format!("grant:{}", row.grant_id),
                    json!({"grant_revoked": revoked_now}),
                    now,
                )
            })?;
            self.ctx.fail(OAuthError::invalid_grant(
                "the authorization code was already used; tokens issued from it are revoked",
            ));
            return Ok(None);
        }
        let problem = if row.client_id != client.client_id {
            Some("the authorization code was issued to another client")
        } else if row.expires_at <= now {
            Some("the authorization code has expired")
        } else if row.redirect_uri != redirect_uri {
            Some("redirect_uri does not match the authorization request")
        } else {
            None
        };
        if let Some(problem) = problem {
            self.ctx.fail(OAuthError::invalid_grant(problem));
            return Ok(None);
        }
        let grant = self.ctx.with_db(|c| store::grant_by_id(c, &row.grant_id))?;
        let Some(grant) = grant.filter(|g| g.revoked_at.is_none()) else {
            self.ctx.fail(OAuthError::invalid_grant(
                "the grant behind this code was revoked",
            ));
            return Ok(None);
        };
        let mut extensions = Extensions::new();
        if let Some(challenge) = row.code_challenge {
            extensions.set(&Pkce::optional(), Value::private(Some(challenge)));
        }
        extensions.set_raw(NONCE.into(), Value::public(row.nonce));
        extensions.set_raw(GRANT_ID.into(), Value::public(Some(grant.id.clone())));
        Ok(Some(Grant {
            owner_id: grant.user_id.unwrap_or_default(),
            client_id: grant.client_id,
            scope: scope_of(&grant.scopes)?,
            redirect_uri: ExactUrl::new(row.redirect_uri).map_err(|_| ())?.to_url(),
            // Expiry was checked above against our clock; oxide-auth compares with its own.
            until: Utc::now() + chrono::Duration::minutes(1),
            extensions,
        }))
    }
}

/// The token store behind the token, userinfo and introspection endpoints.
pub struct Tokens<'c> {
    ctx: &'c Ctx<'c>,
    minter: Minter<'c>,
    keys: &'c [KeyRow],
    client_may_refresh: bool,
    /// The last tokens issued (oxide-auth's `BearerToken` keeps its fields private).
    pub issued: Option<TokenSet>,
}

fn grant_id_of(grant: &Grant) -> Option<String> {
    grant
        .extensions
        .public()
        .find(|(k, _)| *k == GRANT_ID)
        .and_then(|(_, v)| v.map(str::to_owned))
}

impl Tokens<'_> {
    /// Mints an access token (scope `scopes`), an ID token when the grant has `openid`,
    /// and a rotated refresh token when `refresh` is set.
    fn mint(
        &mut self,
        grant: &GrantRow,
        scopes: &[String],
        nonce: Option<&str>,
        refresh: bool,
    ) -> Result<TokenSet, OAuthError> {
        let mut db = self.ctx.db.borrow_mut();
        let c: &mut DbConn = &mut db;
        let approval = match &grant.approval_id {
            Some(id) => approval::service::evidence(c, id)?,
            None => None,
        };
        if approval
            .as_ref()
            .is_some_and(|a| a.access_until <= self.minter.now)
        {
            return Err(OAuthError::invalid_grant(
                "the approval's access window has ended",
            ));
        }
        let access_token = self.minter.access_token(grant, scopes, approval.as_ref())?;
        let id_token = match &grant.user_id {
            Some(user_id) if grant.scopes.split_whitespace().any(|s| s == "openid") => {
                let user = store::user_by_id(c, user_id)?
                    .filter(|u| !u.disabled)
                    .ok_or_else(|| OAuthError::invalid_grant("the user is disabled"))?;
                Some(
                    self.minter
                        .id_token(grant, &user, nonce, &access_token, approval.as_ref())?,
                )
            }
            _ => None,
        };
        let refresh_token = match refresh {
            true => Some(new_refresh_token(
                c,
                &grant.id,
                self.minter.now,
                self.minter.refresh_expiry(approval.as_ref()),
            )?),
            false => None,
        };
        Ok(TokenSet {
            access_token,
            token_type: "Bearer",
            expires_in: self.minter.access_expiry(approval.as_ref()) - self.minter.now,
            scope: scopes.join(" "),
            refresh_token,
            id_token,
            grant_id: grant.id.clone(),
        })
    }

    fn load_grant(&self, grant: &Grant) -> Result<GrantRow, ()> {
        let id = grant_id_of(grant).ok_or(())?;
        match self.ctx.with_db(|c| store::grant_by_id(c, &id))? {
            Some(row) if row.revoked_at.is_none() => Ok(row),
            _ => {
                self.ctx
                    .fail(OAuthError::invalid_grant("the grant was revoked"));
                Err(())
            }
        }
    }

    fn issued_token(&self, set: &TokenSet) -> IssuedToken {
        IssuedToken {
            token: set.access_token.clone(),
            refresh: set.refresh_token.clone(),
            until: until(self.minter.now + set.expires_in),
            token_type: TokenType::Bearer,
        }
    }
}

impl Issuer for Tokens<'_> {
    fn issue(&mut self, grant: Grant) -> Result<IssuedToken, ()> {
        let row = self.load_grant(&grant)?;
        let scopes: Vec<String> = row.scopes.split_whitespace().map(str::to_owned).collect();
        let nonce = grant
            .extensions
            .public()
            .find(|(k, _)| *k == NONCE)
            .and_then(|(_, v)| v.map(str::to_owned));
        let refresh = wants_refresh(self.client_may_refresh, &scopes) && row.user_id.is_some();
        let set = self
            .mint(&row, &scopes, nonce.as_deref(), refresh)
            .map_err(|e| self.ctx.fail(e))?;
        let token = self.issued_token(&set);
        self.issued = Some(set);
        Ok(token)
    }

    fn refresh(&mut self, refresh: &str, grant: Grant) -> Result<RefreshedToken, ()> {
        let row = self.load_grant(&grant)?;
        let hash = crypto::sha256_hex(refresh.as_bytes());
        if !self
            .ctx
            .with_db(|c| store::mark_refresh_used(c, &hash, self.minter.now))?
        {
            self.ctx.fail(OAuthError::invalid_grant(
                "the refresh token was already used",
            ));
            return Err(());
        }
        let scopes: Vec<String> = grant.scope.iter().map(str::to_owned).collect();
        let ordered: Vec<String> = row
            .scopes
            .split_whitespace()
            .filter(|s| scopes.iter().any(|n| n == s))
            .map(str::to_owned)
            .collect();
        let set = self
            .mint(&row, &ordered, None, true)
            .map_err(|e| self.ctx.fail(e))?;
        let token = RefreshedToken {
            token: set.access_token.clone(),
            refresh: set.refresh_token.clone(),
            until: until(self.minter.now + set.expires_in),
            token_type: TokenType::Bearer,
        };
        self.issued = Some(set);
        Ok(token)
    }

    fn recover_token<'a>(&'a self, token: &'a str) -> Result<Option<Grant>, ()> {
        let Some(claims) = crypto::verify::<serde_json::Value>(
            self.keys,
            token,
            self.minter.issuer,
            Some("at+jwt"),
            self.minter.now,
        ) else {
            return Ok(None);
        };
        let Some(grant_id) = claims["grant_id"].as_str() else {
            return Ok(None);
        };
        let Some(row) = self
            .ctx
            .with_db(|c| store::grant_by_id(c, grant_id))?
            .filter(|g| g.revoked_at.is_none())
        else {
            return Ok(None);
        };
        let mut extensions = Extensions::new();
        extensions.set_raw(GRANT_ID.into(), Value::public(Some(row.id.clone())));
        Ok(Some(Grant {
            owner_id: claims["sub"].as_str().unwrap_or_default().to_owned(),
            client_id: row.client_id,
            scope: scope_of(claims["scope"].as_str().unwrap_or("openid"))?,
            redirect_uri: url::Url::parse(self.minter.issuer).map_err(|_| ())?,
            until: until(claims["exp"].as_i64().unwrap_or_default()),
            extensions,
        }))
    }

    fn recover_refresh<'a>(&'a self, token: &'a str) -> Result<Option<Grant>, ()> {
        let now = self.minter.now;
        let hash = crypto::sha256_hex(token.as_bytes());
        let Some(refresh) = self.ctx.with_db(|c| store::refresh_by_hash(c, &hash))? else {
            self.ctx
                .fail(OAuthError::invalid_grant("the refresh token is invalid"));
            return Ok(None);
        };
        let Some(grant) = self
            .ctx
            .with_db(|c| store::grant_by_id(c, &refresh.grant_id))?
        else {
            return Ok(None);
        };
        if refresh.used_at.is_some() {
            // RFC 9700 §4.14.2: reuse of a rotated refresh token revokes the whole grant.
            self.ctx.with_db(|c| {
                let revoked_now = store::revoke_grant(c, &grant.id, now)?;
                audit::record(
                    c,
                    &Actor::Client(grant.client_id.clone()),
                    "refresh.reuse_detected",
                    &format!("grant:{}", grant.id),
                    json!({"grant_revoked": revoked_now}),
                    now,
                )
            })?;
        }
        let approval = match &grant.approval_id {
            Some(id) => self.ctx.with_db(|c| approval::service::evidence(c, id))?,
            None => None,
        };
        let problem = if refresh.used_at.is_some() {
            Some("the refresh token was already used; the grant is revoked")
        } else if approval.is_some_and(|a| a.access_until <= now) {
            Some("the approval's access window has ended; a new approval is needed")
        } else if refresh.revoked_at.is_some() || grant.revoked_at.is_some() {
            Some("the refresh token was revoked")
        } else if refresh.expires_at <= now {
            Some("the refresh token has expired")
        } else {
            None
        };
        if let Some(problem) = problem {
            self.ctx.fail(OAuthError::invalid_grant(problem));
            return Ok(None);
        }
        let mut extensions = Extensions::new();
        extensions.set_raw(GRANT_ID.into(), Value::public(Some(grant.id.clone())));
        Ok(Some(Grant {
            owner_id: grant.user_id.unwrap_or_default(),
            client_id: grant.client_id,
            scope: scope_of(&grant.scopes)?,
            redirect_uri: url::Url::parse(self.minter.issuer).map_err(|_| ())?,
            until: until(refresh.expires_at),
            extensions,
        }))
    }
}

impl<'c> Tokens<'c> {
    /// A token store for one request.
    pub fn new(
        ctx: &'c Ctx<'c>,
        minter: Minter<'c>,
        keys: &'c [KeyRow],
        client_may_refresh: bool,
    ) -> Self {
        Tokens {
            ctx,
            minter,
            keys,
            client_may_refresh,
            issued: None,
        }
    }
}

/// What oxide-auth's authorization flow needs at `/authorize`: issues a code for `who`.
pub struct AuthorizeEndpoint<'c> {
    registrar: ClientRegistrar<'c>,
    codes: Codes<'c>,
    extension: PkceAndNonce<'c>,
}

impl<'c> AuthorizeEndpoint<'c> {
    /// An endpoint issuing one code for `who`.
    pub fn new(ctx: &'c Ctx<'c>, client: &'c Client, code_ttl: i64, who: Authorization) -> Self {
        AuthorizeEndpoint {
            registrar: ClientRegistrar {
                client,
                authenticated: false,
            },
            codes: Codes {
                ctx,
                ttl: code_ttl,
                issuing: Some(who),
                redeeming: None,
            },
            extension: PkceAndNonce { ctx },
        }
    }
}

impl authorize_flow::Endpoint for AuthorizeEndpoint<'_> {
    fn registrar(&self) -> &dyn Registrar {
        &self.registrar
    }
    fn authorizer(&mut self) -> &mut dyn Authorizer {
        &mut self.codes
    }
    fn extension(&mut self) -> &mut dyn authorize_flow::Extension {
        &mut self.extension
    }
}

/// What oxide-auth's access-token flow needs at `/token`: redeems a code sent with
/// `redirect_uri` by an already authenticated client.
pub struct CodeExchangeEndpoint<'c> {
    registrar: ClientRegistrar<'c>,
    codes: Codes<'c>,
    /// The token store (holds the issued tokens afterwards).
    pub tokens: Tokens<'c>,
    extension: PkceAndNonce<'c>,
}

impl<'c> CodeExchangeEndpoint<'c> {
    /// An endpoint for one code exchange.
    pub fn new(
        ctx: &'c Ctx<'c>,
        client: &'c Client,
        redirect_uri: &'c str,
        tokens: Tokens<'c>,
    ) -> Self {
        CodeExchangeEndpoint {
            registrar: ClientRegistrar {
                client,
                authenticated: true,
            },
            codes: Codes {
                ctx,
                ttl: 0,
                issuing: None,
                redeeming: Some((client, redirect_uri)),
            },
            tokens,
            extension: PkceAndNonce { ctx },
        }
    }
}

impl token_flow::Endpoint for CodeExchangeEndpoint<'_> {
    fn registrar(&self) -> &dyn Registrar {
        &self.registrar
    }
    fn authorizer(&mut self) -> &mut dyn Authorizer {
        &mut self.codes
    }
    fn issuer(&mut self) -> &mut dyn Issuer {
        &mut self.tokens
    }
    fn extension(&mut self) -> &mut dyn token_flow::Extension {
        &mut self.extension
    }
}

/// A token request as oxide-auth's access-token flow reads it. Client authentication
/// was done by us (all methods of DESIGN.md §8); the flow sees the authenticated id.
pub struct TokenParams<'a> {
    /// The body parameters.
    pub params: &'a Params,
    /// The authenticated client.
    pub client_id: &'a str,
}

impl token_flow::Request for TokenParams<'_> {
    fn valid(&self) -> bool {
        true
    }
    fn code(&self) -> Option<Cow<'_, str>> {
        self.params.get("code").map(Cow::Borrowed)
    }
    fn authorization(&self) -> token_flow::Authorization<'_> {
        token_flow::Authorization::None
    }
    fn client_id(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self.client_id))
    }
    fn redirect_uri(&self) -> Option<Cow<'_, str>> {
        self.params.get("redirect_uri").map(Cow::Borrowed)
    }
    fn grant_type(&self) -> Option<Cow<'_, str>> {
        self.params.get("grant_type").map(Cow::Borrowed)
    }
    fn extension(&self, key: &str) -> Option<Cow<'_, str>> {
        self.params.get(key).map(Cow::Borrowed)
    }
}
