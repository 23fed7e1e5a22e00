//! Standard claims released per scope (OIDC Core §5.1, §5.4). `sub` is the user's
//! random id: stable, and it does not reveal the username.

use serde_json::{Map, Value};

use crate::scope_set::ScopeSet;
use crate::store::UserRow;

/// The claims of `user` that `scopes` release, always including `sub`.
pub fn user_claims(user: &UserRow, scopes: &ScopeSet) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), user.id.as_str().into());
    if scopes.contains("profile") {
        let name = user.name.clone().unwrap_or_else(|| user.username.clone());
        claims.insert("name".into(), name.into());
        claims.insert("preferred_username".into(), user.username.clone().into());
    }
    if scopes.contains("email") {
        claims.insert("email".into(), user.email.clone().into());
        // Addresses are entered by administrators, not verified by a mail round trip.
        claims.insert("email_verified".into(), false.into());
    }
    claims
}

/// Every claim this provider can release (discovery `claims_supported`).
pub const CLAIMS_SUPPORTED: [&str; 16] = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "azp",
    "sid",
    "amr",
    "name",
    "preferred_username",
    "email",
    "email_verified",
    "approval",
];
