//! Approval policy (DESIGN.md §5.3): from the sensitive scopes of a request to the
//! requirements its approval records. Several sensitive scopes combine strictly: every
//! group of every scope must reach the highest quorum asked of it, and the shortest
//! times and the strictest flags apply.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::factor::ApproverFactor;
use super::state::Decision;
use crate::store::{DecisionRow, ScopeRow};

/// One approver group and the approvals it must give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupQuorum {
    /// Group name.
    pub group: String,
    /// Distinct approvers needed from it.
    pub quorum: i32,
}

/// What an approval needs, recorded with it (so later policy edits do not change it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirements {
    /// The sensitive scopes that caused it.
    pub sensitive_scopes: Vec<String>,
    /// Groups and quorums; all must be met.
    pub groups: Vec<GroupQuorum>,
    /// Policy version of each sensitive scope used (for the audit trail).
    pub policy_versions: BTreeMap<String, i32>,
    /// Seconds the request may wait.
    pub pending_ttl: i64,
    /// Seconds access lasts once approved.
    pub access_duration: i64,
    /// Whether the requester must justify the request.
    pub require_justification: bool,
    /// Seconds since an approver's last login, at most.
    pub approver_max_age: i64,
    /// Approvers may decide from Slack or Teams: every sensitive scope allows it
    /// (otherwise chat messages only link to the page, whose step-up applies).
    #[serde(default)]
    pub chat_decisions: bool,
    /// The second factor each approver presents at the decision (issue 18).
    #[serde(default)]
    pub approver_factor: ApproverFactor,
    /// The version of each action type of the request's `authorization_details`
    /// (issue 20); their policy scopes are among `sensitive_scopes`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub action_types: BTreeMap<String, i32>,
    /// What the approval rules decided, and under which version (issue 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<super::rules::RuleDecision>,
}

/// The quorum slot only the subject fills (a space keeps it from naming a group).
pub const SUBJECT_SLOT: &str = "the subject";

/// An approver group of a scope's policy, written `GROUP` (the scope's quorum applies)
/// or `GROUP:N` (this group needs N).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApproverGroup {
    /// Group name.
    pub group: String,
    /// Approvals needed from it, when not the scope's quorum.
    pub quorum: Option<i32>,
}

impl ApproverGroup {
    /// Parses `GROUP` or `GROUP:N`; `None` when N is not a positive number.
    pub fn parse(entry: &str) -> Option<Self> {
        match entry.split_once(':') {
            None => Some(Self {
                group: entry.to_owned(),
                quorum: None,
            }),
            Some((group, n)) => n.parse().ok().filter(|n: &i32| *n >= 1).map(|n| Self {
                group: group.to_owned(),
                quorum: Some(n),
            }),
        }
    }

    /// Approvals needed from this group under a scope whose quorum is `scope_quorum`.
    pub fn quorum_or(&self, scope_quorum: i32) -> i32 {
        self.quorum.unwrap_or(scope_quorum)
    }
}

impl std::fmt::Display for ApproverGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.quorum {
            None => f.write_str(&self.group),
            Some(n) => write!(f, "{}:{n}", self.group),
        }
    }
}

impl Serialize for ApproverGroup {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The requirements for a request with these scopes, or `None` when none is sensitive.
pub fn requirements(scopes: &[ScopeRow]) -> Option<Requirements> {
    let sensitive: Vec<&ScopeRow> = scopes.iter().filter(|s| s.sensitive).collect();
    let first = sensitive.first()?;
    let mut combined = Requirements {
        sensitive_scopes: Vec::new(),
        groups: Vec::new(),
        policy_versions: BTreeMap::new(),
        pending_ttl: first.pending_ttl,
        access_duration: first.access_duration,
        require_justification: false,
        approver_max_age: first.approver_max_age,
        chat_decisions: true,
        approver_factor: ApproverFactor::None,
        action_types: BTreeMap::new(),
        rules: None,
    };
    let mut subject_confirms = false;
    for scope in sensitive {
        combined.sensitive_scopes.push(scope.name.clone());
        combined
            .policy_versions
            .insert(scope.name.clone(), scope.policy_version);
        combined.pending_ttl = combined.pending_ttl.min(scope.pending_ttl);
        combined.access_duration = combined.access_duration.min(scope.access_duration);
        combined.approver_max_age = combined.approver_max_age.min(scope.approver_max_age);
        combined.require_justification |= scope.require_justification;
        combined.approver_factor = combined.approver_factor.strictest(scope.approver_factor);
        subject_confirms |= scope.subject_confirms;
        // A factor is presented on the page only: chat never skips it.
        combined.chat_decisions &=
            scope.allow_chat_decisions && scope.approver_factor == ApproverFactor::None;
        for entry in &scope.approver_groups {
            let quorum = entry.quorum_or(scope.quorum);
            match combined.groups.iter_mut().find(|g| g.group == entry.group) {
                Some(existing) => existing.quorum = existing.quorum.max(quorum),
                None => combined.groups.push(GroupQuorum {
                    group: entry.group.clone(),
                    quorum,
                }),
            }
        }
    }
    if subject_confirms {
        combined.groups.push(GroupQuorum {
            group: SUBJECT_SLOT.into(),
            quorum: 1,
        });
    }
    Some(combined)
}

impl Requirements {
    /// The subject must confirm too: one of the groups is [`SUBJECT_SLOT`].
    pub fn subject_confirms(&self) -> bool {
        self.groups.iter().any(|g| g.group == SUBJECT_SLOT)
    }

