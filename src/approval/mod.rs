//! The countersignature (DESIGN.md §1, §5.1, §5.3): a pending-approval stage inside the
//! authorization flow. No actix, no diesel: the state machine, the policy and the
//! service run inside the caller's transaction.

pub mod admin;
pub mod evidence;
pub mod policy;
pub mod service;
pub mod state;
pub mod views;

pub use views::{ApprovalView, Desk, DeskError};

pub use policy::{requirements, Requirements};
pub use service::{ApprovalError, Approver, Decision, NewApproval, ADMIN_GROUP};
pub use state::{ApprovalEvent, ApprovalState};
