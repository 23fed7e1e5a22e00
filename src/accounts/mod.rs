//! Accounts: browser sessions, password and passkey login with brute-force throttling,
//! remembered consent, approvers' second factors (TOTP, passkeys), and sign-in through
//! an upstream provider.

pub mod consent;
pub mod factor_changes;
pub mod factors;
pub mod login;
pub mod passkey_account;
pub mod passkey_sign_in;
pub mod passkeys;
pub mod session_step_up;
pub mod sessions;
pub mod totp;
pub mod upstream;
