//! OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414 §2): everything that is
//! supported is advertised, nothing that is not.

use std::sync::Arc;

use serde_json::{json, Value};

use super::ciba::CIBA_GRANT_TYPE;
use super::claims::claims_supported;
use super::error::OAuthError;
use super::Provider;
use crate::approval::requirements;
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
        let action_types = self.store.read(store::list_action_types)?;
        let approval_required = approval_required(&scopes, &action_types);
        let type_names: Vec<&str> = action_types.iter().map(|t| t.name.as_str()).collect();
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
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", CIBA_GRANT_TYPE],
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
            // CIBA Core §4: poll and ping; no user codes, no signed requests.
            "backchannel_authentication_endpoint": at("/bc-authorize"),
            "backchannel_token_delivery_modes_supported": ["poll", "ping"],
            "backchannel_user_code_parameter_supported": false,
            // RFC 9396 §10: the registered action types.
            "authorization_details_types_supported": type_names,
            // What needs approval, and from whom, so a client can tell its users first.
            "countersign_approval_required": approval_required,
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

/// `countersign_approval_required`: each sensitive scope and each action type with who
/// must approve it ("1 approval from finance"), as the consent page says it.
fn approval_required(scopes: &[store::ScopeRow], action_types: &[store::ActionTypeRow]) -> Value {
    let policy_of = |name: &str| {
        scopes
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| requirements(std::slice::from_ref(s)))
            .map(|r| r.describe())
    };
    let mut by_scope = serde_json::Map::new();
    for scope in scopes.iter().filter(|s| s.sensitive) {
        if let Some(described) = policy_of(&scope.name) {
            by_scope.insert(scope.name.clone(), described.into());
        }
    }
    let mut by_type = serde_json::Map::new();
    for action_type in action_types {
        by_type.insert(
            action_type.name.clone(),
            json!({"description": action_type.description, "policy_scope": action_type.policy_scope,
                "approvals": policy_of(&action_type.policy_scope)}),
        );
    }
    json!({"scopes": by_scope, "authorization_details_types": by_type})
}