    /// The required groups among `member_of`.
    pub fn groups_of(&self, member_of: &[String]) -> Vec<String> {
        self.groups
            .iter()
            .filter(|g| member_of.contains(&g.group))
            .map(|g| g.group.clone())
            .collect()
    }

    /// True when every group has its quorum of distinct approvers, each approver
    /// counting for one group only (four eyes per group: someone in two required groups
    /// cannot fill both). A vote lists the required groups its approver belonged to;
    /// the answer is a bipartite matching of approvers to quorum slots.
    pub fn met_by(&self, votes: &[DecisionRow]) -> bool {
        let approvers: Vec<Vec<&str>> = votes
            .iter()
            .filter(|v| v.decision == Decision::Approve)
            .map(|v| v.groups.iter().map(String::as_str).collect())
            .collect();
        let slots: Vec<&str> = self
            .groups
            .iter()
            .flat_map(|g| {
                std::iter::repeat_n(g.group.as_str(), usize::try_from(g.quorum).unwrap_or(0))
            })
            .collect();
        if slots.len() > approvers.len() {
            return false;
        }
        let mut slot_of_approver: Vec<Option<usize>> = vec![None; approvers.len()];
        (0..slots.len()).all(|slot| {
            let mut seen = vec![false; approvers.len()];
            assign(slot, &slots, &approvers, &mut slot_of_approver, &mut seen)
        })
    }

    /// Approvals needed in all (the sum of the quorums).
    pub fn approvals_needed(&self) -> u32 {
        self.groups
            .iter()
            .map(|g| u32::try_from(g.quorum).unwrap_or(0))
            .sum()
    }

