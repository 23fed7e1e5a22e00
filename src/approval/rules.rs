//! Approval rules (DESIGN.md §5.3; issue 20): Cedar policies an admin writes over
//! each request, evaluated when its approval is created. Cedar is used rather than an
//! invented language (README "Approval rules" says why): it is analysable, has no
//! side effects and no loops, and its `forbid` overrides `permit`, which is exactly
//! "deny wins".
//!
//! Every sensitive part of a request is evaluated on its own: each sensitive scope
//! (resource `Scope::"payments:write"`) and each `authorization_details` entry
//! (resource `ActionType::"payment"`, the entry in `context.details`). The action is
//! always `Action::"request"`. On the front channel the principal is the signed-in
//! `User::"<username>"` (with `groups`, `attributes`, and a member of each of its
//! `Group::"<name>"`s); on the back channel (CIBA) nobody signed in and the client
//! names the subject, so the principal is `Client::"<client_id>"`. Either way
//! `context.subject` holds `{username, groups, attributes}` of the user the request
//! is for (on the back channel, as the client asserted it), and the context holds
//! `client`, `scopes`, `hour` and `weekday` (UTC; Monday is 1) and `channel` (`front`
//! or `back`). Numbers with a fraction reach Cedar as strings (Cedar has integers
//! only), and object keys starting with `__` (Cedar's escapes) are prefixed with `x`.
//!
//! What a satisfied policy does:
//! - `forbid`: the request is denied at once (deny wins over everything);
//! - `permit` annotated `@require("finance:2 security")`: those groups must approve
//!   too, with those quorums, on top of the scope's own policy (the stricter wins);
//! - `permit` without `@require`: that part is approved without a human.
//!
//! The request is approved by rule only when every sensitive part is; a part no rule
//! matched, or whose evaluation erred, goes to the humans the policy names.

use std::collections::BTreeMap;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Effect, Entities, EntityUid, PolicySet, Request,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::details::AuthorizationDetails;
use super::hooks::{HookOutcome, HookVerdict};
use super::policy::{ApproverGroup, GroupQuorum};

/// A parsed, checked rule set and its version.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// Its version (one per `rules set`).
    pub version: i32,
    policies: PolicySet,
}

/// What the rules decided about a request, as recorded with the approval and in the
/// tokens' `approval` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleDecision {
    /// The rule set's version.
    pub version: i32,
    /// `approve`, `deny` or `require` (humans, maybe more of them), or `none`.
    pub outcome: RuleOutcome,
    /// The ids of the rules that made it (`@id` annotations, else Cedar's ids).
    pub rules: Vec<String>,
    /// Groups the rules added, with their quorums.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupQuorum>,
    /// Parts of the request whose evaluation erred (they go to humans).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// What the decision hooks said, and whether a degraded mode was used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookVerdict>,
}

/// The outcome of the rules for a whole request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleOutcome {
    /// Every sensitive part was approved by a rule.
    Approve,
    /// A `forbid` rule matched.
    Deny,
    /// Humans decide (with the groups the rules added, if any).
    Require,
    /// No rule matched anything.
    None,
}

/// Who asks, and for what.
#[derive(Debug, Clone)]
pub struct RuleInput<'a> {
    /// The requester's username.
    pub username: &'a str,
    /// Their groups.
    pub groups: &'a [String],
    /// Their attributes.
    pub attributes: &'a BTreeMap<String, String>,
    /// The client asking.
    pub client_id: &'a str,
    /// Every requested scope.
    pub scopes: Vec<&'a str>,
    /// The sensitive ones (each evaluated).
    pub sensitive_scopes: Vec<&'a str>,
    /// The request's details (each entry evaluated).
    pub details: Option<&'a AuthorizationDetails>,
    /// `front` (browser) or `back` (CIBA).
    pub channel: &'static str,
    /// What the decision hooks said about the details' entries.
    pub hooks: &'a [HookVerdict],
    /// Now (unix seconds).
    pub now: i64,
}

impl RuleSet {
    /// No rules (version 0): only decision hooks can decide.
    pub fn empty() -> Self {
        RuleSet {
            version: 0,
            policies: PolicySet::new(),
        }
    }

    /// Parses and checks a rule set: Cedar syntax, and `@require` values that name
    /// groups as `GROUP` or `GROUP:N`.
    pub fn parse(version: i32, text: &str) -> Result<Self, String> {
        let policies = PolicySet::from_str(text).map_err(|e| format!("not Cedar: {e}"))?;
        if policies.templates().next().is_some() {
            return Err("templates are not supported; write plain policies".into());
        }
        for policy in policies.policies() {
            let required = policy.annotation("require");
            if policy.effect() == Effect::Forbid && required.is_some() {
                return Err(format!(
                    "rule {} is a forbid with @require: a forbid denies, it requires nobody",
                    name_of(policy)
                ));
            }
            if let Some(groups) = required {
                parse_groups(groups).map_err(|e| format!("rule {}: {e}", name_of(policy)))?;
            }
        }
        Ok(RuleSet { version, policies })
    }

