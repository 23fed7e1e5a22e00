//! Who may vote on an approval, and where (DESIGN.md §1.4, §5.1 step 5): never the
//! requester, only members of a required group, one vote each; on the page only after
//! a recent enough sign-in, and from chat only where the policy allows it (so chat
//! never skips the page's step-up).

use super::factor::Proof;
use super::policy::SUBJECT_SLOT;
use super::service::{requirements_of, ApprovalError};
use crate::ids::UserId;
use crate::store::{ApprovalRow, DecisionRow};

/// The refusal of a vote by someone outside the approver groups.
pub const NOT_AN_APPROVER: &str = "you are not in a group that approves this request";

/// Where an approver decides, and so what proves it is them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The approval page, signed in at `auth_time` (the policy's `approver_max_age`
    /// applies: an older sign-in must be renewed first).
    Page {
        /// When they last signed in.
        auth_time: i64,
    },
    /// A Slack button, from the Slack account linked to theirs (Slack's request
    /// signature proves the click). Only where the policy allows chat decisions.
    Slack,
    /// A Teams card, from the Teams account linked to theirs (the Bot Framework token
    /// proves it). Only where the policy allows chat decisions.
    Teams,
}

impl Via {
    /// The channel's name in the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Page { .. } => "page",
            Via::Slack => "slack",
            Via::Teams => "teams",
        }
    }
}

/// Someone deciding: their id, where they decide, and their groups.
#[derive(Debug, Clone)]
pub struct Approver {
    /// User id (`sub`).
    pub user_id: UserId,
    /// Where they decide.
    pub via: Via,
    /// Their groups.
    pub groups: Vec<String>,
    /// The second factor they presented with this vote, checked (issue 18).
    pub proof: Proof,
    /// On the page, the session's RFC 8176 `amr` (how they signed in); from chat,
    /// nothing.
    pub signed_in_with: Vec<String>,
}

impl Approver {
    /// The RFC 8176 `amr` values this vote records: on the page, the sign-in and the
    /// factor presented; from chat, none (the chat platform vouches for the
    /// account, and no factor can be presented there).
    pub fn amr(&self) -> Vec<String> {
        match self.via {
            Via::Page { .. } => self.proof.page_amr(&self.signed_in_with),
            Via::Slack | Via::Teams => Vec::new(),
        }
    }
}

/// Checks whether `approver` may vote on `row` now, with the factor they presented,
/// and for which required groups.
pub fn may_decide(
    row: &ApprovalRow,
    approver: &Approver,
    votes: &[DecisionRow],
    now: i64,
) -> Result<Vec<String>, ApprovalError> {
    let groups = may_vote(row, approver, votes, now)?;
    if !requirements_of(row)?
        .approver_factor
        .satisfied_by(&approver.proof)
    {
        return Err(ApprovalError::Forbidden(
            "this request asks for a second factor with each decision, on its approval page",
        ));
    }
    Ok(groups)
}

/// Every check of [`may_decide`] but the second factor: who, where, when.
pub fn may_vote(
    row: &ApprovalRow,
    approver: &Approver,
    votes: &[DecisionRow],
    now: i64,
) -> Result<Vec<String>, ApprovalError> {
    let requirements = requirements_of(row)?;
    // The subject never fills an approver group's slot; they confirm in their own
    // slot, and only where the policy asks them to.
    let groups = match approver.user_id == row.requester_id {
        true if requirements.subject_confirms() => vec![SUBJECT_SLOT.to_owned()],
        true => {
            return Err(ApprovalError::Forbidden(
                "nobody may decide their own request",
            ))
        }
        false => requirements.groups_of(&approver.groups),
    };
    if groups.is_empty() {
        return Err(ApprovalError::Forbidden(NOT_AN_APPROVER));
    }
    // Only after the membership check: whether a request is decided is no business of
    // someone who may not decide it (from chat, where nothing else hides the id).
    if row.state.is_decided() {
        return Err(ApprovalError::Conflict(format!(
            "the request is already {}",
            row.state
        )));
    }
    if votes.iter().any(|v| v.approver_id == approver.user_id) {
        return Err(ApprovalError::Conflict(
            "you already decided on this request".into(),
        ));
    }
    match approver.via {
        Via::Page { auth_time } if now - auth_time > requirements.approver_max_age => {
            return Err(ApprovalError::NeedsFreshLogin);
        }
        Via::Slack | Via::Teams if !requirements.chat_decisions => {
            return Err(ApprovalError::Forbidden(
                "this request is decided on its approval page only (its policy asks for a recent sign-in there)",
            ));
        }
        _ => {}
    }
    Ok(groups)
}
