//! countersign: an OpenID Connect Provider where sensitive scopes need a
//! countersignature. See README.md and DESIGN.md for the map; each module's `//!`
//! names the specs it implements.

pub mod accounts;
pub mod admin;
pub mod approval;
pub mod audit;
pub mod chat;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod decision_hooks;
pub mod delivery;
pub mod demo;
pub mod http;
pub mod ids;
pub mod manage;
mod named;
pub mod notify;
pub mod oidc;
pub mod scope_set;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod upstream;
