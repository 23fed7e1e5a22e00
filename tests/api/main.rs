//! The integration test binary: one binary for every suite, so the crate and its
//! dependencies link once (STYLE.md §2.7). Each suite runs on a fresh temp SQLite file,
//! or on a fresh PostgreSQL database per test when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod approval;
mod audit;
mod bench;
mod browser;
mod ciba;
pub(crate) mod cli;
mod faults;
mod health;
mod helpers;
mod migrations;
pub(crate) mod notify;
pub(crate) mod oidc;
mod passkeys;
mod protections;
mod step_up;
mod store;
mod upstream;
