//! OAuth clients: register, list, remove, rotate the secret. Generated ids and
//! secrets use only `[A-Za-z0-9_-]` (DESIGN.md §8); secrets are stored as SHA-256
//! (they carry 256 bits of entropy, so a slow hash adds nothing) and shown once.

use serde_json::json;

use super::{is_token, ManageError};
use crate::audit::{self, Actor, AuditAction};
use crate::crypto::{self, KeyAlg};
use crate::ids::ClientId;
use crate::oidc::ciba::DeliveryMode;
use crate::oidc::grant_type::GrantType;
use crate::store::{self, decode_list, encode_list, ClientRow, Store};

/// A client to register.
#[derive(Debug, Clone, Default)]
pub struct ClientSpec {
    /// Display name (consent page).
    pub name: String,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Scopes the client may request.
    pub scopes: Vec<String>,
    /// A public client (no secret, PKCE required).
    pub public: bool,
    /// Exact post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Grant types; empty means authorization_code + refresh_token.
    pub grant_types: Vec<GrantType>,
    /// Algorithm of its ID tokens (RS256 unless the client asks for ES256 or EdDSA).
    pub id_token_alg: KeyAlg,
    /// Algorithm of its JWT access tokens (RS256 unless its resource servers take
    /// ES256 or EdDSA, which sign far faster).
    pub access_token_alg: KeyAlg,
    /// How a CIBA client learns of a decision (poll when it uses CIBA and says nothing).
    pub backchannel_mode: Option<DeliveryMode>,
    /// Where a ping-mode CIBA client is called (CIBA Core §10.2).
    pub backchannel_notification_endpoint: Option<String>,
}

/// A registered client and its secret, which is shown this once.
#[derive(Debug, Clone)]
pub struct NewClient {
    /// The stored client.
    pub row: ClientRow,
    /// The plain secret (confidential clients only).
    pub secret: Option<String>,
}

/// The prefix of stored client secret hashes.
pub const SECRET_HASH_PREFIX: &str = "sha256:";

fn new_secret() -> (String, String) {
    let secret = crypto::random_id(32);
    let hash = format!(
        "{SECRET_HASH_PREFIX}{}",
        crypto::sha256_hex(secret.as_bytes())
    );
    (secret, hash)
}

/// A redirect URI must be absolute, without fragment (RFC 6749 §3.1.2) and without
/// whitespace; it is later compared byte for byte.
fn check_redirect_uri(uri: &str) -> Result<(), ManageError> {
    let bad = |why: &str| Err(ManageError::Invalid(format!("redirect URI {uri:?} {why}")));
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("contains whitespace");
    }
    match url::Url::parse(uri) {
        Err(_) => bad("is not an absolute URI"),
        Ok(url) if url.fragment().is_some() || uri.contains('#') => {
            bad("must not contain a fragment")
        }
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_none() => {
            bad("has no host")
        }
        Ok(url) if url.scheme() == "javascript" || url.scheme() == "data" => {
            bad("has a forbidden scheme")
        }
        Ok(_) => Ok(()),
    }
}

fn check_spec(c: &mut store::DbConn, spec: &ClientSpec) -> Result<(), ManageError> {
    if spec.name.trim().is_empty() {
        return Err(ManageError::Invalid("a client needs a --name".into()));
    }
    let needs_redirect = spec.grant_types.contains(&GrantType::AuthorizationCode);
    if needs_redirect && spec.redirect_uris.is_empty() {
        return Err(ManageError::Invalid(
            "a client needs at least one --redirect-uri".into(),
        ));
    }
    for uri in spec
        .redirect_uris
        .iter()
        .chain(&spec.post_logout_redirect_uris)
    {
        check_redirect_uri(uri)?;
    }
    if spec.public && spec.grant_types.contains(&GrantType::ClientCredentials) {
        return Err(ManageError::Invalid(
            "a public client cannot use client_credentials".into(),
        ));
    }
    check_backchannel(spec)?;
    if spec.scopes.is_empty() {
        return Err(ManageError::Invalid("a client needs --scope".into()));
    }
    for scope in &spec.scopes {
        if !is_token(scope) || store::scope_by_name(c, scope)?.is_none() {
            return Err(ManageError::NotFound(format!(
                "no scope named {scope:?} (see `scope list`)"
            )));
        }
    }
    Ok(())
}

