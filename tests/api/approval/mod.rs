//! The countersignature (DESIGN.md §1, §5.1, §5.3, §8 "Approval pages"): the authorize
//! flow pauses on a pending approval until an approver other than the user approves;
//! the tokens carry the evidence and never outlive the access window; every protocol
//! action leaves exactly one audit event. Every test runs on the backend `TestDb`
//! picks (SQLite by default, PostgreSQL with `TEST_DATABASE_URL`).

mod audit_events;
pub(crate) mod browser;
pub(crate) mod client;
pub(crate) mod events;
mod flow;
mod pages;
mod protections;
mod races;
mod records;
mod rules;
mod statements;
pub(crate) mod support;
mod tokens;
