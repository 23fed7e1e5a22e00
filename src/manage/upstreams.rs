//! Upstream OpenID Connect providers (issue 22, identity brokering): add, list, remove.
//! The client secret is sealed at rest and never printed or audited.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::groups::require_group;
use super::{conflict, ManageError};
use crate::audit::{self, Actor, AuditAction};
use crate::crypto::Sealer;
use crate::store::{self, encode_list, Store, UpstreamRow};

/// The label of the key that seals upstream client secrets.
pub const UPSTREAM_SECRET_PURPOSE: &str = "countersign/upstream-secrets";

/// An upstream to register.
#[derive(Debug)]
pub struct NewUpstream {
    /// Its name, shown on the login page and used in its URLs.
    pub name: String,
    /// Its issuer identifier (OIDC Discovery §4 is fetched under it).
    pub issuer: String,
    /// Our client_id there.
    pub client_id: String,
    /// Our client secret there.
    pub client_secret: SecretString,
    /// Scopes to ask for (must include `openid`).
    pub scope: String,
    /// The claim listing the user's groups upstream.
    pub groups_claim: Option<String>,
    /// `(upstream group, local group)` pairs.
    pub group_map: Vec<(String, String)>,
}

/// A registered upstream as listed (no secret).
#[derive(Debug, Clone, serde::Serialize)]
pub struct UpstreamSummary {
    /// Name.
    pub name: String,
    /// Issuer.
    pub issuer: String,
    /// Our client_id there.
    pub client_id: String,
    /// Requested scopes.
    pub scope: String,
    /// The groups claim.
    pub groups_claim: Option<String>,
    /// `upstream=local` pairs.
    pub map_groups: Vec<String>,
}

fn check_name(name: &str) -> Result<(), ManageError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(ManageError::Invalid(format!(
            "upstream name {name:?} must be 1-64 letters, digits, '-' or '_'"
        )))
    }
}

/// An https issuer; plain http only on the loopback interface (local testing), since
/// discovery, keys and tokens travel over it.
fn check_issuer(issuer: &str) -> Result<(), ManageError> {
    let url = url::Url::parse(issuer)
        .map_err(|e| ManageError::Invalid(format!("issuer {issuer:?} is not a URL: {e}")))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    let ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    if !ok || url.query().is_some() || url.fragment().is_some() {
        return Err(ManageError::Invalid(format!(
            "issuer {issuer:?} must be an https URL without query or fragment"
        )));
    }
    Ok(())
}

/// Registers an upstream (audited; the secret sealed, never in the audit details).
pub fn add_upstream(
    store: &Store,
    sealer: &Sealer,
    new: NewUpstream,
    actor: &Actor,
    now: i64,
) -> Result<UpstreamSummary, ManageError> {
    check_name(&new.name)?;
    check_issuer(&new.issuer)?;
    if !new.scope.split_whitespace().any(|s| s == "openid") {
        return Err(ManageError::Invalid("--scope must include openid".into()));
    }
    if new.client_id.is_empty() || new.client_secret.expose_secret().is_empty() {
        return Err(ManageError::Invalid(
            "the client id and secret must not be empty".into(),
        ));
    }
    let sealed = sealer
        .seal(new.client_secret.expose_secret())
        .map_err(ManageError::Internal)?;
    let row = UpstreamRow {
        name: new.name,
        issuer: new.issuer,
        client_id: new.client_id,
        client_secret: sealed,
        scope: new.scope.split_whitespace().collect::<Vec<_>>().join(" "),
        groups_claim: new.groups_claim.filter(|c| !c.is_empty()),
        group_map: encode_list(&new.group_map),
        created_at: now,
    };
    store.write(|c| {
        for (_, local) in &new.group_map {
            require_group(c, local)?;
        }
        store::insert_upstream(c, &row)
            .map_err(conflict(format!("upstream {:?} already exists", row.name)))?;
        let summary = summary(&row);
        audit::record(
            c,
            actor,
            AuditAction::UpstreamAdded,
            &format!("upstream:{}", row.name),
            json!({"before": null, "after": summary}),
            now,
        )?;
        Ok(summary)
    })
}

/// Every upstream (without secrets).
pub fn list_upstreams(store: &Store) -> Result<Vec<UpstreamSummary>, ManageError> {
    Ok(store
        .read(store::list_upstreams)?
        .iter()
        .map(summary)
        .collect())
}

/// Removes an upstream. Users it created stay, with their links (re-adding the same
/// issuer finds them again).
pub fn remove_upstream(
    store: &Store,
    name: &str,
    actor: &Actor,
    now: i64,
) -> Result<(), ManageError> {
    store.write(|c| {
        let row = store::upstream_by_name(c, name)?
            .ok_or_else(|| ManageError::NotFound(format!("no upstream named {name:?}")))?;
        store::delete_upstream(c, name)?;
        audit::record(
            c,
            actor,
            AuditAction::UpstreamRemoved,
            &format!("upstream:{name}"),
            json!({"before": summary(&row), "after": null}),
            now,
        )?;
        Ok(())
    })
}

/// The `(upstream, local)` pairs of a stored group map.
pub fn group_map(row: &UpstreamRow) -> Vec<(String, String)> {
    serde_json::from_str(&row.group_map).unwrap_or_else(|error| {
        tracing::error!(%error, upstream = %row.name, "malformed group map");
        Vec::new()
    })
}

fn summary(row: &UpstreamRow) -> UpstreamSummary {
    UpstreamSummary {
        name: row.name.clone(),
        issuer: row.issuer.clone(),
        client_id: row.client_id.clone(),
        scope: row.scope.clone(),
        groups_claim: row.groups_claim.clone(),
        map_groups: group_map(row)
            .into_iter()
            .map(|(upstream, local)| format!("{upstream}={local}"))
            .collect(),
    }
}
