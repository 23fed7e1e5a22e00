//! Just-in-time action approval (issue 20; DESIGN.md §5.2): CIBA Core 1.0 poll and
//! ping modes with RFC 9396 `authorization_details`, routed to approvers other than
//! the subject, on the backend `TestDb` picks (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`).

mod cli;
mod examples;
mod front_channel;
mod hooks;
mod ping;
mod poll;
mod requests;
mod rules;
mod subject;
pub(crate) mod support;
