//! TOTP as an approver's second factor (RFC 6238, issue 18): enrolment (a random
//! 160-bit secret, sealed at rest, shown once as an `otpauth://` URI and its QR code
//! drawn as SVG on the server), confirmation by a first code (which issues ten
//! recovery codes, shown once and stored hashed), and the check at a decision: SHA-1,
//! six digits, 30 s steps, one step of drift either way, and every step accepted once
//! per user (RFC 6238 §5.2). Failed checks are throttled like passwords, per user.

use rand::RngCore;
use totp_rs::{Builder, Secret, Totp};

use serde_json::json;

use super::login::{count_failure, current_counter, ThrottlePolicy};
use crate::audit::{self, Actor, AuditAction};
use crate::crypto::{self, Sealer};
use crate::ids::UserId;
use crate::store::{self, DbConn, StoreError, TotpRow};

/// How many recovery codes an enrolment issues.
pub const RECOVERY_CODES: usize = 10;

/// The TOTP service: seals secrets and names the issuer in authenticator apps.
#[derive(Debug, Clone)]
pub struct TotpFactor {
    sealer: Sealer,
    issuer: String,
}

/// What the approver's authenticator app needs, shown once at enrolment.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The secret in base32, for typing in by hand.
    pub secret: String,
    /// The `otpauth://totp/…` URI.
    pub uri: String,
    /// The URI as a QR code, an SVG document.
    pub qr_svg: String,
}

/// Why a throttled check refused a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefused {
    /// No confirmed credential.
    NotEnrolled,
    /// Wrong, or already used.
    Wrong,
    /// Too many wrong codes: wait this many seconds.
    Throttled {
        /// Seconds to wait.
        retry_after: i64,
    },
}