    /// "1 approval from approvers, 2 from security".
    pub fn describe(&self) -> String {
        self.groups
            .iter()
            .map(|g| match g.group.as_str() {
                SUBJECT_SLOT => "the user's own confirmation".to_owned(),
                _ => format!(
                    "{} approval{} from {}",
                    g.quorum,
                    if g.quorum == 1 { "" } else { "s" },
                    g.group
                ),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Kuhn's augmenting path: finds an approver for `slot`, moving earlier assignments
/// to other slots when that frees one.
fn assign(
    slot: usize,
    slots: &[&str],
    approvers: &[Vec<&str>],
    slot_of_approver: &mut Vec<Option<usize>>,
    seen: &mut Vec<bool>,
) -> bool {
    for approver in 0..approvers.len() {
        let eligible = approvers
            .get(approver)
            .is_some_and(|groups| slots.get(slot).is_some_and(|g| groups.contains(g)));
        if !eligible || seen.get(approver).copied().unwrap_or(true) {
            continue;
        }
        if let Some(flag) = seen.get_mut(approver) {
            *flag = true;
        }
        let current = slot_of_approver.get(approver).copied().flatten();
        let free = match current {
            None => true,
            Some(other) => assign(other, slots, approvers, slot_of_approver, seen),
        };
        if free {
            if let Some(entry) = slot_of_approver.get_mut(approver) {
                *entry = Some(slot);
            }
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(name: &str, groups: &[&str], quorum: i32, ttl: i64) -> ScopeRow {
        ScopeRow {
            name: name.into(),
            description: String::new(),
            claims: "[]".into(),
            builtin: false,
            sensitive: !groups.is_empty(),
            approver_groups: groups
                .iter()
                .map(|g| ApproverGroup::parse(g).unwrap())
                .collect(),
            quorum,
            pending_ttl: ttl,
            access_duration: 3600,
            require_justification: false,
            approver_max_age: 600,
            allow_chat_decisions: false,
            approver_factor: ApproverFactor::None,
            policy_version: 3,
            created_at: 0,
            updated_at: 0,
            subject_confirms: false,
        }
    }

    fn vote(who: &str, groups: &str, decision: Decision) -> DecisionRow {
        DecisionRow {
            approval_id: crate::ids::ApprovalId::new("a"),
            approver_id: crate::ids::UserId::new(who),
            groups: groups.split(',').map(str::to_owned).collect(),
            decision,
            comment: None,
            at: 0,
            amr: Vec::new(),
            credential_id: None,
        }
    }

    #[test]
    fn a_scope_asking_for_a_factor_keeps_the_request_off_chat_and_the_strictest_factor_wins() {
        let mut chatty = scope("a", &["finance"], 1, 900);
        chatty.allow_chat_decisions = true;
        let mut totp = scope("b", &["finance"], 1, 900);
        totp.allow_chat_decisions = true;
        totp.approver_factor = ApproverFactor::Totp;
        let mut passkey = scope("c", &["finance"], 1, 900);
        passkey.approver_factor = ApproverFactor::Passkey;
        assert!(
            requirements(std::slice::from_ref(&chatty))
                .unwrap()
                .chat_decisions
        );
        let with_totp = requirements(&[chatty.clone(), totp.clone()]).unwrap();
        assert!(!with_totp.chat_decisions);
        assert_eq!(with_totp.approver_factor, ApproverFactor::Totp);
        let both = requirements(&[chatty, totp, passkey]).unwrap();
        assert_eq!(both.approver_factor, ApproverFactor::Passkey);
    }

    #[test]
    fn each_group_may_have_its_own_quorum() {
        let r = requirements(&[scope("a", &["finance:2", "security"], 1, 900)]).unwrap();
        assert_eq!(
            r.groups,
            vec![
                GroupQuorum {
                    group: "finance".into(),
                    quorum: 2
                },
                GroupQuorum {
                    group: "security".into(),
                    quorum: 1
                }
            ]
        );
        assert_eq!(ApproverGroup::parse("ops:0"), None);
        assert_eq!(ApproverGroup::parse("ops:x"), None);
        let entry = ApproverGroup::parse("finance:2").unwrap();
        assert_eq!(
            (entry.to_string(), entry.quorum_or(1)),
            ("finance:2".into(), 2)
        );
        assert_eq!(ApproverGroup::parse("ops").unwrap().to_string(), "ops");
    }

    #[test]
    fn no_sensitive_scope_needs_no_approval() {
        assert_eq!(requirements(&[scope("openid", &[], 1, 900)]), None);
    }

    #[test]
    fn scopes_combine_strictly() {
        let r = requirements(&[
            scope("a", &["ops"], 1, 900),
            scope("b", &["ops", "sec"], 2, 300),
        ])
        .unwrap();
        assert_eq!(
            r.groups,
            vec![
                GroupQuorum {
                    group: "ops".into(),
                    quorum: 2
                },
                GroupQuorum {
                    group: "sec".into(),
                    quorum: 2
                }
            ]
        );
        assert_eq!(r.pending_ttl, 300);
        assert_eq!(r.policy_versions.get("b"), Some(&3));
    }

    #[test]
    fn one_approver_in_two_groups_fills_only_one() {
        let r = requirements(&[scope("a", &["ops", "sec"], 1, 900)]).unwrap();
        assert!(!r.met_by(&[vote("eve", "ops,sec", Decision::Approve)]));
        // eve can take either group, so with bob (ops only) both are filled.
        assert!(r.met_by(&[
            vote("eve", "ops,sec", Decision::Approve),
            vote("bob", "ops", Decision::Approve)
        ]));
        assert!(r.met_by(&[
            vote("bob", "ops", Decision::Approve),
            vote("eve", "ops,sec", Decision::Approve)
        ]));
        let two = requirements(&[scope("b", &["ops"], 2, 900)]).unwrap();
        assert!(!two.met_by(&[vote("eve", "ops", Decision::Approve)]));
        assert!(two.met_by(&[
            vote("eve", "ops", Decision::Approve),
            vote("bob", "ops", Decision::Approve)
        ]));
    }

    #[test]
    fn every_group_must_reach_its_quorum() {
        let r = requirements(&[scope("a", &["ops", "sec"], 1, 900)]).unwrap();
        assert!(!r.met_by(&[vote("bob", "ops", Decision::Approve)]));
        assert!(r.met_by(&[
            vote("bob", "ops", Decision::Approve),
            vote("eve", "sec", Decision::Approve)
        ]));
        assert!(!r.met_by(&[
            vote("bob", "ops", Decision::Approve),
            vote("eve", "sec", Decision::Deny)
        ]));
    }
}
