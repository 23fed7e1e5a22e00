//! The countersignature (DESIGN.md §1, §5.1, §5.3): a pending-approval stage inside the
//! authorization flow. No actix, no diesel: the state machine, the policy and the
//! service run inside the caller's transaction.

pub mod approver;
pub mod chat_desk;
pub mod desk;
pub mod details;
pub mod evidence;
pub mod factor;
pub mod hooks;
pub mod notices;
pub mod passkey_vote;
pub mod policy;
pub mod records;
pub mod rules;
pub mod ruling;
pub mod service;
pub mod signal;
pub mod state;
pub mod step_up;
pub mod views;

pub use chat_desk::{ChatAccount, ChatRefusal};
pub use desk::{Desk, DeskError, Vote};
pub use factor::{ApproverFactor, Presented, Proof};
pub use signal::{Signal, Subscription};
pub use views::ApprovalView;

pub use policy::{requirements, Requirements};
pub use service::{ApprovalError, Approver, NewApproval, Via, OVERSIGHT_GROUP};
pub use state::{ApprovalEvent, ApprovalState, Decision};

/// A domain reason (lower case, no full stop) as a sentence for a page or a chat card.
pub fn sentence(reason: &str) -> String {
    let mut chars = reason.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
