//! Accounts: browser sessions, password login with brute-force throttling, and
//! remembered consent.

pub mod consent;
pub mod login;
pub mod sessions;
