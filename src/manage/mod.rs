//! Configuration management: the domain calls behind the admin CLI (and, later, the admin
//! console). Every change is validated first, then written with its audit event (with
//! before/after) in one transaction; invalid input changes nothing.

mod action_types;
mod attributes;
mod clients;
mod groups;
mod keys;
mod notify;
mod rules;
mod scopes;
mod upstreams;
mod users;

pub use action_types::{
    add_action_type, describe_action_type, list_action_types, remove_action_type,
    update_action_type, ActionTypeChanges,
};
pub use attributes::{all_attributes, remove_attribute, set_attribute};
pub use clients::{
    add_client, list_clients, parse_grant_type, remove_client, rotate_client_secret, update_client,
    ClientChanges, ClientSpec, NewClient, SECRET_HASH_PREFIX,
};
pub use groups::{add_group, add_member, list_groups, remove_member};
pub use keys::{ensure_active_key, list_keys, rotate_keys};
pub use notify::{
    group_channels, link_chat, list_outbox, retry_outbox, set_group_notify, NotifyChanges,
};
pub use rules::{current_rules, set_rules};
pub use scopes::{add_scope, list_scopes, update_scope, ScopeChanges};
pub use upstreams::{
    add_upstream, group_map, list_upstreams, remove_upstream, NewUpstream, UpstreamSummary,
    UPSTREAM_SECRET_PURPOSE,
};
pub use users::{
    add_user, disable_user, display_names, list_users, reset_factors, set_password, NewUser,
};

use crate::store::StoreError;

/// Why an administrative change was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    /// The input is not acceptable; the message says why.
    #[error("{0}")]
    Invalid(String),
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Something with that name already exists.
    #[error("{0}")]
    Conflict(String),
    /// A crypto or encoding failure.
    #[error("{0}")]
    Internal(String),
    /// A storage failure (kept whole: an unavailable database answers 503).
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Maps a unique-key conflict to a readable message.
fn conflict(message: String) -> impl FnOnce(StoreError) -> ManageError {
    move |error| match error {
        StoreError::Conflict => ManageError::Conflict(message),
        other => other.into(),
    }
}

/// An endpoint countersign calls with something to protect (a decision hook, whose
/// answer decides; a CIBA ping, which carries a bearer token): https, or plain http
/// to this machine only (tests, a sidecar).
fn https_or_loopback(url: &url::Url) -> bool {
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    url.scheme() == "https" || (url.scheme() == "http" && loopback)
}

/// RFC 6749 §3.3 scope-token / general name check: printable ASCII without space,
/// `"` or `\`.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 128
        && text
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}
