//! Scopes and their approval policy (DESIGN.md §5.3).

use serde_json::json;

use super::groups::require_group;
use super::{conflict, is_token, ManageError};
use crate::approval::policy::ApproverGroup;
use crate::approval::ApproverFactor;
use crate::audit::{self, Actor, AuditAction};
use crate::oidc::claims::PROTOCOL_CLAIMS;
use crate::store::{self, decode_list, encode_list, ScopeRow, Store};

/// Fields to set on a scope; `None` leaves a field as it is (on add: its default).
#[derive(Debug, Default, Clone)]
pub struct ScopeChanges {
    /// Shown on the consent page.
    pub description: Option<String>,
    /// Claims the scope releases (userinfo, ID token).
    pub claims: Option<Vec<String>>,
    /// Whether the scope needs a countersignature.
    pub sensitive: Option<bool>,
    /// Groups whose members approve.
    pub approver_groups: Option<Vec<String>>,
    /// Approvals needed from each group.
    pub quorum: Option<i64>,
    /// How long a request may wait (seconds).
    pub pending_ttl: Option<i64>,
    /// How long access lasts once approved (seconds).
    pub access_duration: Option<i64>,
    /// Whether the requester must justify the request.
    pub require_justification: Option<bool>,
    /// How recent an approver's login must be (seconds).
    pub approver_max_age: Option<i64>,
    /// Approvers may decide inside Slack or Teams.
    pub allow_chat_decisions: Option<bool>,
    /// The second factor each approver presents at the decision.
    pub approver_factor: Option<ApproverFactor>,
    /// The subject (the user the request is for) must confirm too.
    pub subject_confirms: Option<bool>,
}

const DEFAULT_PENDING_TTL: i64 = 15 * 60;
const DEFAULT_ACCESS_DURATION: i64 = 3600;
const DEFAULT_APPROVER_MAX_AGE: i64 = 10 * 60;

impl ScopeChanges {
    fn touches_policy(&self) -> bool {
        self.sensitive.is_some()
            || self.approver_groups.is_some()
            || self.quorum.is_some()
            || self.pending_ttl.is_some()
            || self.access_duration.is_some()
            || self.require_justification.is_some()
            || self.approver_max_age.is_some()
            || self.allow_chat_decisions.is_some()
            || self.approver_factor.is_some()
            || self.subject_confirms.is_some()
    }