/// Why a code was refused.
#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    /// No confirmed credential (or no pending enrolment, when confirming).
    #[error("no authenticator app is enrolled")]
    NotEnrolled,
    /// Not a current code, not an unused recovery code, or a code already used.
    #[error("the code is not valid")]
    Wrong,
    /// The enrolment is already confirmed; remove it first to enrol again.
    #[error("an authenticator app is already enrolled; remove it first")]
    AlreadyEnrolled,
    /// Storage or sealing failed.
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl TotpFactor {
    /// The factor for `issuer` (shown as the account's issuer in the app), sealing
    /// with a key derived from the secret key.
    pub fn new(sealer: Sealer, issuer: &str) -> Self {
        let issuer = url::Url::parse(issuer)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "countersign".into());
        TotpFactor { sealer, issuer }
    }

    /// Starts (or restarts) enrolment for `username`: a fresh secret, stored
    /// unconfirmed until [`TotpFactor::confirm`].
    pub fn enrol(
        &self,
        c: &mut DbConn,
        user_id: &UserId,
        username: &str,
        now: i64,
    ) -> Result<Enrolment, TotpError> {
        if store::totp_of(c, user_id)?.is_some_and(|row| row.confirmed_at.is_some()) {
            return Err(TotpError::AlreadyEnrolled);
        }
        let mut bytes = [0u8; 20];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = Secret::from(bytes).to_base32();
        let totp = self.totp(&secret, username)?;
        let uri = totp.to_url().map_err(|e| sealing(&e))?;
        let sealed = self.sealer.seal(&secret).map_err(|e| sealing(&e))?;
        store::replace_pending_totp(
            c,
            &TotpRow {
                user_id: user_id.clone(),
                secret: sealed,
                confirmed_at: None,
                last_step: 0,
                created_at: now,
            },
        )?;
        let qr_svg = qr_svg(&uri).map_err(|e| sealing(&e))?;
        Ok(Enrolment {
            secret,
            uri,
            qr_svg,
        })
    }

    /// Confirms a pending enrolment with its first code; returns the recovery codes,
    /// which are shown this once.
    pub fn confirm(
        &self,
        c: &mut DbConn,
        user_id: &UserId,
        code: &str,
        now: i64,
    ) -> Result<Vec<String>, TotpError> {
        let row = store::totp_of(c, user_id)?.ok_or(TotpError::NotEnrolled)?;
        if row.confirmed_at.is_some() {
            return Err(TotpError::AlreadyEnrolled);
        }
        self.check_totp(c, &row, code, now)?;
        store::confirm_totp(c, user_id, now)?;
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
        let hashes: Vec<String> = codes.iter().map(|code| hash_recovery(code)).collect();
        store::replace_recovery_codes(c, user_id, &hashes)?;
        Ok(codes)
    }

    /// Checks a code at a decision: a current TOTP code never accepted before, or an
    /// unused recovery code (then used up).
    pub fn verify(
        &self,
        c: &mut DbConn,
        user_id: &UserId,
        code: &str,
        now: i64,
    ) -> Result<(), TotpError> {
        let row = store::totp_of(c, user_id)?
            .filter(|row| row.confirmed_at.is_some())
            .ok_or(TotpError::NotEnrolled)?;
        let code = code.trim();
        if code.contains('-') {
            return match store::use_recovery_code(c, user_id, &hash_recovery(code), now)? {
                true => Ok(()),
                false => Err(TotpError::Wrong),
            };
        }
        self.check_totp(c, &row, code, now)
    }

    /// [`TotpFactor::verify`] under the login throttle's limits, per user: a locked
    /// user is refused before the code is looked at, and a wrong code counts (and is
    /// audited). `Ok(Err(..))` is a refusal whose count the caller must commit.
    pub fn verify_throttled(
        &self,
        c: &mut DbConn,
        user_id: &UserId,
        code: &str,
        throttle: ThrottlePolicy,
        now: i64,
    ) -> Result<Result<(), CodeRefused>, StoreError> {
        let subject = format!("totp:{user_id}");
        let mut counter = current_counter(
            store::lock_login_failures(c, &subject, now)?,
            throttle.lockout,
            now,
        );
        if let Some(until) = counter.locked_until {
            return Ok(Err(CodeRefused::Throttled {
                retry_after: until - now,
            }));
        }
        match self.verify(c, user_id, code, now) {
            Ok(()) => {
                store::clear_login_failures(c, &subject, now)?;
                Ok(Ok(()))
            }
            Err(TotpError::NotEnrolled) => Ok(Err(CodeRefused::NotEnrolled)),
            Err(TotpError::Store(error)) => Err(error),
            Err(TotpError::Wrong | TotpError::AlreadyEnrolled) => {
                let max = i32::try_from(throttle.max_failures).unwrap_or(i32::MAX);
                count_failure(&mut counter, max, throttle.lockout, now);
                store::save_login_failures(c, &counter)?;
                audit::record(
                    c,
                    &Actor::User(user_id.clone()),
                    AuditAction::StepUpFailed,
                    &format!("user:{user_id}"),
                    json!({"factor": "totp", "failures": counter.failures}),
                    now,
                )?;
                Ok(Err(CodeRefused::Wrong))
            }
        }
    }

    /// Whether the user has a confirmed TOTP credential.
    pub fn is_enrolled(c: &mut DbConn, user_id: &UserId) -> Result<bool, StoreError> {
        Ok(store::totp_of(c, user_id)?.is_some_and(|row| row.confirmed_at.is_some()))
    }

    fn check_totp(
        &self,
        c: &mut DbConn,
        row: &TotpRow,
        code: &str,
        now: i64,
    ) -> Result<(), TotpError> {
        let secret = self.sealer.open(&row.secret).map_err(|e| sealing(&e))?;
        let totp = self.totp(&secret, "")?;
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TotpError::Wrong);
        }
        let time = u64::try_from(now).unwrap_or(0);
        let step = totp.check(&digits, time).ok_or(TotpError::Wrong)?;
        let step = i64::try_from(step).map_err(|_| TotpError::Wrong)?;
        match store::consume_totp_step(c, &row.user_id, step)? {
            true => Ok(()),
            false => Err(TotpError::Wrong),
        }
    }

    fn totp(&self, secret_base32: &str, account: &str) -> Result<Totp, TotpError> {
        let secret = Secret::try_from_base32(secret_base32).map_err(|_| sealing(&"bad secret"))?;
        let account = if account.is_empty() {
            "approver"
        } else {
            account
        };
        Builder::new()
            .with_secret(secret)
            .with_account_name(account.replace(':', "_"))
            .with_issuer(Some(self.issuer.replace(':', "_")))
            .build()
            .map_err(|e| sealing(&e))
    }
}

fn sealing(error: &dyn std::fmt::Display) -> TotpError {
    TotpError::Store(StoreError::Corrupt(format!("TOTP: {error}")))
}

/// `xxxx-xxxx-xxxx`: 60 random bits in an alphabet without look-alikes (no 0/o, 1/l).
fn recovery_code() -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    chars
        .chunks(4)
        .map(|chunk| chunk.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Recovery codes are random and long: a plain SHA-256 resists guessing.
fn hash_recovery(code: &str) -> String {
    crypto::sha256_hex(code.trim().to_ascii_lowercase().as_bytes())
}

/// The URI as an SVG QR code (medium error correction, quiet zone included).
fn qr_svg(uri: &str) -> Result<String, qrcode::types::QrError> {
    let code = qrcode::QrCode::with_error_correction_level(uri, qrcode::EcLevel::M)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_three_groups_of_four() {
        let code = recovery_code();
        let groups: Vec<&str> = code.split('-').collect();
        assert_eq!(groups.len(), 3, "{code}");
        assert!(groups.iter().all(|g| g.len() == 4), "{code}");
        assert_ne!(recovery_code(), recovery_code());
    }

    #[test]
    fn recovery_codes_hash_the_same_however_typed() {
        assert_eq!(
            hash_recovery("abcd-efgh-ijkl"),
            hash_recovery(" ABCD-efgh-ijkl ")
        );
    }

    #[test]
    fn the_qr_code_is_an_svg_document() {
        let svg = qr_svg("otpauth://totp/example:alice?secret=ABC").unwrap();
        assert!(svg.contains("<svg"), "{svg}");
    }
}
