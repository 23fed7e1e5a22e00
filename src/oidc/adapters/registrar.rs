//! The registrar: one already-loaded client, exact redirect URIs (DESIGN.md §8), scopes
//! limited to the client's.

use std::borrow::Cow;

use oxide_auth::endpoint::Scope;
use oxide_auth::primitives::registrar::{
    BoundClient, ClientUrl, ExactUrl, PreGrant, RegisteredUrl, Registrar, RegistrarError,
};

use crate::oidc::clients::Client;

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
                if *bound.client_id == *self.client.client_id.as_str()
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
        if !scope.iter().all(|s| self.client.allowed_scopes.contains(s)) {
            return Err(RegistrarError::Unspecified);
        }
        Ok(PreGrant {
            client_id: client.client_id.into_owned(),
            redirect_uri: client.redirect_uri.into_owned(),
            scope,
        })
    }

    fn check(&self, client_id: &str, _passphrase: Option<&[u8]>) -> Result<(), RegistrarError> {
        if self.authenticated && self.client.client_id == client_id {
            Ok(())
        } else {
            Err(RegistrarError::Unspecified)
        }
    }
}
