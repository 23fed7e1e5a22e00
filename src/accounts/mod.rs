//! Accounts: browser sessions, password login with brute-force throttling,
//! remembered consent, and approvers' second factors (TOTP, passkeys).

pub mod consent;
pub mod factors;
pub mod login;
pub mod passkey_account;
pub mod passkeys;
pub mod sessions;
pub mod totp;
