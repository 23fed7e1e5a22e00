//! Signing in through an upstream OpenID Connect provider (issue 22 items 2 and 3): a
//! second countersign plays the upstream (`support.rs`), a tiny fake one serves crafted
//! ID tokens (`fake.rs`). Linking by `iss` + `sub` only, group mapping at every login,
//! brokered approvers, the refusals (state, nonce, audience, upstream errors) and the
//! upstream logout.

mod brokering;
mod cli;
mod fake;
mod logout;
mod refusals;
mod support;
