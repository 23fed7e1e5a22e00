//! Microsoft Teams: Adaptive Cards (<https://adaptivecards.io/explorer/>) for a Workflows
//! webhook (post only, so link only: card 1.4, `Action.OpenUrl`) and for the bot
//! (card 1.5, `Action.Execute` Approve/Deny when the policy lets chat decide).
//! Inbound invokes are in [`invoke`], Bot Framework token checks in [`auth`].
//!
//! Escaping: `TextBlock.text`, `Fact.title` and `Fact.value` are read as Markdown by
//! Teams ("Format cards in Teams"), so user text there gets the Markdown
//! punctuation Teams acts on backslash-escaped (no injected links or emphasis); free text
//! (justification, comments) goes into `RichTextBlock` `TextRun`s, which Teams shows
//! literally. Adaptive Cards render no HTML. Free text is cut at 2000 characters
//! and at most 20 votes are listed, to stay well under Teams' 28 KB message limit.

pub mod auth;
pub mod invoke;

pub use auth::{verify_bot_token, BotClaims, BotJwks, BotTokenError};
pub use invoke::{invoke_error, invoke_response, parse_invoke, TeamsInvoke, TeamsInvokeError};

use serde_json::{json, Value};

use super::snapshot::{decision_verb, utc_words, ApprovalSnapshot};
use crate::approval::ApprovalState;

/// `verb` of the Approve action.
pub const VERB_APPROVE: &str = "countersign.approve";
/// `verb` of the Deny action.
pub const VERB_DENY: &str = "countersign.deny";
/// `id` of the reason input; its value arrives in the action's `data`.
pub const COMMENT_INPUT: &str = "comment";
/// Content type of an Adaptive Card attachment.
pub const CARD_CONTENT_TYPE: &str = "application/vnd.microsoft.card.adaptive";

const FREE_TEXT_MAX: usize = 2000;
const VOTES_MAX: usize = 20;

/// Backslash-escapes the Markdown punctuation Teams acts on (emphasis, code, links,
/// `<at>` tags) so user text shows as typed.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_[]<>~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Cuts text to `max` characters, by character, with a " (truncated)" suffix.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max).collect();
    cut.push_str(" (truncated)");
    cut
}

/// The Workflows webhook envelope around a link-only card 1.4 (a webhook cannot
/// receive a click, so it never carries decision buttons).
pub fn teams_workflow_message(s: &ApprovalSnapshot) -> Value {
    let card = card(s, "1.4", Vec::new(), vec![open_action(s)]);
    json!({
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": null, "content": card}],
    })
}

/// The bot's card 1.5: while pending and when chat may decide, a required reason input
/// and `Action.Execute` Approve/Deny next to the link; otherwise the link only. Send it
/// as an attachment, and return it from [`invoke_response`] to replace the clicked card.
pub fn teams_bot_card(s: &ApprovalSnapshot) -> Value {
    if !s.shows_decision_buttons() {
        return card(s, "1.5", Vec::new(), vec![open_action(s)]);
    }
    let data = json!({"approval_id": s.id.as_str()});
    let input = json!({
        "type": "Input.Text", "id": COMMENT_INPUT, "isMultiline": true, "maxLength": 1000,
        "isRequired": true, "label": "Reason (required to deny)",
        "errorMessage": "Say why you deny the request.",
    });
    let actions = vec![
        json!({"type": "Action.Execute", "title": "Approve", "verb": VERB_APPROVE,
               "data": data, "style": "positive", "associatedInputs": "none"}),
        json!({"type": "Action.Execute", "title": "Deny", "verb": VERB_DENY,
               "data": data, "style": "destructive", "associatedInputs": "auto"}),
        open_action(s),
    ];
    card(s, "1.5", vec![input], actions)
}

fn open_action(s: &ApprovalSnapshot) -> Value {
    json!({"type": "Action.OpenUrl", "title": "Open in countersign", "url": s.page_url})
}

