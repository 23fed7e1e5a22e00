//! Signing in through an upstream provider, once its ID token is verified (issue 22):
//! the local user is found by the upstream `iss` + `sub` (OIDC Core §2: the pair is
//! the only stable identifier; an email address may be reassigned or unverified, so it
//! never links), or created without a password; the mapped groups follow what the
//! upstream says at every sign-in; then a session starts exactly as after a password
//! (the previous one ended). All in one transaction.

use std::collections::BTreeSet;

use serde_json::json;

use super::sessions::{self, SessionPolicy};
use crate::audit::{self, Actor, AuditAction};
use crate::crypto;
use crate::ids::{RequestId, SessionToken, UserId};
use crate::store::{self, DbConn, StoreError, UserRow};
use crate::upstream::Identity;

/// The RFC 8176 methods that, in a session, stand for a factor this server checked.
const LOCAL_FACTORS: [&str; 3] = ["otp", "hwk", "swk"];

/// One brokered sign-in to apply.
#[derive(Debug)]
pub struct Brokered<'a> {
    /// The upstream's name.
    pub upstream: &'a str,
    /// `(upstream group, local group)` pairs.
    pub group_map: &'a [(String, String)],
    /// Who the upstream says signed in.
    pub identity: &'a Identity,
    /// Client address (audit).
    pub ip: &'a str,
    /// The browser's session, ended (the id is rotated).
    pub previous_session: Option<&'a SessionToken>,
    /// The authorization request signed in for, if any (`prompt=login` bookkeeping).
    pub request: Option<&'a str>,
}

/// What a brokered sign-in came to.
#[derive(Debug)]
pub enum BrokeredOutcome {
    /// Signed in: the new session's cookie value.
    Success(SessionToken),
    /// The linked local user is disabled.
    Disabled,
}

/// Links or creates the user, maps groups, starts the session and audits it.
pub fn sign_in(
    c: &mut DbConn,
    login: &Brokered<'_>,
    policy: SessionPolicy,
    now: i64,
) -> Result<BrokeredOutcome, StoreError> {
    let identity = login.identity;
    let user = match store::linked_user(c, &identity.issuer, &identity.subject)? {
        Some(id) => store::user_by_id(c, &id)?.ok_or(StoreError::NotFound)?,
        None => create(c, login, now)?,
    };
    if user.disabled {
        let details = json!({"ip": login.ip, "via": via(login), "reason": "disabled"});
        audit::record(
            c,
            &Actor::Anonymous,
            AuditAction::LoginFailed,
            &format!("user:{}", user.username),
            details,
            now,
        )?;
        return Ok(BrokeredOutcome::Disabled);
    }
    let (added, removed) = map_groups(c, &user.id, login)?;
    if let Some(previous) = login.previous_session {
        sessions::end(c, previous)?;
    }
    // RFC 8176: "fed", federated authentication, plus what the upstream reported;
    // but not the factor methods countersign proves itself (`otp`, `hwk`, `swk`):
    // here they mean a factor checked by this server (the console's and the account
    // page's step-up trust them), never one an upstream says it checked.
    let mut amr = vec!["fed"];
    amr.extend(
        identity
            .amr
            .iter()
            .map(String::as_str)
            .filter(|m| is_amr(m) && !LOCAL_FACTORS.contains(m)),
    );
    let cookie = sessions::start(c, &user.id, &amr, now, policy)?;
    let session_hash = crypto::sha256_hex(cookie.expose().as_bytes());
    store::insert_upstream_session(c, &session_hash, login.upstream, &identity.id_token)?;
    if let Some(request) = login.request.and_then(|id| RequestId::parse(id).ok()) {
        store::note_request_login(c, &request, now)?;
    }
    let details = json!({"ip": login.ip, "amr": amr, "via": via(login),
        "groups_added": added, "groups_removed": removed});
    audit::record(
        c,
        &Actor::User(user.id.clone()),
        AuditAction::LoginSucceeded,
        &format!("user:{}", user.username),
        details,
        now,
    )?;
    Ok(BrokeredOutcome::Success(cookie))
}