/// CIBA needs an authenticated client (CIBA Core §7.1), and a ping client an endpoint;
/// a delivery mode without the CIBA grant means nothing, so it is refused.
fn check_backchannel(spec: &ClientSpec) -> Result<(), ManageError> {
    let invalid = |why: &str| Err(ManageError::Invalid(why.into()));
    let ciba = spec.grant_types.contains(&GrantType::Ciba);
    if ciba && spec.public {
        return invalid("a public client cannot use CIBA (it needs client authentication)");
    }
    match (ciba, spec.backchannel_mode, &spec.backchannel_notification_endpoint) {
        (false, Some(_), _) | (false, _, Some(_)) => invalid(
            "--backchannel-delivery-mode and --backchannel-notification-endpoint need --grant-type urn:openid:params:grant-type:ciba",
        ),
        (true, Some(DeliveryMode::Ping), None) => {
            invalid("a ping client needs --backchannel-notification-endpoint")
        }
        (true, Some(DeliveryMode::Poll) | None, Some(_)) => {
            invalid("--backchannel-notification-endpoint is for --backchannel-delivery-mode ping")
        }
        (_, _, Some(endpoint)) => match url::Url::parse(endpoint) {
            // CIBA §4: https (it carries the client's bearer token); http to localhost.
            Ok(url) if super::https_or_loopback(&url) && url.fragment().is_none() => {
                check_redirect_uri(endpoint)
            }
            _ => invalid(
                "--backchannel-notification-endpoint must be an https URL (http only to localhost) without fragment",
            ),
        },
        _ => Ok(()),
    }
}

/// Parses a `--grant-type` value.
pub fn parse_grant_type(name: &str) -> Result<GrantType, ManageError> {
    GrantType::parse(name).ok_or_else(|| {
        ManageError::Invalid(format!(
            "grant type {name:?} is not one of authorization_code, refresh_token, client_credentials, {}",
            GrantType::Ciba.as_str()
        ))
    })
}

/// Registers a client.
pub fn add_client(
    store: &Store,
    mut spec: ClientSpec,
    actor: &Actor,
    now: i64,
) -> Result<NewClient, ManageError> {
    if spec.grant_types.is_empty() {
        spec.grant_types = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
    }
    dedup(&mut spec.grant_types);
    dedup(&mut spec.scopes);
    let (secret, secret_hash) = match spec.public {
        true => (None, None),
        false => {
            let (secret, hash) = new_secret();
            (Some(secret), Some(hash))
        }
    };
    let row = ClientRow {
        client_id: ClientId::new(crypto::random_id(18)),
        name: spec.name.trim().to_owned(),
        secret_hash,
        redirect_uris: encode_list(&spec.redirect_uris),
        post_logout_redirect_uris: encode_list(&spec.post_logout_redirect_uris),
        grant_types: encode_list(&spec.grant_types),
        allowed_scopes: spec.scopes.iter().map(String::as_str).collect(),
        token_endpoint_auth_method: if spec.public {
            "none"
        } else {
            "client_secret_basic"
        }
        .into(),
        id_token_alg: spec.id_token_alg,
        require_pkce: spec.public,
        created_at: now,
        access_token_alg: spec.access_token_alg,
        backchannel_token_delivery_mode: spec.backchannel_mode.or_else(|| {
            spec.grant_types
                .contains(&GrantType::Ciba)
                .then_some(DeliveryMode::Poll)
        }),
        backchannel_client_notification_endpoint: spec.backchannel_notification_endpoint.clone(),
    };
    store.write(|c| {
        check_spec(c, &spec)?;
        store::insert_client(c, &row)?;
        audit::record(
            c,
            actor,
            AuditAction::ClientCreated,
            &format!("client:{}", row.client_id),
            json!({"before": null, "after": describe(&row)}),
            now,
        )?;
        Ok(NewClient {
            row: row.clone(),
            secret: secret.clone(),
        })
    })
}

/// What an admin may change in a registration: its name, redirect URIs and scopes (its
/// id, secret, type and grant types stay).
#[derive(Debug, Clone, Default)]
pub struct ClientChanges {
    /// Display name.
    pub name: String,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Exact post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Scopes the client may request.
    pub scopes: Vec<String>,
    /// Grant types it may use (none: keep the ones it has).
    pub grant_types: Vec<GrantType>,
    /// Algorithm of its ID tokens.
    pub id_token_alg: KeyAlg,
    /// Algorithm of its JWT access tokens.
    pub access_token_alg: KeyAlg,
}

