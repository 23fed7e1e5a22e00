//! One-time authorization codes: oxide-auth's `Authorizer` over the database.

use chrono::Utc;
use oxide_auth::code_grant::extensions::Pkce;
use oxide_auth::primitives::authorizer::Authorizer;
use oxide_auth::primitives::grant::{Extensions, Grant, Value};
use oxide_auth::primitives::registrar::ExactUrl;
use serde_json::json;

use crate::audit::{self, Actor, AuditAction};
use crate::crypto;
use crate::ids::{ApprovalId, ClientId, GrantId, UserId};
use crate::oidc::clients::Client;
use crate::oidc::error::OAuthError;
use crate::scope_set::ScopeSet;
use crate::store::{self, CodeRow, GrantRow};

use super::{scope_of, Ctx, GRANT_ID, NONCE};

/// Who is being authorized, for the grant behind a new code.
#[derive(Debug, Clone)]
pub struct Authorization {
    /// The user (`sub`).
    pub user_id: UserId,
    /// When they authenticated.
    pub auth_time: i64,
    /// Session id for the `sid` claim.
    pub sid: String,
    /// Authentication methods.
    pub amr: Vec<String>,
    /// Scopes granted, in request order.
    pub scopes: ScopeSet,
    /// The registered redirect URI, exactly.
    pub redirect_uri: String,
    /// The countersignature behind this grant, if any.
    pub approval_id: Option<ApprovalId>,
}

/// One-time authorization codes (RFC 6749 §4.1.2, §10.5): stored hashed, 60 s by
/// default, bound to client, redirect_uri and PKCE. A replayed code revokes every
/// token issued from it.
pub struct Codes<'c> {
    pub(super) ctx: &'c Ctx<'c>,
    pub(super) ttl: i64,
    pub(super) issuing: Option<Authorization>,
    pub(super) redeeming: Option<(&'c Client, &'c str)>,
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
            id: GrantId::new(uuid::Uuid::new_v4().to_string()),
            user_id: Some(who.user_id.clone()),
            client_id: ClientId::new(grant.client_id.as_str()),
            scopes: who.scopes.clone(),
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
            client_id: ClientId::new(grant.client_id),
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
        // RFC 6749 §4.1.3: the code must be the authenticated client's before anything
        // else; another client's attempt neither uses it up nor counts as a replay.
        if row.client_id != client.client_id {
            self.ctx.fail(OAuthError::invalid_grant(
                "the authorization code was issued to another client",
            ));
            return Ok(None);
        }
        let first_use =
            row.used_at.is_none() && self.ctx.with_db(|c| store::mark_code_used(c, &hash, now))?;
        if !first_use {
            // RFC 6749 §4.1.2: a replayed code revokes the tokens issued from it.
            self.ctx.with_db(|c| {
                let revoked_now = store::revoke_grant(c, &row.grant_id, now)?;
                audit::record(
                    c,
                    &Actor::Client(client.client_id.clone()),
                    AuditAction::CodeReplayDetected,
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
        let problem = if row.expires_at <= now {
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
        extensions.set_raw(GRANT_ID.into(), Value::public(Some(grant.id.to_string())));
        self.ctx.keep_redeemed_grant(grant.clone());
        Ok(Some(Grant {
            owner_id: grant.user_id.map(UserId::into_string).unwrap_or_default(),
            client_id: grant.client_id.into_string(),
            scope: scope_of(grant.scopes.as_str())?,
            redirect_uri: ExactUrl::new(row.redirect_uri).map_err(|_| ())?.to_url(),
            // Expiry was checked above against our clock; oxide-auth compares with its own.
            until: Utc::now() + chrono::Duration::minutes(1),
            extensions,
        }))
    }
}
