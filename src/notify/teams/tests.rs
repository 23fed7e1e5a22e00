use serde_json::Value;

use super::*;
use crate::approval::Decision;
use crate::notify::snapshot::{sample, VoteLine};

fn action_types(card: &Value) -> Vec<(String, String)> {
    card["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let kind = a["type"].as_str().unwrap().to_owned();
            let verb = a["verb"].as_str().unwrap_or_default().to_owned();
            (kind, verb)
        })
        .collect()
}

fn body_of(card: &Value, kind: &str) -> Vec<Value> {
    card["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == kind)
        .cloned()
        .collect()
}

fn fact(card: &Value, title: &str) -> String {
    body_of(card, "FactSet")[0]["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["title"] == title)
        .map(|f| f["value"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[test]
fn the_workflow_message_wraps_a_link_only_card_in_the_webhook_envelope() {
    let message = teams_workflow_message(&sample());
    assert_eq!(message["type"], "message");
    let attachment = &message["attachments"][0];
    assert_eq!(attachment["contentType"], CARD_CONTENT_TYPE);
    assert!(attachment["contentUrl"].is_null());
    let card = &attachment["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["version"], "1.4");
    assert_eq!(
        action_types(card),
        [("Action.OpenUrl".to_owned(), String::new())]
    );
    assert_eq!(card["actions"][0]["title"], "Open in countersign");
    assert_eq!(
        card["actions"][0]["url"],
        "https://id.example.com/approvals/apv_123"
    );
    assert!(body_of(card, "Input.Text").is_empty());
}

#[test]
fn the_bot_card_offers_approve_and_deny_with_a_required_reason_when_chat_may_decide() {
    let card = teams_bot_card(&sample());
    assert_eq!(card["version"], "1.5");
    assert_eq!(
        action_types(&card),
        [
            ("Action.Execute".to_owned(), VERB_APPROVE.to_owned()),
            ("Action.Execute".to_owned(), VERB_DENY.to_owned()),
            ("Action.OpenUrl".to_owned(), String::new()),
        ]
    );
    assert_eq!(card["actions"][0]["data"]["approval_id"], "apv_123");
    assert_eq!(card["actions"][1]["data"]["approval_id"], "apv_123");
    // The reason is required for Deny only: Approve does not submit the input.
    assert_eq!(card["actions"][0]["associatedInputs"], "none");
    assert_eq!(card["actions"][1]["associatedInputs"], "auto");
    let input = &body_of(&card, "Input.Text")[0];
    assert_eq!(input["id"], COMMENT_INPUT);
    assert_eq!(input["isRequired"], true);
    assert_eq!(input["isMultiline"], true);
}

#[test]
fn the_bot_card_is_link_only_without_chat_decisions_or_once_decided() {
    let mut s = sample();
    s.chat_decisions = false;
    let link_only = [("Action.OpenUrl".to_owned(), String::new())];
    let card = teams_bot_card(&s);
    assert_eq!(action_types(&card), link_only);
    assert!(body_of(&card, "Input.Text").is_empty());
    assert!(!card.to_string().contains(VERB_DENY));
    s.chat_decisions = true;
    s.state = ApprovalState::Approved;
    s.access_until = Some(1_790_086_400);
    let card = teams_bot_card(&s);
    assert_eq!(action_types(&card), link_only);
    assert_eq!(fact(&card, "Outcome"), "✅ Approved");
    assert_eq!(fact(&card, "Access until"), "2026-09-22 14:13 UTC");
    assert_eq!(fact(&card, "Time left"), "");
    assert_eq!(body_of(&card, "TextBlock")[0]["color"], "Good");
}

#[test]
fn the_card_shows_status_facts_scopes_justification_and_votes() {
    let card = teams_bot_card(&sample());
    let status = &body_of(&card, "TextBlock")[0];
    assert_eq!(status["text"], "⏳ Pending: 1 of 2 approvals, 45 min left");
    assert_eq!(status["color"], "Accent");
    assert_eq!(
        fact(&card, "Requester"),
        "Alice Smith (alice) · alice@example.com"
    );
    assert_eq!(fact(&card, "Application"), "Payroll");
    assert_eq!(
        fact(&card, "Must approve"),
        "1 approval from approvers, 1 from security"
    );
    assert_eq!(fact(&card, "Progress"), "1 of 2 approvals");
    assert_eq!(
        fact(&card, "Time left"),
        "45 min (until 2026-09-21 15:13 UTC)"
    );
    assert_eq!(fact(&card, "Request"), "apv\\_123");
    assert_eq!(fact(&card, "Binding message"), "Pay ACME 4500");
    let payment = &body_of(&card, "FactSet")[2]["facts"];
    assert_eq!(payment[0]["title"], "amount");
    assert_eq!(payment[0]["value"], "4500");
    assert_eq!(
        payment[1]["value"], "ACME \\<b\\>",
        "escaped where Teams reads Markdown"
    );
    let scopes = &body_of(&card, "FactSet")[1]["facts"];
    assert_eq!(scopes[1]["title"], "payroll:write");
    assert_eq!(scopes[1]["value"], "Change salaries **(needs approval)**");
    assert_eq!(scopes[0]["value"], "Sign you in");
    let rich = body_of(&card, "RichTextBlock");
    assert_eq!(rich[0]["inlines"][0]["text"], "Quarterly run");
    let vote = &rich[1]["inlines"];
    assert_eq!(vote[0]["text"], "Bob");
    assert_eq!(vote[1]["text"], " approved 2026-09-21 14:15 UTC");
    assert_eq!(vote[2]["text"], ": “fine by me”");
}

#[test]
fn markdown_in_user_text_is_escaped_where_teams_reads_markdown() {
    let mut s = sample();
    s.client_name = "[Click me](https://evil.example) **now** <at>Bob</at>".into();
    s.requester_name = "_x_".into();
    let card = teams_bot_card(&s);
    assert_eq!(
        fact(&card, "Application"),
        "\\[Click me\\](https://evil.example) \\*\\*now\\*\\* \\<at\\>Bob\\</at\\>"
    );
    let headline = body_of(&card, "TextBlock")[1]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(headline.starts_with("**\\_x\\_ (alice)** asks for access to **\\[Click me\\]"));
    assert!(!card.to_string().contains("[Click me]("));
}

#[test]
fn free_text_is_literal_and_cut_and_votes_are_capped() {
    let mut s = sample();
    s.justification = Some(format!("**not bold** {}", "é".repeat(3000)));
    s.votes = (0..25)
        .map(|i| VoteLine {
            approver: format!("approver {i}"),
            decision: Decision::Approve,
            comment: None,
            at: 1_790_000_000 + i,
        })
        .collect();
    let card = teams_bot_card(&s);
    let rich = body_of(&card, "RichTextBlock");
    let justification = rich[0]["inlines"][0]["text"].as_str().unwrap();
    assert!(justification.starts_with("**not bold** é"));
    assert!(justification.ends_with("é (truncated)"));
    assert_eq!(justification.chars().count(), 2000 + " (truncated)".len());
    assert_eq!(rich.len(), 1 + 20 + 1);
    assert_eq!(rich[21]["inlines"][0]["text"], "and 5 more");
}
