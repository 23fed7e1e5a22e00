//! The lifecycle of a stored authorization request (RFC 6749 §4.1.1 between the first
//! `GET /authorize` and the redirect back; DESIGN.md §5.1): every legal move in one
//! `match`; the store applies moves by compare-and-swap on `state`.

use crate::named::named_enum;

named_enum! {
    /// Where a stored authorization request stands.
    pub enum RequestState {
        /// Stored; nobody has consented yet (the user may still be signing in).
        Open = "open",
        /// The signed-in user consented on this request's page.
        Consented = "consented",
        /// An approval was created for it; waiting for the countersignature.
        AwaitingApproval = "awaiting_approval",
        /// A code was issued: the request is used up.
        Completed = "completed",
        /// It ended with an error sent to the client (consent denied, approval ended).
        Failed = "failed",
    }
}

/// Something that happens to a stored request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestEvent {
    /// The user allowed the request on the consent page.
    Consent,
    /// The user refused on the consent page.
    DenyConsent,
    /// A sensitive scope needs a countersignature: an approval was created.
    AwaitApproval,
    /// The approval was denied, expired, cancelled or revoked before the code.
    ApprovalEnded,
    /// The code was issued.
    IssueCode,
}

/// A move the request lifecycle does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an authorization request that is {from} cannot take {event:?}")]
pub struct IllegalRequestTransition {
    /// The state it was in.
    pub from: RequestState,
    /// What was attempted.
    pub event: RequestEvent,
}

impl RequestState {
    /// The state after `event`, if the move is legal.
    pub fn next(self, event: RequestEvent) -> Result<Self, IllegalRequestTransition> {
        use self::{RequestEvent as E, RequestState as S};
        match (self, event) {
            (S::Open | S::Consented, E::Consent) => Ok(S::Consented),
            (S::Open | S::Consented, E::DenyConsent) => Ok(S::Failed),
            (S::Open | S::Consented, E::AwaitApproval) => Ok(S::AwaitingApproval),
            (S::AwaitingApproval, E::ApprovalEnded) => Ok(S::Failed),
            // Open: consent was remembered from an earlier request of this client.
            (S::Open | S::Consented | S::AwaitingApproval, E::IssueCode) => Ok(S::Completed),
            (from, event) => Err(IllegalRequestTransition { from, event }),
        }
    }

    /// True while the browser may still pick the request up (login, consent, waiting).
    pub fn is_live(self) -> bool {
        self.next(RequestEvent::IssueCode).is_ok()
    }

    /// True once the user consented on this request's own page.
    pub fn has_consent(self) -> bool {
        matches!(
            self,
            RequestState::Consented | RequestState::AwaitingApproval
        )
    }

    /// True while a login on this request's page still counts for it (`prompt=login`):
    /// before an approval was asked for.
    pub fn accepts_login(self) -> bool {
        self.next(RequestEvent::Consent).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::{RequestEvent as E, RequestState as S};

    const EVENTS: [E; 5] = [
        E::Consent,
        E::DenyConsent,
        E::AwaitApproval,
        E::ApprovalEnded,
        E::IssueCode,
    ];

    #[test]
    fn every_state_and_event_pair_has_the_documented_outcome() {
        let legal = [
            (S::Open, E::Consent, S::Consented),
            (S::Consented, E::Consent, S::Consented),
            (S::Open, E::DenyConsent, S::Failed),
            (S::Consented, E::DenyConsent, S::Failed),
            (S::Open, E::AwaitApproval, S::AwaitingApproval),
            (S::Consented, E::AwaitApproval, S::AwaitingApproval),
            (S::AwaitingApproval, E::ApprovalEnded, S::Failed),
            (S::Open, E::IssueCode, S::Completed),
            (S::Consented, E::IssueCode, S::Completed),
            (S::AwaitingApproval, E::IssueCode, S::Completed),
        ];
        crate::named::assert_transitions(S::ALL, &EVENTS, &legal, S::next);
    }

    #[test]
    fn stored_names_round_trip() {
        for &state in S::ALL {
            assert_eq!(S::parse(state.as_str()), Some(state));
        }
        assert_eq!(S::parse("Open"), None);
    }
}
