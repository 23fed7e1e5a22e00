//! Applies the approval rules in force ([`super::rules`]), with the decision hooks'
//! verdicts ([`super::hooks`]), to an approval about to be created: loads the latest
//! rule set (parsed once per version) and what the rules see of the requester (their
//! groups and attributes), and evaluates. Runs in the creating transaction, so the
//! decision and the version it used are recorded with the approval.

use std::sync::{Arc, Mutex};

use super::rules::{RuleDecision, RuleInput, RuleOutcome, RuleSet};
use super::service::NewApproval;
use crate::store::{self, DbConn, StoreError};

/// The rules' decision about `new`, or `None` when no rules are set. A stored rule set
/// that no longer parses (it was checked when set) sends everything to humans.
pub fn rule_decision(
    c: &mut DbConn,
    new: &NewApproval,
    now: i64,
) -> Result<Option<RuleDecision>, StoreError> {
    let stored = store::current_rules(c)?;
    if stored.is_none() && new.hook_verdicts.is_empty() {
        return Ok(None);
    }
    let (version, text) = stored.unwrap_or((0, String::new()));
    let rules = match parsed(version, &text) {
        Ok(rules) => rules,
        Err(error) => {
            tracing::error!(version, %error, "stored approval rules do not parse");
            let hook_denies = new.hook_verdicts.iter().any(|h| h.denies());
            return Ok(Some(RuleDecision {
                version,
                outcome: match hook_denies {
                    true => RuleOutcome::Deny,
                    false => RuleOutcome::Require,
                },
                rules: Vec::new(),
                groups: Vec::new(),
                errors: vec![error],
                hooks: new.hook_verdicts.clone(),
            }));
        }
    };
    let Some(requester) = store::user_by_id(c, &new.requester_id)? else {
        return Err(StoreError::NotFound);
    };
    let groups = store::groups_of_user(c, &requester.id)?;
    let attributes = store::user_attributes(c, &requester.id)?;
    let input = RuleInput {
        username: &requester.username,
        groups: &groups,
        attributes: &attributes,
        client_id: new.client_id.as_str(),
        scopes: new.scopes.iter().collect(),
        // The requested ones only: a scope that is there as an action type's policy
        // is judged through the action type's entries.
        sensitive_scopes: new
            .requirements
            .sensitive_scopes
            .iter()
            .map(String::as_str)
            .filter(|s| new.scopes.contains(s))
            .collect(),
        details: new.details.as_ref(),
        channel: if new.backchannel { "back" } else { "front" },
        hooks: &new.hook_verdicts,
        now,
    };
    Ok(Some(rules.evaluate(&input)))
}

/// The rule set of `version`, parsed once: a stored version never changes (a new set
/// is a new version), so the last one parsed is kept for the next approval. It is
/// matched by its text too, as one process may serve several databases (the tests do).
fn parsed(version: i32, text: &str) -> Result<Arc<RuleSet>, String> {
    type Kept = Option<(i32, String, Arc<RuleSet>)>;
    static LAST: Mutex<Kept> = Mutex::new(None);
    if version == 0 {
        return Ok(Arc::new(RuleSet::empty()));
    }
    let kept = LAST.lock().ok().and_then(|last| {
        last.as_ref()
            .filter(|(v, t, _)| *v == version && t == text)
            .map(|(_, _, rules)| rules.clone())
    });
    if let Some(rules) = kept {
        return Ok(rules);
    }
    let rules = Arc::new(RuleSet::parse(version, text)?);
    if let Ok(mut last) = LAST.lock() {
        *last = Some((version, text.to_owned(), rules.clone()));
    }
    Ok(rules)
}