fn via(login: &Brokered<'_>) -> String {
    format!("upstream:{}", login.upstream)
}

/// An `amr` value worth keeping: a short token (they end up in our ID tokens).
fn is_amr(value: &str) -> bool {
    !value.is_empty() && value.len() <= 32 && value.chars().all(|c| c.is_ascii_alphanumeric())
}

/// A new local user for an upstream identity: no password, linked by `iss` + `sub`.
fn create(c: &mut DbConn, login: &Brokered<'_>, now: i64) -> Result<UserRow, StoreError> {
    let identity = login.identity;
    let row = UserRow {
        id: UserId::new(uuid::Uuid::new_v4().to_string()),
        username: free_username(c, identity)?,
        email: identity.email.clone().unwrap_or_default(),
        name: identity.name.clone().filter(|n| !n.trim().is_empty()),
        password_hash: None,
        disabled: false,
        slack_user_id: None,
        teams_user_id: None,
        created_at: now,
    };
    store::insert_user(c, &row)?;
    store::insert_link(
        c,
        &identity.issuer,
        &identity.subject,
        &row.id,
        login.upstream,
        now,
    )?;
    let after = json!({"id": row.id, "username": row.username, "email": row.email,
        "name": row.name, "via": via(login), "upstream_subject": identity.subject});
    audit::record(
        c,
        &Actor::System,
        AuditAction::UserCreated,
        &format!("user:{}", row.username),
        json!({"before": null, "after": after}),
        now,
    )?;
    Ok(row)
}

/// `preferred_username` (else the email's local part, else "user") reduced to the
/// characters local usernames allow, with a number appended until it is free: an
/// upstream cannot claim an existing local account by naming it.
fn free_username(c: &mut DbConn, identity: &Identity) -> Result<String, StoreError> {
    let wanted = identity
        .preferred_username
        .clone()
        .or_else(|| {
            identity
                .email
                .as_deref()
                .map(|e| e.split('@').next().unwrap_or(e).to_owned())
        })
        .unwrap_or_default();
    let mut base: String = wanted
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        .take(56)
        .collect();
    if base.is_empty() {
        base = "user".into();
    }
    for n in 1..100 {
        let candidate = match n {
            1 => base.clone(),
            n => format!("{base}-{n}"),
        };
        if store::user_by_username(c, &candidate)?.is_none() {
            return Ok(candidate);
        }
    }
    let suffix: String = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .chars()
        .take(8)
        .collect();
    Ok(format!("{base}-{suffix}"))
}

/// Makes membership of every mapped local group follow the upstream's groups: joined
/// when a mapped upstream group is present, left when none is. Unmapped groups are
/// left alone. Returns the groups joined and left.
fn map_groups(
    c: &mut DbConn,
    user_id: &UserId,
    login: &Brokered<'_>,
) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let said: BTreeSet<&str> = login.identity.groups.iter().map(String::as_str).collect();
    let mapped: BTreeSet<&str> = login.group_map.iter().map(|(_, l)| l.as_str()).collect();
    let wanted: BTreeSet<&str> = login
        .group_map
        .iter()
        .filter(|(upstream, _)| said.contains(upstream.as_str()))
        .map(|(_, local)| local.as_str())
        .collect();
    let current = store::groups_of_user(c, user_id)?;
    let (mut added, mut removed) = (Vec::new(), Vec::new());
    for local in mapped {
        let Some(group) = store::group_by_name(c, local)? else {
            tracing::warn!(group = local, "a mapped local group no longer exists");
            continue;
        };
        let member = current.iter().any(|g| g == local);
        if wanted.contains(local) && !member {
            store::add_member(c, &group.id, user_id)?;
            added.push(local.to_owned());
        } else if !wanted.contains(local) && member {
            store::remove_member(c, &group.id, user_id)?;
            removed.push(local.to_owned());
        }
    }
    Ok((added, removed))
}
