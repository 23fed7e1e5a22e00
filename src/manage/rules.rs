//! Approval rules (issue 20; `approval::rules`): an admin replaces the Cedar policy set
//! as a whole; each replacement is a new version, checked first (Cedar syntax, the
//! `@require` groups exist) and audited with its text, so every past decision can be
//! explained by the version it names.

use serde_json::json;

use super::{conflict, ManageError};
use crate::approval::rules::RuleSet;
use crate::audit::{self, Actor, AuditAction};
use crate::crypto;
use crate::store::{self, Store};

/// Sets the rules in force; returns the new version.
pub fn set_rules(store: &Store, text: &str, actor: &Actor, now: i64) -> Result<i32, ManageError> {
    store.write(|c| {
        let version = store::current_rules(c)?.map_or(1, |(v, _)| v + 1);
        let rules = RuleSet::parse(version, text).map_err(ManageError::Invalid)?;
        for group in rules.required_groups() {
            if store::group_by_name(c, &group)?.is_none() {
                return Err(ManageError::NotFound(format!(
                    "@require names group {group:?}, which does not exist (see `group list`)"
                )));
            }
        }
        store::insert_rules(c, version, text, now)
            .map_err(conflict("the rules changed meanwhile; try again".into()))?;
        audit::record(
            c,
            actor,
            AuditAction::RulesUpdated,
            &format!("rules:{version}"),
            json!({"version": version, "sha256": crypto::sha256_hex(text.as_bytes()), "policies": text}),
            now,
        )?;
        Ok(version)
    })
}

/// The rules in force: `(version, text)`.
pub fn current_rules(store: &Store) -> Result<Option<(i32, String)>, ManageError> {
    Ok(store.read(store::current_rules)?)
}
