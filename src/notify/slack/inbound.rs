//! Calls from Slack to countersign: request signature verification (Slack "Verifying
//! requests from Slack": `v0:{timestamp}:{body}`, HMAC-SHA256, hex, five minutes) and
//! the interaction payload (`payload=` form field holding JSON: `block_actions` for a
//! button click, `view_submission` for the deny-reason modal).
//!
//! Verify the raw body first, then parse it. Refusing a replayed timestamp needs
//! state, so [`slack_verify`] returns the timestamp for the caller's store to check.

use std::collections::HashMap;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::{ACTION_APPROVE, ACTION_DENY, DENY_REASON_CALLBACK, REASON_INPUT};
use crate::approval::Decision;
use crate::ids::ApprovalId;

/// How far a request timestamp may be from our clock (Slack's own SDKs use 5 min).
pub const MAX_SKEW_SECONDS: i64 = 300;

/// Why a request was refused as not from Slack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackSignatureError {
    /// A header is missing its expected shape.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The timestamp is more than five minutes from now.
    #[error("request timestamp is too far from now")]
    Stale,
    /// The signature does not match the body.
    #[error("signature does not match")]
    BadSignature,
}

/// Checks `X-Slack-Signature` over `v0:{X-Slack-Request-Timestamp}:{body}` and returns
/// the timestamp (for the caller's replay check).
pub fn slack_verify(
    signing_secret: &[u8],
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
) -> Result<i64, SlackSignatureError> {
    let timestamp = parse_timestamp(timestamp_header)?;
    let given = signature_header
        .strip_prefix("v0=")
        .filter(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or(SlackSignatureError::Malformed("X-Slack-Signature"))?;
    if timestamp.abs_diff(now) > MAX_SKEW_SECONDS.unsigned_abs() {
        return Err(SlackSignatureError::Stale);
    }
    // An empty key would let anyone sign; it can only be a configuration mistake.
    let secret = Some(signing_secret).filter(|s| !s.is_empty());
    let mut mac = secret
        .and_then(|s| Hmac::<Sha256>::new_from_slice(s).ok())
        .ok_or(SlackSignatureError::Malformed("signing secret"))?;
    mac.update(b"v0:");
    mac.update(timestamp_header.as_bytes());
    mac.update(b":");
    mac.update(body);
    let expected = hex(&mac.finalize().into_bytes());
    let given = given.to_ascii_lowercase();
    if bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        Ok(timestamp)
    } else {
        Err(SlackSignatureError::BadSignature)
    }
}

fn parse_timestamp(header: &str) -> Result<i64, SlackSignatureError> {
    let malformed = SlackSignatureError::Malformed("X-Slack-Request-Timestamp");
    if header.is_empty() || header.len() > 12 || !header.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed);
    }
    header.parse().map_err(|_| malformed)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a verified interaction asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackInteraction {
    /// Approve or Deny was clicked. A Deny is answered with `views.open` of
    /// [`deny_modal`](super::deny_modal) using `trigger_id` (valid about 3 s).
    Decide(SlackDecision),
    /// The deny-reason modal was submitted.
    DenyReason(SlackDenyReason),
    /// Anything else (the link button, other payload types): acknowledge, do nothing.
    Ignored,
}

/// An Approve or Deny click on a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackDecision {
    /// The clicker's Slack user id (map it to an account before deciding).
    pub user_id: String,
    /// The clicker's workspace.
    pub team_id: Option<String>,
    /// Which button.
    pub decision: Decision,
    /// From the button's `value`.
    pub approval_id: ApprovalId,
    /// For an ephemeral or replacing answer (5 uses in 30 min).
    pub response_url: Option<String>,
    /// For `views.open`.
    pub trigger_id: String,
    /// The message's channel.
    pub channel_id: Option<String>,
    /// The message's `ts`.
    pub message_ts: Option<String>,
}

/// A submitted deny-reason modal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackDenyReason {
    /// The submitter's Slack user id.
    pub user_id: String,
    /// The submitter's workspace.
    pub team_id: Option<String>,
    /// From `private_metadata`.
    pub approval_id: ApprovalId,
    /// The reason typed, trimmed, never empty.
    pub reason: String,
}