    fn apply(self, row: &mut ScopeRow) -> Result<(), ManageError> {
        if let Some(description) = self.description {
            row.description = description;
        }
        if let Some(claims) = self.claims {
            row.claims = encode_list(&claims);
        }
        if let Some(sensitive) = self.sensitive {
            row.sensitive = sensitive;
            // Only a sensitive scope has approvers (see `check`); making it not
            // sensitive drops them unless new ones are given (which `check` refuses).
            if !sensitive && self.approver_groups.is_none() {
                row.approver_groups.clear();
            }
        }
        if let Some(entries) = self.approver_groups {
            row.approver_groups = entries
                .iter()
                .map(|entry| {
                    ApproverGroup::parse(entry).ok_or_else(|| {
                        ManageError::Invalid(format!(
                            "--approvers entry {entry:?} must be GROUP or GROUP:N with N at least 1"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(quorum) = self.quorum {
            row.quorum = i32::try_from(quorum)
                .map_err(|_| ManageError::Invalid("quorum is too large".into()))?;
        }
        if let Some(ttl) = self.pending_ttl {
            row.pending_ttl = ttl;
        }
        if let Some(duration) = self.access_duration {
            row.access_duration = duration;
        }
        if let Some(required) = self.require_justification {
            row.require_justification = required;
        }
        if let Some(age) = self.approver_max_age {
            row.approver_max_age = age;
        }
        if let Some(allowed) = self.allow_chat_decisions {
            row.allow_chat_decisions = allowed;
        }
        if let Some(factor) = self.approver_factor {
            row.approver_factor = factor;
        }
        if let Some(confirms) = self.subject_confirms {
            row.subject_confirms = confirms;
        }
        Ok(())
    }
}

/// Checks a scope row as a whole; approver groups must exist.
fn check(c: &mut store::DbConn, row: &ScopeRow) -> Result<(), ManageError> {
    if row.description.trim().is_empty() {
        return Err(ManageError::Invalid("a scope needs a --description".into()));
    }
    if row.quorum < 1 {
        return Err(ManageError::Invalid("--quorum must be at least 1".into()));
    }
    let groups = &row.approver_groups;
    if row.sensitive && groups.is_empty() {
        return Err(ManageError::Invalid(format!(
            "sensitive scope {:?} needs --approvers GROUP[,GROUP]",
            row.name
        )));
    }
    if !row.sensitive && !groups.is_empty() {
        return Err(ManageError::Invalid(
            "--approvers only applies to a --sensitive scope".into(),
        ));
    }
    if row.approver_factor != ApproverFactor::None && row.allow_chat_decisions {
        return Err(ManageError::Invalid(format!(
            "--approver-factor {} is presented on the approval page: it cannot be combined with --chat-decisions",
            row.approver_factor
        )));
    }
    for entry in groups {
        require_group(c, &entry.group)?;
    }
    for claim in decode_list(&row.claims) {
        if !is_token(&claim) {
            return Err(ManageError::Invalid(format!(
                "claim name {claim:?} is not valid"
            )));
        }
        // The protocol sets these itself; a scope releasing one would let a user
        // attribute pass for it.
        if PROTOCOL_CLAIMS.contains(&claim.as_str()) {
            return Err(ManageError::Invalid(format!(
                "claim {claim:?} is set by the protocol; a scope cannot release it"
            )));
        }
    }
    Ok(())
}

/// Creates a scope.
pub fn add_scope(
    store: &Store,
    name: &str,
    changes: ScopeChanges,
    actor: &Actor,
    now: i64,
) -> Result<ScopeRow, ManageError> {
    if !is_token(name) {
        return Err(ManageError::Invalid(format!(
            "scope name {name:?} must be printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3)"
        )));
    }
    let mut row = ScopeRow {
        name: name.into(),
        description: String::new(),
        claims: "[]".into(),
        builtin: false,
        sensitive: false,
        approver_groups: Vec::new(),
        quorum: 1,
        pending_ttl: DEFAULT_PENDING_TTL,
        access_duration: DEFAULT_ACCESS_DURATION,
        require_justification: false,
        approver_max_age: DEFAULT_APPROVER_MAX_AGE,
        allow_chat_decisions: false,
        approver_factor: ApproverFactor::None,
        policy_version: 1,
        created_at: now,
        updated_at: now,
        subject_confirms: false,
    };
    changes.apply(&mut row)?;
    store.write(|c| {
        check(c, &row)?;
        store::insert_scope(c, &row).map_err(conflict(format!("scope {name:?} already exists")))?;
        audit::record(
            c,
            actor,
            AuditAction::ScopeCreated,
            &format!("scope:{name}"),
            json!({"before": null, "after": row}),
            now,
        )?;
        Ok(row.clone())
    })
}

/// Changes a scope; a policy change bumps its `policy_version`.
pub fn update_scope(
    store: &Store,
    name: &str,
    changes: ScopeChanges,
    actor: &Actor,
    now: i64,
) -> Result<ScopeRow, ManageError> {
    store.write(|c| {
        let before = store::scope_by_name(c, name)?
            .ok_or_else(|| ManageError::NotFound(format!("no scope named {name:?}")))?;
        let mut row = before.clone();
        let bump = changes.touches_policy();
        changes.apply(&mut row)?;
        if bump {
            row.policy_version += 1;
        }
        row.updated_at = now;
        check(c, &row)?;
        store::update_scope(c, &row)?;
        audit::record(
            c,
            actor,
            AuditAction::ScopeUpdated,
            &format!("scope:{name}"),
            json!({"before": before, "after": row}),
            now,
        )?;
        Ok(row)
    })
}

/// Every scope.
pub fn list_scopes(store: &Store) -> Result<Vec<ScopeRow>, ManageError> {
    Ok(store.read(store::list_scopes)?)
}
