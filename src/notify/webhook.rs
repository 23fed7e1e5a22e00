//! Outgoing webhooks in the Standard Webhooks format (standard-webhooks
//! `spec/standard-webhooks.md`): the event body, its signature and the retry schedule.
//!
//! Headers (the caller sets them): `webhook-id` (the idempotency key, the same on
//! every retry), `webhook-timestamp` (unix seconds, fresh on every attempt) and
//! `webhook-signature` = [`sign`] over `"{id}.{timestamp}.{body}"`.
//!
//! Event body ([`event_body`]):
//!
//! ```json
//! {
//!   "type": "approval.requested | approval.voted | approval.decided | approval.expired
//!            | approval.cancelled | approval.revoked | approval.reminder",
//!   "timestamp": "2026-09-21T14:13:20Z",
//!   "data": {
//!     "approval_id": "…", "state": "pending | approved | denied | cancelled | expired
//!                                  | redeemed | revoked",
//!     "outcome": "approved | denied",            // approval.decided only
//!     "requester": {"username": "…", "name": "…", "email": "…"},
//!     "client": {"name": "…"},
//!     "scopes": [{"name": "…", "description": "…", "sensitive": true}],
//!     "justification": "…" | null,
//!     "authorization_details": [{"type": "payment", …}] | null,  (RFC 9396, as approved)
//!     "binding_message": "…" | null,                            (CIBA)
//!     "required": "1 approval from approvers", "approvals_given": 0, "approvals_needed": 1,
//!     "votes": [{"approver": "…", "decision": "approve | deny", "comment": "…" | null,
//!                "at": "RFC 3339"}],
//!     "created_at": "RFC 3339", "expires_at": "RFC 3339", "access_until": "RFC 3339" | null,
//!     "page_url": "https://…/approvals/…"
//!   }
//! }
//! ```
//!
//! Signing is hand-rolled over `hmac`/`sha2`/`subtle`/`base64`, which the crate already
//! has, rather than the `standardwebhooks` crate: that crate reads the system clock
//! inside `verify` (time is a parameter here), and its stored reference code compared
//! signatures only up to the shorter length, so `v1,` verified anything
//! (standard-webhooks PR #115). The spec's published test vector pins the format.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::snapshot::{rfc3339, ApprovalSnapshot, Event};

/// Prefix of a symmetric signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// How far a `webhook-timestamp` may be from the verifier's clock.
pub const TOLERANCE_SECONDS: i64 = 300;
/// Seconds to wait before each attempt: now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
/// 20 h, 24 h (about three days in all; the spec's example schedule).
pub const RETRY_SCHEDULE: &[i64] = &[0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];
/// Each retry's wait varies by up to this fraction either way.
pub const JITTER: f64 = 0.1;

/// The webhook body for `event` about `s`.
pub fn event_body(s: &ApprovalSnapshot, event: Event) -> Value {
    let mut data = json!({
        "approval_id": s.id.as_str(),
        "state": s.state.as_str(),
        "requester": {
            "username": s.requester_username,
            "name": s.requester_name,
            "email": s.requester_email,
        },
        "client": {"name": s.client_name},
        "scopes": s.scopes.iter().map(|scope| json!({
            "name": scope.name, "description": scope.description, "sensitive": scope.sensitive,
        })).collect::<Vec<_>>(),
        "justification": s.justification,
        "authorization_details": s.authorization_details,
        "binding_message": s.binding_message,
        "required": s.required,
        "approvals_given": s.approvals_given,
        "approvals_needed": s.approvals_needed,
        "votes": s.votes.iter().map(|vote| json!({
            "approver": vote.approver, "decision": vote.decision.as_str(),
            "comment": vote.comment, "at": rfc3339(vote.at),
        })).collect::<Vec<_>>(),
        "created_at": rfc3339(s.created_at),
        "expires_at": rfc3339(s.expires_at),
        "access_until": s.access_until.map(rfc3339),
        "page_url": s.page_url,
    });
    if let (Some(outcome), Some(map)) = (event.outcome(), data.as_object_mut()) {
        map.insert("outcome".into(), outcome.into());
    }
    json!({"type": event.type_name(), "timestamp": rfc3339(s.now), "data": data})
}

