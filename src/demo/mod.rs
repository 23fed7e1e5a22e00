//! `serve --demo`: seeds (idempotently) everything a newcomer needs to walk a
//! countersigned login in two browser windows: users alice (requester), bob and carol
//! (group `approvers`), admin (group `admins`), the sensitive scope `payments:write`
//! (one approval from `approvers`) and a public demo client for the relying party at
//! `/demo`. Every change goes through the admin domain, so it is audited.

mod relying_party;

pub use relying_party::{DemoFailure, Finished, Started};

use secrecy::SecretString;

use crate::audit::Actor;
use crate::crypto;
use crate::ids::ClientId;
use crate::manage::{self, ClientSpec, ManageError, NewUser, ScopeChanges};
use crate::store::{decode_list, Store};

/// The demo client's display name (it is found by name on later starts).
pub const CLIENT_NAME: &str = "countersign demo";
/// The sensitive scope of the demo.
pub const SENSITIVE_SCOPE: &str = "payments:write";

/// What the demo needs at run time.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The demo client's id.
    pub client_id: ClientId,
    /// Its redirect URI (`<issuer>/demo/callback`).
    pub redirect_uri: String,
}

/// What seeding did: the demo, and the users created now with their passwords.
#[derive(Debug)]
pub struct Seeded {
    /// Runtime settings of the demo RP.
    pub demo: Demo,
    /// `(username, password)` of users created by this run (shown once).
    pub new_users: Vec<(String, String)>,
}

const USERS: [(&str, &str, &[&str]); 4] = [
    ("alice", "Alice Requester", &[]),
    ("bob", "Bob Approver", &["approvers"]),
    ("carol", "Carol Approver", &["approvers"]),
    ("admin", "Ada Admin", &["admins"]),
];

fn ignore_conflict<T>(result: Result<T, ManageError>) -> Result<(), ManageError> {
    match result {
        Ok(_) | Err(ManageError::Conflict(_)) => Ok(()),
        Err(other) => Err(other),
    }
}

/// Seeds the demo data; running it again changes nothing (and prints no passwords).
pub fn seed(store: &Store, issuer: &str, now: i64) -> Result<Seeded, ManageError> {
    let actor = Actor::System;
    for group in ["approvers", "admins"] {
        ignore_conflict(manage::add_group(store, group, &actor, now))?;
    }
    let existing: Vec<String> = manage::list_users(store)?
        .into_iter()
        .map(|u| u.username)
        .collect();
    let mut new_users = Vec::new();
    for (username, name, groups) in USERS {
        if !existing.iter().any(|u| u == username) {
            let password = crypto::random_id(9);
            let user = NewUser {
                username: username.into(),
                email: format!("{username}@example.com"),
                name: Some(name.into()),
                password: Some(SecretString::from(password.clone())),
            };
            manage::add_user(store, user, &actor, now)?;
            new_users.push((username.to_owned(), password));
        }
        for group in groups {
            ignore_conflict(manage::add_member(store, group, username, &actor, now))?;
        }
    }
    if !manage::list_scopes(store)?
        .iter()
        .any(|s| s.name == SENSITIVE_SCOPE)
    {
        let policy = ScopeChanges {
            description: Some("Make payments from your account".into()),
            sensitive: Some(true),
            approver_groups: Some(vec!["approvers".into()]),
            quorum: Some(1),
            ..ScopeChanges::default()
        };
        manage::add_scope(store, SENSITIVE_SCOPE, policy, &actor, now)?;
    }
    let redirect_uri = format!("{issuer}/demo/callback");
    let found = manage::list_clients(store)?
        .into_iter()
        .find(|c| c.name == CLIENT_NAME);
    let client_id = match found {
        Some(client) if decode_list(&client.redirect_uris).contains(&redirect_uri) => {
            client.client_id
        }
        other => {
            if let Some(stale) = other {
                // The issuer changed since the last run: re-register with the new address.
                manage::remove_client(store, stale.client_id.as_str(), &actor, now)?;
            }
            let spec = ClientSpec {
                name: CLIENT_NAME.into(),
                redirect_uris: vec![redirect_uri.clone()],
                scopes: [
                    "openid",
                    "profile",
                    "email",
                    "offline_access",
                    SENSITIVE_SCOPE,
                ]
                .map(String::from)
                .to_vec(),
                public: true,
                post_logout_redirect_uris: vec![format!("{issuer}/demo")],
                grant_types: vec![],
                id_token_alg: Default::default(),
                access_token_alg: Default::default(),
                ..Default::default()
            };
            manage::add_client(store, spec, &actor, now)?.row.client_id
        }
    };
    Ok(Seeded {
        demo: Demo {
            client_id,
            redirect_uri,
        },
        new_users,
    })
}