    /// The names of the groups every `@require` mentions (they must exist).
    pub fn required_groups(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for policy in self.policies.policies() {
            let groups = policy
                .annotation("require")
                .and_then(|g| parse_groups(g).ok())
                .unwrap_or_default();
            for group in groups {
                if !names.contains(&group.group) {
                    names.push(group.group);
                }
            }
        }
        names
    }

    /// Evaluates every sensitive part of the request and combines the outcomes.
    pub fn evaluate(&self, input: &RuleInput<'_>) -> RuleDecision {
        let mut parts: Vec<(String, Value, Option<usize>)> = input
            .sensitive_scopes
            .iter()
            .map(|scope| (format!("Scope::{}", quoted(scope)), json!({}), None))
            .collect();
        if let Some(details) = input.details {
            for (index, entry) in details.entries().iter().enumerate() {
                let kind = entry
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                parts.push((
                    format!("ActionType::{}", quoted(kind)),
                    cedar_safe(entry),
                    Some(index),
                ));
            }
        }
        let mut decision = RuleDecision {
            version: self.version,
            outcome: RuleOutcome::None,
            rules: Vec::new(),
            groups: Vec::new(),
            errors: Vec::new(),
            hooks: input.hooks.to_vec(),
        };
        let entities = match principal_entities(input) {
            Ok(entities) => entities,
            Err(error) => {
                decision.errors.push(error);
                decision.outcome = match input.hooks.iter().any(HookVerdict::denies) {
                    true => RuleOutcome::Deny,
                    false => RuleOutcome::Require,
                };
                return decision;
            }
        };
        let (mut all_approved, mut denied) = (!parts.is_empty(), false);
        for (resource, details, entry) in parts {
            let hook = entry.and_then(|i| input.hooks.iter().find(|h| h.entry == i));
            // A part the rules could not evaluate still hears its hook (a deny stands).
            let evaluated = match self.evaluate_part(input, &entities, &resource, details) {
                Ok(part) => Ok(with_hook(part, hook)),
                Err(error) if hook.is_some_and(HookVerdict::denies) => {
                    decision.errors.push(format!("{resource}: {error}"));
                    Ok(with_hook(
                        Part {
                            erred: true,
                            ..Part::default()
                        },
                        hook,
                    ))
                }
                Err(error) => Err(error),
            };
            match evaluated {
                Err(error) => {
                    decision.errors.push(format!("{resource}: {error}"));
                    all_approved = false;
                }
                Ok(part) => {
                    if part.erred {
                        decision
                            .errors
                            .push(format!("{resource}: a rule could not be evaluated"));
                    }
                    denied |= part.denied;
                    all_approved &= part.approved;
                    for rule in part.rules {
                        if !decision.rules.contains(&rule) {
                            decision.rules.push(rule);
                        }
                    }
                    for group in part.groups {
                        add_group(&mut decision.groups, group);
                    }
                }
            }
        }
        decision.outcome = if denied {
            RuleOutcome::Deny
        } else if all_approved {
            RuleOutcome::Approve
        } else if decision.rules.is_empty()
            && decision.errors.is_empty()
            && decision.hooks.is_empty()
        {
            RuleOutcome::None
        } else {
            RuleOutcome::Require
        };
        decision
    }

    fn evaluate_part(
        &self,
        input: &RuleInput<'_>,
        entities: &Entities,
        resource: &str,
        details: Value,
    ) -> Result<Part, String> {
        // On the back channel nobody signed in: the client names the subject, so the
        // client is the principal, and the subject is context the client asserted.
        let principal = match input.channel {
            "back" => uid(&format!("Client::{}", quoted(input.client_id)))?,
            _ => uid(&format!("User::{}", quoted(input.username)))?,
        };
        let action = uid("Action::\"request\"")?;
        let resource = uid(resource)?;
        let (hour, weekday) = clock(input.now);
        let context = Context::from_json_value(
            json!({"client": input.client_id, "scopes": input.scopes, "hour": hour,
                "weekday": weekday, "channel": input.channel, "details": details,
                "subject": subject_record(input)}),
            None,
        )
        .map_err(|e| e.to_string())?;
        let request =
            Request::new(principal, action, resource, context, None).map_err(|e| e.to_string())?;
        let response = Authorizer::new().is_authorized(&request, &self.policies, entities);
        let erred = response.diagnostics().errors().next().is_some();
        let mut satisfied: Vec<&cedar_policy::Policy> = response
            .diagnostics()
            .reason()
            .filter_map(|id| self.policies.policy(id))
            .collect();
        // Cedar reports reasons as a set: sorted, the record is the same every time.
        satisfied.sort_by_key(|p| name_of(p));
        let mut part = Part {
            erred,
            ..Part::default()
        };
        if response.decision() == Decision::Deny && !satisfied.is_empty() {
            // Cedar names the satisfied forbids as the reason of a deny.
            part.denied = true;
            part.rules = satisfied.iter().map(|p| name_of(p)).collect();
            return Ok(part);
        }
        for policy in &satisfied {
            part.rules.push(name_of(policy));
            match policy.annotation("require") {
                None => part.approved = true,
                Some(groups) => {
                    for group in parse_groups(groups)? {
                        add_group(&mut part.groups, group);
                    }
                }
            }
        }
        // A @require among the satisfied rules, or an error anywhere, keeps humans in.
        part.approved &= part.groups.is_empty() && !erred;
        Ok(part)
    }
}

