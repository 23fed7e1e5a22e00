//! Accounts: browser sessions, password login with brute-force throttling,
//! remembered consent, and approvers' second factors (TOTP).

pub mod consent;
pub mod factors;
pub mod login;
pub mod sessions;
pub mod totp;
