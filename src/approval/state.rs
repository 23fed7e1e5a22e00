//! The approval state machine (DESIGN.md §5.1): every legal move in one `match`;
//! the store applies moves by compare-and-swap so concurrent votes have one outcome.

use crate::audit::AuditAction;
use crate::named::named_enum;

named_enum! {
    /// Lifecycle of one authorization request that needs a designated approver.
    pub enum ApprovalState {
        /// Waiting for approvers.
        Pending = "pending",
        /// Every group reached its quorum; not yet used.
        Approved = "approved",
        /// An approver denied.
        Denied = "denied",
        /// The requester withdrew it.
        Cancelled = "cancelled",
        /// Nobody decided in time, or it was approved but never used.
        Expired = "expired",
        /// Its authorization code was issued (single use).
        Redeemed = "redeemed",
        /// Revoked after approval; its tokens are dead.
        Revoked = "revoked",
    }
}

named_enum! {
    /// One approver's vote.
    pub enum Decision {
        /// Approve.
        Approve = "approve",
        /// Deny (needs a comment).
        Deny = "deny",
    }
}

/// Something that happens to an approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalEvent {
    /// The vote that completed every group's quorum.
    QuorumReached,
    /// An approver denied.
    Deny,
    /// The requester cancelled.
    Cancel,
    /// Its time ran out.
    Expire,
    /// The code was issued.
    Redeem,
    /// An approver or admin revoked it.
    Revoke,
}

/// A move the state machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an approval that is {} cannot be {}", from.as_str(), event.past_tense())]
pub struct IllegalTransition {
    /// The state it was in.
    pub from: ApprovalState,
    /// What was attempted.
    pub event: ApprovalEvent,
}

impl ApprovalState {
    /// The state after `event`, if the move is legal.
    pub fn next(self, event: ApprovalEvent) -> Result<Self, IllegalTransition> {
        use self::{ApprovalEvent as E, ApprovalState as S};
        match (self, event) {
            (S::Pending, E::QuorumReached) => Ok(S::Approved),
            (S::Pending, E::Deny) => Ok(S::Denied),
            (S::Pending, E::Cancel) => Ok(S::Cancelled),
            (S::Pending | S::Approved, E::Expire) => Ok(S::Expired),
            (S::Approved, E::Redeem) => Ok(S::Redeemed),
            (S::Approved | S::Redeemed, E::Revoke) => Ok(S::Revoked),
            (from, event) => Err(IllegalTransition { from, event }),
        }
    }

    /// True once nobody can vote any more.
    pub fn is_decided(self) -> bool {
        self != ApprovalState::Pending
    }

    /// When an approval in this state expires: the pending deadline while nobody has
    /// decided, the end of the access window while approved but unused; never once it
    /// ended or was redeemed (a redeemed approval's tokens obey `access_until` instead).
    pub fn expires_at(self, pending_until: i64, access_until: Option<i64>) -> Option<i64> {
        match self {
            ApprovalState::Pending => Some(pending_until),
            ApprovalState::Approved => access_until,
            _ => None,
        }
    }

    /// True when its grants may still be live, so revoking it means something.
    pub fn is_revocable(self) -> bool {
        self.next(ApprovalEvent::Revoke).is_ok()
    }
}

impl ApprovalEvent {
    /// The audit action of the transition this event causes.
    pub fn audit_action(self) -> AuditAction {
        match self {
            ApprovalEvent::QuorumReached => AuditAction::ApprovalApproved,
            ApprovalEvent::Deny => AuditAction::ApprovalDenied,
            ApprovalEvent::Cancel => AuditAction::ApprovalCancelled,
            ApprovalEvent::Expire => AuditAction::ApprovalExpired,
            ApprovalEvent::Redeem => AuditAction::ApprovalRedeemed,
            ApprovalEvent::Revoke => AuditAction::ApprovalRevoked,
        }
    }

    fn past_tense(self) -> &'static str {
        match self {
            ApprovalEvent::QuorumReached => "approved",
            ApprovalEvent::Deny => "denied",
            ApprovalEvent::Cancel => "cancelled",
            ApprovalEvent::Expire => "expired",
            ApprovalEvent::Redeem => "redeemed",
            ApprovalEvent::Revoke => "revoked",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ApprovalEvent as E, ApprovalState as S};

    const EVENTS: [E; 6] = [
        E::QuorumReached,
        E::Deny,
        E::Cancel,
        E::Expire,
        E::Redeem,
        E::Revoke,
    ];

    #[test]
    fn every_state_and_event_pair_has_the_documented_outcome() {
        let legal = [
            (S::Pending, E::QuorumReached, S::Approved),
            (S::Pending, E::Deny, S::Denied),
            (S::Pending, E::Cancel, S::Cancelled),
            (S::Pending, E::Expire, S::Expired),
            (S::Approved, E::Expire, S::Expired),
            (S::Approved, E::Redeem, S::Redeemed),
            (S::Approved, E::Revoke, S::Revoked),
            (S::Redeemed, E::Revoke, S::Revoked),
        ];
        crate::named::assert_transitions(S::ALL, &EVENTS, &legal, S::next);
    }

    #[test]
    fn stored_names_round_trip() {
        for &state in S::ALL {
            assert_eq!(S::parse(state.as_str()), Some(state));
        }
        assert_eq!(S::parse("PENDING"), None);
    }
}