/// Why signing or verifying failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The secret is not `whsec_` + base64 of a non-empty key.
    #[error("the secret must be whsec_ followed by base64")]
    InvalidSecret,
    /// The message id is empty or contains `.` (the signed content's separator).
    #[error("the message id must be non-empty and contain no '.'")]
    InvalidMsgId,
    /// `webhook-timestamp` is not a unix time in seconds.
    #[error("malformed webhook-timestamp")]
    InvalidTimestamp,
    /// `webhook-timestamp` is more than five minutes from now.
    #[error("webhook-timestamp is too far from now")]
    Stale,
    /// No `v1` signature matches.
    #[error("no matching signature")]
    BadSignature,
}

/// A secret for a new endpoint: `whsec_` + base64 of `key` (use 24–64 random bytes).
pub fn secret_from_bytes(key: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

fn key_of(secret: &str) -> Result<Vec<u8>, WebhookError> {
    // The prefix is optional on input, as in the reference implementations.
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD
        .decode(encoded)
        .ok()
        .filter(|key| !key.is_empty())
        .ok_or(WebhookError::InvalidSecret)
}

fn mac(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> Result<Vec<u8>, WebhookError> {
    if msg_id.is_empty() || msg_id.contains('.') {
        return Err(WebhookError::InvalidMsgId);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| WebhookError::InvalidSecret)?;
    mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(mac.finalize().into_bytes().to_vec())
}

/// The `webhook-signature` value, `v1,<base64 HMAC-SHA256>`, of `body` sent as
/// `msg_id` at `timestamp`.
pub fn sign(
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, WebhookError> {
    let key = key_of(secret)?;
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac(&key, msg_id, timestamp, body)?)
    ))
}

/// Checks a received webhook as a receiver should: the timestamp within five minutes
/// of `now`, and any of the space-separated `v1,` signatures matching (several appear
/// while a secret rotates; other versions are skipped).
pub fn verify(
    secret: &str,
    msg_id: &str,
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
) -> Result<(), WebhookError> {
    let key = key_of(secret)?;
    if timestamp_header.is_empty() || !timestamp_header.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WebhookError::InvalidTimestamp);
    }
    let timestamp: i64 = timestamp_header
        .parse()
        .map_err(|_| WebhookError::InvalidTimestamp)?;
    if timestamp.abs_diff(now) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(WebhookError::Stale);
    }
    let expected = mac(&key, msg_id, timestamp, body)?;
    let matches = signature_header
        .split(' ')
        .filter_map(|item| item.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        // Slices of different lengths compare unequal (subtle checks the length).
        .any(|given| bool::from(given.ct_eq(&expected)));
    if matches {
        Ok(())
    } else {
        Err(WebhookError::BadSignature)
    }
}

/// Seconds to wait before the next attempt after `attempts_made` attempts failed, or
/// `None` once `max_attempts` have been made (then dead-letter the row). The waits
/// follow [`RETRY_SCHEDULE`]; a `max_attempts` beyond it repeats its last wait.
/// `jitter` in `[0, 1)` (the caller's random draw) spreads each wait by ±10 %.
pub fn next_attempt_delay(attempts_made: u32, max_attempts: u32, jitter: f64) -> Option<i64> {
    if attempts_made >= max_attempts {
        return None;
    }
    let index = usize::try_from(attempts_made).unwrap_or(usize::MAX);
    let base = RETRY_SCHEDULE
        .get(index)
        .or(RETRY_SCHEDULE.last())
        .copied()
        .unwrap_or(0);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let factor = 1.0 - JITTER + 2.0 * JITTER * jitter;
    // `base` ≤ one day, so the product is far inside i64 and f64's exact range.
    Some((base as f64 * factor).round() as i64)
}

/// What an endpoint's HTTP status means for the delivery (spec "Retries").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// 2xx: done.
    Delivered,
    /// 410 Gone: disable the endpoint, do not retry.
    DisableEndpoint,
    /// Anything else (and timeouts): retry on the schedule.
    Retry,
}

/// Classifies an endpoint's answer.
pub fn classify_status(status: u16) -> DeliveryOutcome {
    match status {
        200..=299 => DeliveryOutcome::Delivered,
        410 => DeliveryOutcome::DisableEndpoint,
        _ => DeliveryOutcome::Retry,
    }
}

#[cfg(test)]
mod tests;
