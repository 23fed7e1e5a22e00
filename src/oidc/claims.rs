//! The claims a user's tokens carry (OIDC Core §5.1, §5.4; issue 22): each granted
//! scope releases the claims its definition names (`scope add --claims`). A claim is a
//! standard profile field, `groups` (the user's groups, for applications that route on
//! them), or a custom attribute set with `user set-attr`. `sub` is the user's random
//! id: stable, and it does not reveal the username.
//!
//! ID tokens and userinfo carry every released claim; JWT access tokens (RFC 9068
//! §2.2.3.1) carry the routing claims only (`groups` and custom attributes), which
//! resource servers decide on, and not the profile's personal data.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::scope_set::ScopeSet;
use crate::store::{self, decode_list, DbConn, StoreError, UserRow};

/// Claims filled from the user's own fields, never from attributes.
pub const PROFILE_CLAIMS: [&str; 5] = [
    "sub",
    "name",
    "preferred_username",
    "email",
    "email_verified",
];

/// Claims the protocol itself sets: no scope may release them and no attribute may be
/// called so (a user attribute must never pass for `iss` or for approval evidence).
pub const PROTOCOL_CLAIMS: [&str; 19] = [
    "iss",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "nonce",
    "auth_time",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "c_hash",
    "sid",
    "approval",
    "scope",
    "client_id",
    "grant_id",
    "cnf",
];

/// The claims released to a token for one user and one set of scopes.
#[derive(Debug, Clone, Default)]
pub struct Released {
    /// Every released claim, `sub` included: ID tokens and userinfo.
    pub all: Map<String, Value>,
    /// The routing claims among them (`groups`, custom attributes): access tokens.
    pub routing: Map<String, Value>,
}

/// The claims `scopes` release for `user`.
pub fn released(c: &mut DbConn, user: &UserRow, scopes: &ScopeSet) -> Result<Released, StoreError> {
    let names: Vec<&str> = scopes.iter().collect();
    let wanted: BTreeSet<String> = store::claim_lists_of(c, &names)?
        .iter()
        .flat_map(|list| decode_list(list))
        .collect();
    let routing_wanted = wanted
        .iter()
        .any(|claim| !PROFILE_CLAIMS.contains(&claim.as_str()));
    let attributes = match routing_wanted {
        true => store::user_attributes(c, &user.id)?,
        false => Default::default(),
    };
    let mut released = Released::default();
    released.all.insert("sub".into(), user.id.as_str().into());
    for claim in wanted {
        let value: Option<Value> = match claim.as_str() {
            "sub" => continue,
            "name" => Some(
                user.name
                    .clone()
                    .unwrap_or_else(|| user.username.clone())
                    .into(),
            ),
            "preferred_username" => Some(user.username.clone().into()),
            "email" => Some(user.email.clone().into()),
            // Addresses are entered by administrators, not verified by a mail round trip.
            "email_verified" => Some(false.into()),
            "groups" => Some(store::groups_of_user(c, &user.id)?.into()),
            other => attributes.get(other).map(|v| v.clone().into()),
        };
        let Some(value) = value else { continue };
        if !PROFILE_CLAIMS.contains(&claim.as_str()) {
            released.routing.insert(claim.clone(), value.clone());
        }
        released.all.insert(claim, value);
    }
    Ok(released)
}

/// The claims an ID token carries besides the released ones.
const ID_TOKEN_CLAIMS: [&str; 11] = [
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
    "approval",
];

/// Every claim this provider can release (discovery `claims_supported`): the ID token's,
/// the profile's, and whatever the configured scopes name.
pub fn claims_supported(scopes: &[store::ScopeRow]) -> Vec<String> {
    let mut claims: BTreeSet<String> = ID_TOKEN_CLAIMS
        .iter()
        .chain(PROFILE_CLAIMS.iter())
        .map(|c| (*c).to_owned())
        .collect();
    for scope in scopes {
        claims.extend(decode_list(&scope.claims));
    }
    claims.into_iter().collect()
}
