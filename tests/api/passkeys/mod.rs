//! Passkeys (issue 18; WebAuthn L2 §7.1 registration, §7.2 assertion) against the real
//! HTTP endpoints, with webauthn-authenticator-rs's software passkey as the
//! authenticator and the test acting as the browser: registering on the account page,
//! signing in without a username, who may change factors, deciding with a passkey,
//! and the bindings that make an assertion count for one decision only (ceremony,
//! approval, origin, RP ID, owner, single use). The app's
//! issuer is `http://localhost:<port>`: WebAuthn wants a domain for the RP ID.

mod bindings;
mod decision;
mod factor_changes;
mod registration;
mod sign_in;
pub(crate) mod support;
