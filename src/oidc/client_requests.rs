//! Client-authenticated form requests (token, introspection, revocation): the body is
//! read as RFC 6749 §3.2 form parameters (DESIGN.md §8: every malformed body is the
//! §5.2 JSON error), the client is authenticated (§2.3), and the call runs in one
//! transaction.

use super::clients::{Client, ClientCredentials};
use super::error::OAuthError;
use super::params::{ParamError, Params};
use super::Provider;
use crate::store::{DbConn, StoreError};

/// A token endpoint error and whether the client tried the Authorization header
/// (RFC 6749 §5.2: then `invalid_client` is a 401).
#[derive(Debug, Clone)]
pub struct TokenError {
    /// The error.
    pub error: OAuthError,
    /// Answer `invalid_client` with 401 and a Basic challenge: the client tried the
    /// Authorization header (RFC 6749 §5.2), or the endpoint owes it to every
    /// unauthorized caller (introspection, RFC 7662 §2.1). Otherwise 400.
    pub challenge: bool,
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
        ParamError::Undecodable(_) => OAuthError::invalid_request(
            "a parameter is not valid percent-encoded UTF-8 or holds a control character",
        ),
    })
}
impl Provider {
    /// A client-authenticated form request (token, introspection, revocation): reads the
    /// body, authenticates the client, and runs `call` in the same transaction. A write
    /// transaction commits even when `call` refuses, so what a refusal records (a
    /// replayed code revoking its grant, its audit event) is kept.
    pub(crate) fn with_client<T>(
        &self,
        authorization: Option<&str>,
        form: bool,
        body: &[u8],
        writes: bool,
        call: impl FnOnce(&mut DbConn, Client, &Params) -> Result<T, OAuthError>,
    ) -> Result<T, TokenError> {
        let challenge = authorization.is_some();
        let wrap = |error: OAuthError| TokenError { error, challenge };
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
}
