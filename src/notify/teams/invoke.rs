//! The bot's side of a click on an `Action.Execute` (Universal Actions for Adaptive
//! Cards): an `invoke` activity named `adaptiveCard/action`, and its answer, which the
//! caller sends as the HTTP 200 body (`statusCode` inside says how it went). A card in
//! the answer replaces the clicked card for the clicker.
//!
//! Verify the `Authorization` token ([`verify_bot_token`](super::verify_bot_token))
//! with this activity's `channelId` and `serviceUrl` before acting on it.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{CARD_CONTENT_TYPE, VERB_APPROVE, VERB_DENY};
use crate::approval::Decision;
use crate::ids::ApprovalId;

/// A verified click's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamsInvoke {
    /// `countersign.approve` → Approve, `countersign.deny` → Deny.
    pub verb: Decision,
    /// From the action's `data`.
    pub approval_id: ApprovalId,
    /// The reason input, trimmed; always present for a deny.
    pub comment: Option<String>,
    /// The clicker's Entra object id (`from.aadObjectId`): match it to the
    /// approver's upstream `oid`.
    pub from_aad_object_id: Option<String>,
    /// The clicker's Teams id (`from.id`, `29:…`).
    pub from_id: String,
    /// `serviceUrl`: must equal the token's `serviceurl` claim.
    pub service_url: String,
    /// `channelId` (`msteams`): must be endorsed by the signing key.
    pub channel_id: String,
}