fn card(s: &ApprovalSnapshot, version: &str, inputs: Vec<Value>, actions: Vec<Value>) -> Value {
    let mut body = vec![
        json!({"type": "TextBlock", "text": s.status_line(), "weight": "Bolder",
               "size": "Medium", "color": color(s.state), "wrap": true}),
        json!({"type": "TextBlock", "wrap": true, "text": format!(
            "**{}** asks for access to **{}**", escape(&s.requester()), escape(&s.client_name))}),
        json!({"type": "FactSet", "facts": facts(s)}),
        json!({"type": "TextBlock", "text": "Scopes", "weight": "Bolder", "wrap": true}),
        json!({"type": "FactSet", "facts": scopes(s)}),
    ];
    for entry in s.detail_lines() {
        body.push(
            json!({"type": "TextBlock", "wrap": true, "weight": "Bolder",
            "text": format!("Action: {}", escape(&entry.kind))}),
        );
        let facts: Vec<Value> = entry
            .fields
            .iter()
            .map(|(name, value)| fact(&escape(name), escape(value)))
            .collect();
        body.push(json!({"type": "FactSet", "facts": facts}));
    }
    if let Some(why) = &s.justification {
        body.push(json!({"type": "TextBlock", "text": "Justification", "weight": "Bolder"}));
        body.push(rich(vec![run(&clip(why, FREE_TEXT_MAX))]));
    }
    if !s.votes.is_empty() {
        body.push(json!({"type": "TextBlock", "text": "Votes", "weight": "Bolder"}));
        body.extend(votes(s));
    }
    body.extend(inputs);
    json!({
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": version,
        "msteams": {"width": "Full"},
        "body": body,
        "actions": actions,
    })
}

fn color(state: ApprovalState) -> &'static str {
    match state {
        ApprovalState::Pending => "Accent",
        ApprovalState::Approved | ApprovalState::Redeemed => "Good",
        ApprovalState::Denied | ApprovalState::Revoked => "Attention",
        ApprovalState::Expired | ApprovalState::Cancelled => "Warning",
    }
}

fn fact(title: &str, value: String) -> Value {
    json!({"title": title, "value": value})
}

fn facts(s: &ApprovalSnapshot) -> Vec<Value> {
    let mut facts = vec![
        fact(
            "Requester",
            escape(&format!("{} · {}", s.requester(), s.requester_email)),
        ),
        fact("Application", escape(&s.client_name)),
        fact("Must approve", escape(&s.required)),
        fact("Progress", s.progress()),
    ];
    if s.is_pending() {
        let left = format!("{} (until {})", s.time_left(), utc_words(s.expires_at));
        facts.push(fact("Time left", left));
    } else {
        facts.push(fact("Outcome", s.status().to_owned()));
    }
    if let (Some(until), ApprovalState::Approved | ApprovalState::Redeemed) =
        (s.access_until, s.state)
    {
        facts.push(fact("Access until", utc_words(until)));
    }
    if let Some(message) = &s.binding_message {
        facts.push(fact("Binding message", escape(message)));
    }
    facts.push(fact("Request", escape(s.id.as_str())));
    facts
}

fn scopes(s: &ApprovalSnapshot) -> Vec<Value> {
    s.scopes
        .iter()
        .map(|scope| {
            let mut value = escape(&scope.description);
            if scope.sensitive {
                value.push_str(" **(needs approval)**");
            }
            json!({"title": escape(&scope.name), "value": value})
        })
        .collect()
}

fn rich(inlines: Vec<Value>) -> Value {
    json!({"type": "RichTextBlock", "inlines": inlines})
}

/// A literal run of text: `TextRun` does not read Markdown.
fn run(text: &str) -> Value {
    json!({"type": "TextRun", "text": text})
}

fn votes(s: &ApprovalSnapshot) -> Vec<Value> {
    let mut lines: Vec<Value> = s
        .votes
        .iter()
        .take(VOTES_MAX)
        .map(|vote| {
            let mut inlines = vec![
                json!({"type": "TextRun", "text": clip(&vote.approver, 200), "weight": "Bolder"}),
                run(&format!(
                    " {} {}",
                    decision_verb(vote.decision),
                    utc_words(vote.at)
                )),
            ];
            if let Some(comment) = vote.comment.as_deref().filter(|c| !c.trim().is_empty()) {
                inlines.push(run(&format!(": “{}”", clip(comment, FREE_TEXT_MAX))));
            }
            rich(inlines)
        })
        .collect();
    if s.votes.len() > VOTES_MAX {
        let more = s.votes.len() - VOTES_MAX;
        lines.push(rich(vec![run(&format!("and {more} more"))]));
    }
    lines
}

#[cfg(test)]
mod tests;
