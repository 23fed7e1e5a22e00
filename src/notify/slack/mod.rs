//! Slack messages (Block Kit, <https://api.slack.com/reference/block-kit>) for
//! `chat.postMessage` / `chat.update`, and the deny-reason modal for `views.open`.
//! Inbound calls (request signing, interaction payloads) are in [`inbound`].
//!
//! Every piece of user text is escaped for mrkdwn (`&`, `<`, `>`: Slack's "formatting
//! text" rules), so nobody can inject a link or a `<!channel>` mention, and every text
//! object is cut at Slack's limit (3000 characters, 2000 for a section field), by
//! character, since one oversized object makes Slack refuse the whole message
//! (`invalid_blocks`). Approve/Deny buttons appear only while pending and when the
//! policy lets chat decide; otherwise the only control is a link to the page, where
//! step-up applies (research/notifications-and-chat.md §0).

pub mod inbound;

pub use inbound::{
    parse_interaction, slack_verify, SlackDecision, SlackDenyReason, SlackInteraction,
    SlackInteractionError, SlackSignatureError,
};

use serde_json::{json, Value};

use super::snapshot::{decision_verb, ApprovalSnapshot};
use crate::approval::details::DetailLines;
use crate::approval::{ApprovalState, Decision};
use crate::ids::ApprovalId;

/// `action_id` of the Approve button.
pub const ACTION_APPROVE: &str = "countersign_approve";
/// `action_id` of the Deny button (the caller answers it with [`deny_modal`]).
pub const ACTION_DENY: &str = "countersign_deny";
/// `action_id` of the link button; Slack still posts an interaction for it, to be acked.
pub const ACTION_OPEN: &str = "countersign_open";
/// `callback_id` of the deny-reason modal.
pub const DENY_REASON_CALLBACK: &str = "countersign_deny_reason";
/// `block_id` and `action_id` of the modal's reason input.
pub const REASON_INPUT: &str = "reason";

/// Slack's limit for a text object.
const TEXT_MAX: usize = 3000;
/// Slack's limit for one section field.
const FIELD_MAX: usize = 2000;
const TRUNCATED: &str = " (truncated)";

/// Escapes user text for mrkdwn: `&`, `<` and `>` become entities.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Cuts mrkdwn text to `max` characters (suffix " (truncated)"), never inside an
/// entity or a `<…>` link, which would show as garbage.
pub fn truncate(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let keep = max.saturating_sub(TRUNCATED.chars().count());
    let mut cut: String = text.chars().take(keep).collect();
    for (open, close) in [('<', '>'), ('&', ';')] {
        if let Some(at) = cut.rfind(open) {
            if cut.get(at..).is_some_and(|tail| !tail.contains(close)) {
                cut.truncate(at);
            }
        }
    }
    cut.push_str(TRUNCATED);
    cut
}

fn mrkdwn(text: String, max: usize) -> Value {
    json!({"type": "mrkdwn", "text": truncate(text, max)})
}

fn plain(text: &str) -> Value {
    json!({"type": "plain_text", "text": text, "emoji": true})
}

/// A Slack date token, shown in each reader's time zone; `fallback` for old clients.
fn date(at: i64) -> String {
    format!(
        "<!date^{at}^{{date_short_pretty}} at {{time}}|{}>",
        super::snapshot::utc_words(at)
    )
}

/// The message for `chat.postMessage` / `chat.update`: `{"text", "blocks"}`; the caller
/// adds `channel` (and `ts` to update).
pub fn slack_message(s: &ApprovalSnapshot) -> Value {
    let mut blocks = vec![
        json!({"type": "header", "text": plain(header(s))}),
        json!({
            "type": "section",
            "text": mrkdwn(format!(
                "*{}* asks for access to *{}*",
                escape(&s.requester()),
                escape(&s.client_name)
            ), TEXT_MAX),
            "fields": fields(s),
        }),
        json!({"type": "section", "text": mrkdwn(scopes(s), TEXT_MAX)}),
    ];
    // What the client sent is plain text, never mrkdwn: a `*` or a backtick in a
    // creditor's name cannot fake another line of the action.
    if let Some(message) = &s.binding_message {
        let text = format!("Binding message (shown on the requester's device): {message}");
        blocks.push(json!({"type": "section", "text": plain_text(text)}));
    }
    for entry in s.detail_lines() {
        blocks.extend(action(&entry));
    }
    if let Some(why) = &s.justification {
        let quoted = escape(why)
            .lines()
            .map(|line| format!(">{line}"))
            .collect::<Vec<_>>()
            .join("\n");
        let text = format!("*Justification*\n{quoted}");
        blocks.push(json!({"type": "section", "text": mrkdwn(text, TEXT_MAX)}));
    }
    if !s.votes.is_empty() {
        blocks.push(json!({"type": "section", "text": mrkdwn(votes(s), TEXT_MAX)}));
    }
    blocks.push(json!({"type": "context", "elements": [mrkdwn(context(s), TEXT_MAX)]}));
    if s.is_pending() {
        blocks.push(json!({"type": "actions", "block_id": "countersign_actions",
                           "elements": buttons(s)}));
    }
    json!({"text": truncate(fallback(s), TEXT_MAX), "blocks": blocks})
}

fn header(s: &ApprovalSnapshot) -> &'static str {
    if s.is_pending() {
        "⏳ Approval needed"
    } else {
        s.status()
    }
}

/// The notification text (and what screen readers get): escaped, it is mrkdwn too.
fn fallback(s: &ApprovalSnapshot) -> String {
    let what = format!(
        "{} asks for {} on {}",
        s.requester(),
        s.scope_names(),
        s.client_name
    );
    if s.is_pending() {
        escape(&format!("Approval needed: {what}"))
    } else {
        escape(&format!("{}: {what}", s.status()))
    }
}

