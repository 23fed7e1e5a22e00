//! oxide-auth adapters: our database-backed `Registrar`, `Authorizer` (one-time codes)
//! and `Issuer` (JWT access tokens, rotating refresh tokens), the PKCE/nonce extension,
//! and the request views the code-grant flows read. oxide-auth's primitives answer
//! `Err(())`/`None`; each adapter records the precise protocol error in [`Ctx`] first,
//! so the endpoint can tell the client exactly what went wrong.

mod authorizer;
mod issuer;
mod registrar;
mod request_views;

pub use authorizer::{Authorization, Codes};
pub use issuer::Tokens;
pub use registrar::ClientRegistrar;
pub use request_views::{AuthorizeParams, PkceAndNonce, TokenParams};

use std::cell::RefCell;

use chrono::{TimeZone, Utc};
use oxide_auth::code_grant::accesstoken as token_flow;
use oxide_auth::code_grant::authorization as authorize_flow;
use oxide_auth::endpoint::Scope;
use oxide_auth::primitives::authorizer::Authorizer;
use oxide_auth::primitives::grant::Grant;
use oxide_auth::primitives::issuer::Issuer;
use oxide_auth::primitives::registrar::Registrar;

use crate::ids::GrantId;
use crate::oidc::clients::Client;
use crate::oidc::error::OAuthError;
use crate::store::{DbConn, GrantRow, StoreError};

/// Shared by the adapters of one request: the connection (inside the request's
/// transaction), the clock, and the first precise error an adapter hit.
pub struct Ctx<'c> {
    db: RefCell<&'c mut DbConn>,
    failure: RefCell<Option<OAuthError>>,
    /// The live grant the redeemed code names, as the authorizer read it in this
    /// transaction: the issuer takes it instead of reading the row again.
    redeemed_grant: RefCell<Option<GrantRow>>,
    /// Now (unix seconds).
    pub now: i64,
}

impl<'c> Ctx<'c> {
    /// A context over a connection.
    pub fn new(conn: &'c mut DbConn, now: i64) -> Self {
        Ctx {
            db: RefCell::new(conn),
            failure: RefCell::new(None),
            redeemed_grant: RefCell::new(None),
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

    /// Keeps the grant the code exchange read, for the issuer.
    fn keep_redeemed_grant(&self, grant: GrantRow) {
        *self.redeemed_grant.borrow_mut() = Some(grant);
    }

    /// The grant kept by [`Ctx::keep_redeemed_grant`], if it is grant `id`.
    fn redeemed_grant(&self, id: &GrantId) -> Option<GrantRow> {
        let kept = self.redeemed_grant.borrow_mut().take()?;
        (kept.id == *id).then_some(kept)
    }

    /// Takes the recorded error.
    pub fn take_failure(&self) -> Option<OAuthError> {
        self.failure.borrow_mut().take()
    }
}

/// Extension key of the nonce (a public grant extension value).
const NONCE: &str = "nonce";
/// Extension key of our grant id (a public grant extension value).
pub(crate) const GRANT_ID: &str = "grant_id";

fn grant_id_of(grant: &Grant) -> Option<GrantId> {
    grant
        .extensions
        .public()
        .find(|(k, _)| *k == GRANT_ID)
        .and_then(|(_, v)| v.map(GrantId::new))
}

pub(crate) fn until(at: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(at, 0).single().unwrap_or_else(Utc::now)
}

fn scope_of(scopes: &str) -> Result<Scope, ()> {
    scopes.parse().map_err(|_| ())
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
