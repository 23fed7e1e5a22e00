//! The OIDC core (DESIGN.md §5.1, §8; STYLE.md §2.4, §2.7): the authorization code flow
//! driven by an unmodified RP library, and a negative test for every error, each on the
//! channel the spec gives it. Every test runs on the backend `TestDb` picks.

mod authorize_errors;
pub(crate) mod back_channel;
pub(crate) mod browser;
mod claims;
mod discovery;
mod flow;
pub(crate) mod grants;
mod introspection;
mod login;
mod logout;
mod prompts;
mod properties;
mod refresh_race;
mod rp;
pub(crate) mod support;
mod token_errors;
mod userinfo;
mod wrong_client;