/// Why an interaction body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackInteractionError {
    /// No `payload` form field, or more than one.
    #[error("the body must carry exactly one payload field")]
    NoPayload,
    /// The payload is not the JSON we expect.
    #[error("payload is not a Slack interaction: {0}")]
    Json(String),
    /// A `block_actions` payload without an action.
    #[error("no action in the payload")]
    NoAction,
    /// The approval id is missing or malformed.
    #[error("malformed approval id")]
    BadApprovalId,
    /// The deny reason is empty.
    #[error("a deny needs a reason")]
    EmptyReason,
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum RawPayload {
    #[serde(rename = "block_actions")]
    BlockActions(RawBlockActions),
    #[serde(rename = "view_submission")]
    ViewSubmission(RawViewSubmission),
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct RawUser {
    id: String,
    team_id: Option<String>,
}

#[derive(Deserialize)]
struct RawTeam {
    id: String,
}

#[derive(Deserialize)]
struct RawBlockActions {
    user: RawUser,
    team: Option<RawTeam>,
    actions: Vec<RawAction>,
    response_url: Option<String>,
    trigger_id: String,
    container: Option<RawContainer>,
}

#[derive(Deserialize)]
struct RawAction {
    action_id: String,
    value: Option<String>,
}

#[derive(Deserialize)]
struct RawContainer {
    channel_id: Option<String>,
    message_ts: Option<String>,
}

#[derive(Deserialize)]
struct RawViewSubmission {
    user: RawUser,
    team: Option<RawTeam>,
    view: RawView,
}

#[derive(Deserialize)]
struct RawView {
    callback_id: String,
    private_metadata: String,
    state: RawViewState,
}

#[derive(Deserialize)]
struct RawViewState {
    values: HashMap<String, HashMap<String, RawInputValue>>,
}

#[derive(Deserialize)]
struct RawInputValue {
    value: Option<String>,
}

/// Parses a verified interaction body (`application/x-www-form-urlencoded`,
/// `payload=<json>`).
pub fn parse_interaction(body: &[u8]) -> Result<SlackInteraction, SlackInteractionError> {
    let mut payloads = url::form_urlencoded::parse(body).filter(|(k, _)| k == "payload");
    let (Some((_, json)), None) = (payloads.next(), payloads.next()) else {
        return Err(SlackInteractionError::NoPayload);
    };
    let raw: RawPayload =
        serde_json::from_str(&json).map_err(|e| SlackInteractionError::Json(e.to_string()))?;
    match raw {
        RawPayload::BlockActions(raw) => block_action(raw),
        RawPayload::ViewSubmission(raw) => view_submission(raw),
        RawPayload::Other => Ok(SlackInteraction::Ignored),
    }
}

fn team(user: &RawUser, team: Option<RawTeam>) -> Option<String> {
    team.map(|t| t.id).or_else(|| user.team_id.clone())
}

fn block_action(raw: RawBlockActions) -> Result<SlackInteraction, SlackInteractionError> {
    let action = raw
        .actions
        .into_iter()
        .next()
        .ok_or(SlackInteractionError::NoAction)?;
    let decision = match action.action_id.as_str() {
        ACTION_APPROVE => Decision::Approve,
        ACTION_DENY => Decision::Deny,
        _ => return Ok(SlackInteraction::Ignored),
    };
    let approval_id = action
        .value
        .as_deref()
        .and_then(|v| ApprovalId::parse(v).ok())
        .ok_or(SlackInteractionError::BadApprovalId)?;
    let (channel_id, message_ts) = raw
        .container
        .map(|c| (c.channel_id, c.message_ts))
        .unwrap_or_default();
    Ok(SlackInteraction::Decide(SlackDecision {
        team_id: team(&raw.user, raw.team),
        user_id: raw.user.id,
        decision,
        approval_id,
        response_url: raw.response_url,
        trigger_id: raw.trigger_id,
        channel_id,
        message_ts,
    }))
}

fn view_submission(raw: RawViewSubmission) -> Result<SlackInteraction, SlackInteractionError> {
    if raw.view.callback_id != DENY_REASON_CALLBACK {
        return Ok(SlackInteraction::Ignored);
    }
    let approval_id = ApprovalId::parse(&raw.view.private_metadata)
        .map_err(|_| SlackInteractionError::BadApprovalId)?;
    let reason = raw
        .view
        .state
        .values
        .get(REASON_INPUT)
        .and_then(|block| block.get(REASON_INPUT))
        .and_then(|input| input.value.as_deref())
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or(SlackInteractionError::EmptyReason)?
        .to_owned();
    Ok(SlackInteraction::DenyReason(SlackDenyReason {
        team_id: team(&raw.user, raw.team),
        user_id: raw.user.id,
        approval_id,
        reason,
    }))
}