/// A part as its decision hook leaves it: a hook's deny (or a failure whose degraded
/// mode is deny) denies; its approve approves unless rules asked for more approvers;
/// its require adds approvers; a failure with the `human` mode approves nothing.
fn with_hook(mut part: Part, hook: Option<&HookVerdict>) -> Part {
    let Some(hook) = hook else {
        return part;
    };
    part.rules.push(format!("hook:{}", hook.action_type));
    if hook.denies() {
        part.denied = true;
        return part;
    }
    match hook.outcome {
        HookOutcome::Approve => part.approved = part.groups.is_empty() && !part.erred,
        HookOutcome::Require => {
            for group in &hook.groups {
                add_group(&mut part.groups, group.clone());
            }
            part.approved = false;
        }
        HookOutcome::Deny | HookOutcome::Failed => part.approved = false,
    }
    part
}

/// What the rules said about one part.
#[derive(Debug, Default)]
struct Part {
    erred: bool,
    denied: bool,
    approved: bool,
    rules: Vec<String>,
    groups: Vec<GroupQuorum>,
}

/// Merges a group into a list, keeping the higher quorum.
pub fn add_group(groups: &mut Vec<GroupQuorum>, group: GroupQuorum) {
    match groups.iter_mut().find(|g| g.group == group.group) {
        Some(existing) => existing.quorum = existing.quorum.max(group.quorum),
        None => groups.push(group),
    }
}

/// `@require("finance:2 security")`.
fn parse_groups(text: &str) -> Result<Vec<GroupQuorum>, String> {
    let groups: Vec<GroupQuorum> = text
        .split_whitespace()
        .map(|entry| {
            ApproverGroup::parse(entry)
                .map(|g| GroupQuorum {
                    quorum: g.quorum_or(1),
                    group: g.group,
                })
                .ok_or_else(|| format!("@require entry {entry:?} must be GROUP or GROUP:N"))
        })
        .collect::<Result<_, _>>()?;
    if groups.is_empty() {
        return Err("@require names no group".into());
    }
    Ok(groups)
}

fn name_of(policy: &cedar_policy::Policy) -> String {
    policy
        .annotation("id")
        .map_or_else(|| policy.id().to_string(), str::to_owned)
}

fn uid(text: &str) -> Result<EntityUid, String> {
    EntityUid::from_str(text).map_err(|e| e.to_string())
}

/// A Cedar string literal.
fn quoted(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// The principal and its groups as Cedar entities.
fn principal_entities(input: &RuleInput<'_>) -> Result<Entities, String> {
    let attributes: Map<String, Value> = input
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let parents: Vec<Value> = input
        .groups
        .iter()
        .map(|g| json!({"type": "Group", "id": g}))
        .collect();
    let mut entities = vec![json!({
        "uid": {"type": "User", "id": input.username},
        "attrs": {"username": input.username, "groups": input.groups, "attributes": attributes},
        "parents": parents,
    })];
    for group in input.groups {
        entities.push(json!({"uid": {"type": "Group", "id": group}, "attrs": {}, "parents": []}));
    }
    entities.push(json!({"uid": {"type": "Client", "id": input.client_id},
        "attrs": {"client_id": input.client_id}, "parents": []}));
    Entities::from_json_value(Value::Array(entities), None).map_err(|e| e.to_string())
}

/// `context.subject`: who the request is for, as the rules see them (signed in on
/// the front channel; named by the client on the back channel).
fn subject_record(input: &RuleInput<'_>) -> Value {
    let attributes: Map<String, Value> = input
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({"username": input.username, "groups": input.groups, "attributes": attributes})
}

/// JSON as Cedar takes it: numbers with a fraction (and integers beyond i64) become
/// strings, since Cedar has 64-bit integers only; nulls are dropped.
fn cedar_safe(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.as_i64().is_none() => Value::String(n.to_string()),
        Value::Array(items) => Value::Array(items.iter().map(cedar_safe).collect()),
        // `__extn`, `__entity` and `__expr` are Cedar's own escapes in JSON: a client's
        // key never becomes one.
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| match k.starts_with("__") {
                    true => (format!("x{k}"), cedar_safe(v)),
                    false => (k.clone(), cedar_safe(v)),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `(hour, weekday)` in UTC, Monday being 1.
fn clock(now: i64) -> (i64, i64) {
    use chrono::{Datelike, Timelike};
    chrono::DateTime::from_timestamp(now, 0).map_or((0, 1), |t| {
        (
            i64::from(t.hour()),
            i64::from(t.weekday().number_from_monday()),
        )
    })
}

#[cfg(test)]
mod tests;
