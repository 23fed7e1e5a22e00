//! OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414 §2): everything that is
//! supported is advertised, nothing that is not.

use std::sync::Arc;

use serde_json::{json, Value};

use super::claims::claims_supported;
use super::error::OAuthError;
use super::Provider;
use crate::store;

impl Provider {
    /// The metadata document, serialized; `scopes_supported` and the sensitive scopes
    /// come from the database, so they follow `scope add` without a restart: at once
    /// through this instance, within [`super::memo::METADATA_REFRESH_SECONDS`] otherwise.
    pub fn discovery(&self, now: i64) -> Result<Arc<str>, OAuthError> {
        // Not while the database is known down (every endpoint answers alike).
        if self.store.is_unreachable() {
            return Err(store::StoreError::Pool("database unreachable".into()).into());
        }
        if let Some(document) = self.metadata.fresh(now) {
            return Ok(document);
        }
        let document: Arc<str> = self.build_discovery()?.to_string().into();
        self.metadata.put(now, document.clone());
        Ok(document)
    }

    fn build_discovery(&self) -> Result<Value, OAuthError> {
        let scopes = self.store.read(store::list_scopes)?;
        let names: Vec<&str> = scopes.iter().map(|s| s.name.as_str()).collect();
        let sensitive: Vec<&str> = scopes
            .iter()
            .filter(|s| s.sensitive)
            .map(|s| s.name.as_str())
            .collect();
        let at = |path: &str| format!("{}{path}", self.issuer);
        Ok(json!({
            "issuer": self.issuer,
            "authorization_endpoint": at("/authorize"),
            "token_endpoint": at("/token"),
            "userinfo_endpoint": at("/userinfo"),
            "jwks_uri": at("/jwks.json"),
            "end_session_endpoint": at("/logout"),
            "introspection_endpoint": at("/introspect"),
            "revocation_endpoint": at("/revoke"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "form_post"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
            "scopes_supported": names,
            "claims_supported": claims_supported(&scopes),
            "claim_types_supported": ["normal"],
            "claims_parameter_supported": false,
            "prompt_values_supported": ["none", "login", "consent", "select_account"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "require_request_uri_registration": false,
            "countersign_sensitive_scopes_supported": sensitive,
        }))
    }

    /// The JWK Set: every published key. A read only: the sweep records retirements,
    /// and a key past its `retire_at` is left out whether or not it ran yet.
    pub fn jwks(&self, now: i64) -> Result<Arc<str>, OAuthError> {
        // Served from memory, but not while the database is known to be down: a key
        // rotated meanwhile could not be noticed (and every endpoint answers alike).
        if self.store.is_unreachable() {
            return Err(store::StoreError::Pool("database unreachable".into()).into());
        }
        Ok(self.keys.current_in(&self.store, now)?.jwks())
    }
}
