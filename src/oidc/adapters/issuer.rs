//! The token store: oxide-auth's `Issuer` over the database (JWT access tokens,
//! rotating refresh tokens, ID tokens, the approval evidence they carry).

use oxide_auth::primitives::grant::{Extensions, Grant, Value};
use oxide_auth::primitives::issuer::{IssuedToken, Issuer, RefreshedToken, TokenType};
use serde_json::json;

use crate::approval;
use crate::audit::{self, Actor, AuditAction};
use crate::crypto;
use crate::crypto::KeySet;
use crate::ids::{GrantId, UserId};
use crate::oidc::error::OAuthError;
use crate::oidc::minting::{mint, wants_refresh, Minter, TokenSet};
use crate::scope_set::ScopeSet;
use crate::store::{self, DbConn, GrantRow};

use super::{grant_id_of, scope_of, until, Ctx, GRANT_ID, NONCE};

/// The token store behind the token, userinfo and introspection endpoints.
pub struct Tokens<'c> {
    ctx: &'c Ctx<'c>,
    minter: Minter<'c>,
    keys: &'c KeySet,
    client_may_refresh: bool,
    /// The last tokens issued (oxide-auth's `BearerToken` keeps its fields private).
    pub issued: Option<TokenSet>,
}

impl Tokens<'_> {
    /// Mints an access token (scope `scopes`), an ID token when the grant has `openid`,
    /// and a rotated refresh token when `refresh` is set.
    fn mint(
        &mut self,
        grant: &GrantRow,
        scopes: &ScopeSet,
        nonce: Option<&str>,
        refresh: bool,
    ) -> Result<TokenSet, OAuthError> {
        let mut db = self.ctx.db.borrow_mut();
        let c: &mut DbConn = &mut db;
        mint(c, &self.minter, grant, scopes, nonce, refresh)
    }

    /// RFC 9700 §4.14.2: reuse of a rotated refresh token revokes the whole grant.
    fn reuse_detected(&self, grant: &GrantRow) -> Result<(), ()> {
        let now = self.minter.now;
        self.ctx.with_db(|c| {
            let revoked_now = store::revoke_grant(c, &grant.id, now)?;
            audit::record(
                c,
                &Actor::Client(grant.client_id.clone()),
                AuditAction::RefreshReuseDetected,
                &format!("grant:{}", grant.id),
                json!({"grant_revoked": revoked_now}),
                now,
            )
        })?;
        Ok(())
    }

    fn load_grant(&self, grant: &Grant) -> Result<GrantRow, ()> {
        let id = grant_id_of(grant).ok_or(())?;
        let read = match self.ctx.redeemed_grant(&id) {
            Some(kept) => Some(kept),
            None => self.ctx.with_db(|c| store::grant_by_id(c, &id))?,
        };
        match read {
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
        let nonce = grant
            .extensions
            .public()
            .find(|(k, _)| *k == NONCE)
            .and_then(|(_, v)| v.map(str::to_owned));
        let refresh = wants_refresh(self.client_may_refresh, &row.scopes) && row.user_id.is_some();
        let set = self
            .mint(&row, &row.scopes, nonce.as_deref(), refresh)
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
            // A concurrent refresh with the same token won: that is reuse too.
            self.reuse_detected(&row)?;
            self.ctx.fail(OAuthError::invalid_grant(
                "the refresh token was already used; the grant is revoked",
            ));
            return Err(());
        }
        // The grant's order, narrowed to what the refresh request asked for.
        let ordered: ScopeSet = row
            .scopes
            .iter()
            .filter(|s| grant.scope.iter().any(|n| n == *s))
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
            .with_db(|c| store::grant_by_id(c, &GrantId::new(grant_id)))?
            .filter(|g| g.revoked_at.is_none())
        else {
            return Ok(None);
        };
        let mut extensions = Extensions::new();
        extensions.set_raw(GRANT_ID.into(), Value::public(Some(row.id.to_string())));
        Ok(Some(Grant {
            owner_id: claims["sub"].as_str().unwrap_or_default().to_owned(),
            client_id: row.client_id.into_string(),
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
            self.reuse_detected(&grant)?;
        }
        let approval = self
            .ctx
            .with_db(|c| approval::evidence::grant_evidence(c, grant.approval_id.as_ref()))?;
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
        extensions.set_raw(GRANT_ID.into(), Value::public(Some(grant.id.to_string())));
        Ok(Some(Grant {
            owner_id: grant.user_id.map(UserId::into_string).unwrap_or_default(),
            client_id: grant.client_id.into_string(),
            scope: scope_of(grant.scopes.as_str())?,
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
        keys: &'c KeySet,
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