/// Why an activity was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TeamsInvokeError {
    /// Not the JSON of an activity.
    #[error("not a Bot Framework activity: {0}")]
    Json(String),
    /// Some other activity or invoke (the caller may ignore it).
    #[error("not an adaptiveCard/action invoke")]
    NotCardAction,
    /// An `Action.Execute` verb we never render.
    #[error("unknown verb {0}")]
    UnknownVerb(String),
    /// The approval id is missing or malformed.
    #[error("malformed approval id")]
    BadApprovalId,
    /// A deny without a reason.
    #[error("a deny needs a reason")]
    DenyWithoutComment,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawActivity {
    #[serde(rename = "type")]
    kind: String,
    name: Option<String>,
    from: RawFrom,
    service_url: String,
    channel_id: String,
    value: Option<RawInvokeValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFrom {
    id: String,
    aad_object_id: Option<String>,
}

#[derive(Deserialize)]
struct RawInvokeValue {
    action: RawAction,
}

#[derive(Deserialize)]
struct RawAction {
    #[serde(rename = "type")]
    kind: String,
    verb: Option<String>,
    #[serde(default)]
    data: RawData,
}

#[derive(Deserialize, Default)]
struct RawData {
    approval_id: Option<String>,
    comment: Option<String>,
}

/// Parses an `adaptiveCard/action` invoke activity (the request body).
pub fn parse_invoke(body: &[u8]) -> Result<TeamsInvoke, TeamsInvokeError> {
    let raw: RawActivity =
        serde_json::from_slice(body).map_err(|e| TeamsInvokeError::Json(e.to_string()))?;
    if raw.kind != "invoke" || raw.name.as_deref() != Some("adaptiveCard/action") {
        return Err(TeamsInvokeError::NotCardAction);
    }
    let action = raw.value.ok_or(TeamsInvokeError::NotCardAction)?.action;
    if action.kind != "Action.Execute" {
        return Err(TeamsInvokeError::NotCardAction);
    }
    let verb = match action.verb.as_deref() {
        Some(VERB_APPROVE) => Decision::Approve,
        Some(VERB_DENY) => Decision::Deny,
        other => {
            return Err(TeamsInvokeError::UnknownVerb(
                other.unwrap_or_default().chars().take(64).collect(),
            ))
        }
    };
    let approval_id = action
        .data
        .approval_id
        .as_deref()
        .and_then(|id| ApprovalId::parse(id).ok())
        .ok_or(TeamsInvokeError::BadApprovalId)?;
    let comment = action
        .data
        .comment
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    if verb == Decision::Deny && comment.is_none() {
        return Err(TeamsInvokeError::DenyWithoutComment);
    }
    Ok(TeamsInvoke {
        verb,
        approval_id,
        comment,
        from_aad_object_id: raw.from.aad_object_id,
        from_id: raw.from.id,
        service_url: raw.service_url,
        channel_id: raw.channel_id,
    })
}

/// The answer that replaces the clicked card with `card`.
pub fn invoke_response(card: Value) -> Value {
    json!({"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card})
}

/// The answer refusing a click; Teams shows `message` to the clicker. `status` is a
/// 4xx (or 5xx) code.
pub fn invoke_error(status: u16, code: &str, message: &str) -> Value {
    json!({
        "statusCode": status,
        "type": "application/vnd.microsoft.error",
        "value": {"code": code, "message": message},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity(verb: &str, data: Value) -> Value {
        json!({
            "type": "invoke", "name": "adaptiveCard/action", "id": "f:1",
            "channelId": "msteams", "serviceUrl": "https://smba.trafficmanager.net/emea/",
            "from": {"id": "29:1abc", "name": "Bob", "aadObjectId": "00000000-0000-0000-0000-0000000000b0"},
            "conversation": {"id": "a:1"}, "recipient": {"id": "28:bot"},
            "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data},
                      "trigger": "manual"},
        })
    }

    fn parse(v: &Value) -> Result<TeamsInvoke, TeamsInvokeError> {
        parse_invoke(v.to_string().as_bytes())
    }

    #[test]
    fn a_deny_click_carries_the_reason_the_clicker_and_the_service_url() {
        let data = json!({"approval_id": "apv_123", "comment": "  too broad "});
        assert_eq!(
            parse(&activity(VERB_DENY, data)),
            Ok(TeamsInvoke {
                verb: Decision::Deny,
                approval_id: ApprovalId::new("apv_123"),
                comment: Some("too broad".into()),
                from_aad_object_id: Some("00000000-0000-0000-0000-0000000000b0".into()),
                from_id: "29:1abc".into(),
                service_url: "https://smba.trafficmanager.net/emea/".into(),
                channel_id: "msteams".into(),
            })
        );
    }

    #[test]
    fn an_approve_click_needs_no_comment() {
        let parsed = parse(&activity(VERB_APPROVE, json!({"approval_id": "apv_1"}))).unwrap();
        assert_eq!(parsed.verb, Decision::Approve);
        assert_eq!(parsed.comment, None);
    }

    #[test]
    fn bad_invokes_are_refused() {
        use TeamsInvokeError as E;
        let deny = |data| parse(&activity(VERB_DENY, data));
        assert_eq!(
            deny(json!({"approval_id": "apv_1", "comment": " "})),
            Err(E::DenyWithoutComment)
        );
        assert_eq!(deny(json!({"approval_id": "a b"})), Err(E::BadApprovalId));
        assert_eq!(deny(json!({})), Err(E::BadApprovalId));
        let other = activity("countersign.steal", json!({"approval_id": "apv_1"}));
        assert_eq!(
            parse(&other),
            Err(E::UnknownVerb("countersign.steal".into()))
        );
        let mut message = activity(VERB_APPROVE, json!({"approval_id": "apv_1"}));
        message["type"] = json!("message");
        assert_eq!(parse(&message), Err(E::NotCardAction));
        let mut submit = activity(VERB_APPROVE, json!({"approval_id": "apv_1"}));
        submit["value"]["action"]["type"] = json!("Action.Submit");
        assert_eq!(parse(&submit), Err(E::NotCardAction));
        assert!(matches!(parse_invoke(b"{"), Err(E::Json(_))));
        assert!(matches!(parse(&json!({"type": "invoke"})), Err(E::Json(_))));
    }

    #[test]
    fn responses_have_the_universal_actions_shape() {
        let card = json!({"type": "AdaptiveCard"});
        assert_eq!(
            invoke_response(card.clone()),
            json!({"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive",
                   "value": card})
        );
        assert_eq!(
            invoke_error(403, "forbidden", "You are not an approver of this request."),
            json!({"statusCode": 403, "type": "application/vnd.microsoft.error",
                   "value": {"code": "forbidden",
                             "message": "You are not an approver of this request."}})
        );
    }
}