fn fields(s: &ApprovalSnapshot) -> Vec<Value> {
    let mut fields = vec![
        (
            "Requester",
            escape(&format!("{} <{}>", s.requester(), s.requester_email)),
        ),
        ("Application", escape(&s.client_name)),
        ("Must approve", escape(&s.required)),
        ("Progress", s.progress()),
    ];
    if s.is_pending() {
        let left = format!("{} (until {})", s.time_left(), date(s.expires_at));
        fields.push(("Time left", left));
    } else {
        fields.push(("Outcome", s.status().to_owned()));
    }
    if let (Some(until), ApprovalState::Approved | ApprovalState::Redeemed) =
        (s.access_until, s.state)
    {
        fields.push(("Access until", date(until)));
    }
    fields
        .into_iter()
        .map(|(label, value)| mrkdwn(format!("*{label}*\n{value}"), FIELD_MAX))
        .collect()
}

fn scopes(s: &ApprovalSnapshot) -> String {
    let mut text = String::from("*Scopes*");
    for scope in &s.scopes {
        text.push_str(&format!("\n• `{}`", escape(&scope.name)));
        if !scope.description.is_empty() {
            text.push_str(&format!(" {}", escape(&scope.description)));
        }
        if scope.sensitive {
            text.push_str(" _(needs approval)_");
        }
    }
    text
}

/// One `authorization_details` entry, field by field: exactly what is approved. The
/// fields are `plain_text` (ten to a section, Slack's limit).
fn action(entry: &DetailLines) -> Vec<Value> {
    let heading = format!("*Action: {}*", escape(&entry.kind));
    let mut blocks = vec![json!({"type": "section", "text": mrkdwn(heading, TEXT_MAX)})];
    for chunk in entry.fields.chunks(10) {
        let fields: Vec<Value> = chunk
            .iter()
            .map(|(name, value)| plain_text(format!("{name}: {value}")))
            .collect();
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    blocks
}

/// A `plain_text` object, cut to a field's length.
fn plain_text(text: String) -> Value {
    json!({"type": "plain_text", "text": truncate(text, FIELD_MAX)})
}

fn votes(s: &ApprovalSnapshot) -> String {
    let mut text = String::from("*Votes*");
    for vote in &s.votes {
        let mark = match vote.decision {
            Decision::Approve => "✅",
            Decision::Deny => "❌",
        };
        text.push_str(&format!(
            "\n{mark} *{}* {} {}",
            escape(&vote.approver),
            decision_verb(vote.decision),
            date(vote.at)
        ));
        if let Some(comment) = vote.comment.as_deref().filter(|c| !c.trim().is_empty()) {
            text.push_str(&format!(": “{}”", escape(comment)));
        }
    }
    text
}

fn context(s: &ApprovalSnapshot) -> String {
    let status = escape(&s.status_line());
    if s.is_pending() {
        format!("{status} · request `{}`", s.id)
    } else {
        let link = format!("<{}|View in countersign>", link_target(&s.page_url));
        format!("{status} · request `{}` · {link}", s.id)
    }
}

/// A URL inside `<…|…>`: Slack reads `|` and `>` as syntax, so they are encoded.
fn link_target(url: &str) -> String {
    url.replace('|', "%7C")
        .replace('>', "%3E")
        .replace('<', "%3C")
}

fn buttons(s: &ApprovalSnapshot) -> Vec<Value> {
    let open = json!({
        "type": "button", "action_id": ACTION_OPEN, "url": s.page_url,
        "text": plain("Open in countersign"),
    });
    if !s.chat_decisions {
        return vec![open];
    }
    vec![
        json!({
            "type": "button", "action_id": ACTION_APPROVE, "value": s.id.as_str(),
            "style": "primary", "text": plain("Approve"),
            "confirm": {
                "title": plain("Approve this request?"),
                "text": plain("The requester gets the access once every group has approved."),
                "confirm": plain("Approve"), "deny": plain("Cancel"),
            },
        }),
        json!({
            "type": "button", "action_id": ACTION_DENY, "value": s.id.as_str(),
            "style": "danger", "text": plain("Deny"),
        }),
        open,
    ]
}

/// The modal `views.open` shows after a Deny click: one required multiline reason.
/// Its submission comes back as a `view_submission` ([`SlackInteraction::DenyReason`]).
pub fn deny_modal(approval_id: &ApprovalId) -> Value {
    json!({
        "type": "modal",
        "callback_id": DENY_REASON_CALLBACK,
        "private_metadata": approval_id.as_str(),
        "title": plain("Deny request"),
        "submit": plain("Deny"),
        "close": plain("Cancel"),
        "blocks": [{
            "type": "input",
            "block_id": REASON_INPUT,
            "optional": false,
            "label": plain("Reason (the requester sees it)"),
            "element": {
                "type": "plain_text_input", "action_id": REASON_INPUT,
                "multiline": true, "min_length": 1, "max_length": 1000,
            },
        }],
    })
}

/// The answer to a deny-reason submission that keeps the modal open with `message`
/// under the input (e.g. "You are not an approver of this request.").
pub fn deny_modal_error(message: &str) -> Value {
    json!({"response_action": "errors", "errors": {REASON_INPUT: message}})
}

/// A reply only the clicker sees, posted to the click's `response_url` (why a click
/// was refused, or what it did); the message itself is left as it is.
pub fn ephemeral(text: &str) -> Value {
    json!({
        "response_type": "ephemeral",
        "replace_original": false,
        "text": truncate(escape(text), TEXT_MAX),
    })
}

#[cfg(test)]
mod tests;
