//! The request views oxide-auth's flows read, and the PKCE/nonce extension that carries
//! the challenge and nonce from the authorization request to the token request.

use std::borrow::Cow;

use oxide_auth::code_grant::accesstoken as token_flow;
use oxide_auth::code_grant::authorization as authorize_flow;
use oxide_auth::code_grant::extensions::Pkce;
use oxide_auth::primitives::grant::{Extensions, Value};

use crate::oidc::error::OAuthError;
use crate::oidc::params::Params;

use super::{Ctx, NONCE};

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
    pub(super) ctx: &'c Ctx<'c>,
}

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
