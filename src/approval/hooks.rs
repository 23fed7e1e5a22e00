//! Decision hooks (issue 20): an action type may ask an external decision endpoint
//! about each of its `authorization_details` entries before the approval is created,
//! and declares its degraded mode: what a hook that fails, answers nonsense or times
//! out means (`deny`, or `human`: the policy's approvers decide). The verdicts join
//! the approval rules ([`super::rules`]): a hook's `deny` denies (deny wins), its
//! `approve` approves that entry as a plain Cedar `permit` would, its `require` adds
//! approvers. Whether the degraded mode was used is recorded with the decision.
//!
//! The call itself (a signed POST, bounded by the type's timeout) is made by
//! `crate::decision_hooks`, outside any database transaction; this module holds what
//! is asked and what an answer means.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::policy::{ApproverGroup, GroupQuorum};
use crate::named::named_enum;

named_enum! {
    /// What a hook that fails or times out means (the action type's degraded mode).
    pub enum HookFailure {
        /// The request is denied.
        Deny = "deny",
        /// The policy's approvers decide, as if there were no hook.
        Human = "human",
    }
}

/// One question to one hook: an entry of a request's `authorization_details`.
#[derive(Debug, Clone)]
pub struct HookCall {
    /// The action type.
    pub action_type: String,
    /// The entry's position in the request (0-based).
    pub entry: usize,
    /// The decision endpoint.
    pub url: String,
    /// How long it may take.
    pub timeout_ms: u64,
    /// Its degraded mode.
    pub failure: HookFailure,
    /// The JSON body sent.
    pub body: Value,
}

/// What a hook said about one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookVerdict {
    /// The action type.
    pub action_type: String,
    /// The entry's position in the request (0-based).
    pub entry: usize,
    /// `approve`, `deny`, `require`, or `failed`.
    pub outcome: HookOutcome,
    /// Approvers the hook asked for (`require`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupQuorum>,
    /// Set when the hook failed: the degraded mode that was applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degraded: Option<HookFailure>,
    /// The hook's reason, or why it failed (for the audit log; never from a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A hook's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HookOutcome {
    /// Approve this entry without a human.
    Approve,
    /// Deny the request.
    Deny,
    /// Humans decide, with these approvers added.
    Require,
    /// No usable answer: the degraded mode applies.
    Failed,
}

impl HookVerdict {
    /// The verdict of a hook that gave no usable answer: its degraded mode applies.
    pub fn failed(call: &HookCall, why: impl Into<String>) -> Self {
        HookVerdict {
            action_type: call.action_type.clone(),
            entry: call.entry,
            outcome: HookOutcome::Failed,
            groups: Vec::new(),
            degraded: Some(call.failure),
            reason: Some(why.into()),
        }
    }

    /// Reads a hook's 2xx JSON answer: `{"decision": "approve"|"deny"|"require",
    /// "groups": "finance:2 security" (for require), "reason": "…"}`.
    pub fn from_answer(call: &HookCall, answer: &Value) -> Self {
        let reason = answer
            .get("reason")
            .and_then(Value::as_str)
            .map(|r| r.chars().take(200).collect::<String>());
        let outcome = match answer.get("decision").and_then(Value::as_str) {
            Some("approve") => HookOutcome::Approve,
            Some("deny") => HookOutcome::Deny,
            Some("require") => HookOutcome::Require,
            _ => return Self::failed(call, "the answer has no decision approve, deny or require"),
        };
        let groups = match outcome {
            HookOutcome::Require => {
                let text = answer.get("groups").and_then(Value::as_str).unwrap_or("");
                let parsed: Option<Vec<GroupQuorum>> = text
                    .split_whitespace()
                    .map(|entry| {
                        ApproverGroup::parse(entry).map(|g| GroupQuorum {
                            quorum: g.quorum_or(1),
                            group: g.group,
                        })
                    })
                    .collect();
                match parsed.filter(|groups| !groups.is_empty()) {
                    Some(groups) => groups,
                    None => return Self::failed(call, "require without valid groups"),
                }
            }
            _ => Vec::new(),
        };
        HookVerdict {
            action_type: call.action_type.clone(),
            entry: call.entry,
            outcome,
            groups,
            degraded: None,
            reason,
        }
    }

    /// Whether this verdict denies the request (a hook's deny, or a failure whose
    /// degraded mode is deny).
    pub fn denies(&self) -> bool {
        self.outcome == HookOutcome::Deny || self.degraded == Some(HookFailure::Deny)
    }
}

/// The body a hook receives about one entry.
pub fn question(
    action_type: &str,
    entry: &Value,
    requester: (&str, &[String]),
    client_id: &str,
    channel: &str,
    binding_message: Option<&str>,
) -> Value {
    json!({
        "type": "countersign.decision_request",
        "action_type": action_type,
        "authorization_details": entry,
        "requester": {"username": requester.0, "groups": requester.1},
        "client_id": client_id,
        "channel": channel,
        "binding_message": binding_message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(failure: HookFailure) -> HookCall {
        HookCall {
            action_type: "payment".into(),
            entry: 0,
            url: "http://127.0.0.1:9/hook".into(),
            timeout_ms: 100,
            failure,
            body: json!({}),
        }
    }

    #[test]
    fn answers_are_read_and_nonsense_takes_the_degraded_mode() {
        let c = call(HookFailure::Deny);
        let approve = HookVerdict::from_answer(&c, &json!({"decision": "approve", "reason": "ok"}));
        assert_eq!(
            (approve.outcome, approve.reason.as_deref()),
            (HookOutcome::Approve, Some("ok"))
        );
        assert!(!approve.denies());
        let require =
            HookVerdict::from_answer(&c, &json!({"decision": "require", "groups": "finance:2"}));
        assert_eq!(require.groups[0].quorum, 2);
        let bad_groups =
            HookVerdict::from_answer(&c, &json!({"decision": "require", "groups": "x:0"}));
        assert_eq!(bad_groups.outcome, HookOutcome::Failed);
        assert!(bad_groups.denies(), "degraded to deny");
        let nonsense = HookVerdict::from_answer(&call(HookFailure::Human), &json!({"ok": true}));
        assert_eq!(nonsense.degraded, Some(HookFailure::Human));
        assert!(!nonsense.denies());
        assert!(HookVerdict::from_answer(&c, &json!({"decision": "deny"})).denies());
    }
}