/// Changes a client's registration, checked as a new one is; audited before and after.
pub fn update_client(
    store: &Store,
    client_id: &str,
    mut changes: ClientChanges,
    actor: &Actor,
    now: i64,
) -> Result<ClientRow, ManageError> {
    dedup(&mut changes.scopes);
    store.write(|c| {
        let client_id = &ClientId::new(client_id);
        let before = require_client(c, client_id)?;
        let mut grant_types = changes.grant_types.clone();
        if grant_types.is_empty() {
            grant_types = decode_list(&before.grant_types)
                .iter()
                .filter_map(|g| GrantType::parse(g))
                .collect();
        }
        dedup(&mut grant_types);
        // Taking CIBA away takes its delivery settings with it; adding it starts polling.
        let ciba = grant_types.contains(&GrantType::Ciba);
        let spec = ClientSpec {
            name: changes.name.trim().to_owned(),
            redirect_uris: changes.redirect_uris.clone(),
            post_logout_redirect_uris: changes.post_logout_redirect_uris.clone(),
            scopes: changes.scopes.clone(),
            public: before.secret_hash.is_none(),
            grant_types,
            id_token_alg: changes.id_token_alg,
            access_token_alg: changes.access_token_alg,
            backchannel_mode: ciba.then(|| {
                before
                    .backchannel_token_delivery_mode
                    .unwrap_or(DeliveryMode::Poll)
            }),
            backchannel_notification_endpoint: before
                .backchannel_client_notification_endpoint
                .clone()
                .filter(|_| ciba),
        };
        check_spec(c, &spec)?;
        let after = ClientRow {
            name: spec.name.clone(),
            redirect_uris: encode_list(&spec.redirect_uris),
            post_logout_redirect_uris: encode_list(&spec.post_logout_redirect_uris),
            allowed_scopes: spec.scopes.iter().map(String::as_str).collect(),
            grant_types: encode_list(&spec.grant_types),
            id_token_alg: spec.id_token_alg,
            access_token_alg: spec.access_token_alg,
            backchannel_token_delivery_mode: spec.backchannel_mode,
            backchannel_client_notification_endpoint: spec
                .backchannel_notification_endpoint
                .clone(),
            ..before.clone()
        };
        store::update_client(c, &after)?;
        audit::record(
            c,
            actor,
            AuditAction::ClientUpdated,
            &format!("client:{client_id}"),
            json!({"before": describe(&before), "after": describe(&after)}),
            now,
        )?;
        Ok(after)
    })
}

fn dedup<T: Eq + std::hash::Hash + Clone>(items: &mut Vec<T>) {
    let mut seen = std::collections::HashSet::new();
    items.retain(|item| seen.insert(item.clone()));
}

/// A client as recorded in the audit log (no secret hash).
fn describe(row: &ClientRow) -> serde_json::Value {
    json!({
        "client_id": row.client_id, "name": row.name,
        "redirect_uris": decode_list(&row.redirect_uris),
        "post_logout_redirect_uris": decode_list(&row.post_logout_redirect_uris),
        "grant_types": decode_list(&row.grant_types), "scope": row.allowed_scopes,
        "token_endpoint_auth_method": row.token_endpoint_auth_method,
        "id_token_signed_response_alg": row.id_token_alg,
        "access_token_signing_alg": row.access_token_alg,
        "backchannel_token_delivery_mode": row.backchannel_token_delivery_mode,
        "backchannel_client_notification_endpoint": row.backchannel_client_notification_endpoint,
    })
}

/// Every client.
pub fn list_clients(store: &Store) -> Result<Vec<ClientRow>, ManageError> {
    Ok(store.read(store::list_clients)?)
}

fn require_client(c: &mut store::DbConn, client_id: &ClientId) -> Result<ClientRow, ManageError> {
    store::client_by_id(c, client_id)?
        .ok_or_else(|| ManageError::NotFound(format!("no client {:?}", client_id.as_str())))
}

/// Removes a client with its grants, tokens and consents.
pub fn remove_client(
    store: &Store,
    client_id: &str,
    actor: &Actor,
    now: i64,
) -> Result<(), ManageError> {
    store.write(|c| {
        let client_id = &ClientId::new(client_id);
        let row = require_client(c, client_id)?;
        store::delete_client(c, client_id)?;
        audit::record(
            c,
            actor,
            AuditAction::ClientRemoved,
            &format!("client:{client_id}"),
            json!({"before": describe(&row), "after": null}),
            now,
        )?;
        Ok(())
    })
}

/// Issues a new secret for a confidential client; the old one stops working at once.
pub fn rotate_client_secret(
    store: &Store,
    client_id: &str,
    actor: &Actor,
    now: i64,
) -> Result<String, ManageError> {
    let (secret, hash) = new_secret();
    store.write(|c| {
        let client_id = &ClientId::new(client_id);
        let row = require_client(c, client_id)?;
        if row.secret_hash.is_none() {
            return Err(ManageError::Invalid(format!(
                "client {:?} is public and has no secret",
                client_id.as_str()
            )));
        }
        store::set_client_secret_hash(c, client_id, &hash)?;
        // The secret itself is never recorded: only that a new one replaced the old.
        let details = json!({"before": {"secret": "set"}, "after": {"secret": "replaced"}});
        audit::record(
            c,
            actor,
            AuditAction::ClientSecretRotated,
            &format!("client:{client_id}"),
            details,
            now,
        )?;
        Ok(secret.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_must_be_absolute_and_fragment_free() {
        assert!(check_redirect_uri("https://rp.example/cb").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:9000/cb").is_ok());
        assert!(check_redirect_uri("com.example.app:/oauth").is_ok());
        assert!(check_redirect_uri("/relative").is_err());
        assert!(check_redirect_uri("https://rp.example/cb#frag").is_err());
        assert!(check_redirect_uri("not a uri").is_err());
        assert!(check_redirect_uri("javascript:alert(1)").is_err());
    }
}
