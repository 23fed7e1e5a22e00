//! One reminder for several waiting requests (DESIGN.md §5.4; the "notification
//! overload" users of approval tools complain of): when reminders for one destination
//! fall due together they go out as a single digest listing each request with its
//! link. New requests are never batched, only reminders.

use serde_json::{json, Value};

use super::slack::{escape, truncate};
use super::snapshot::ApprovalSnapshot;
use super::EmailContent;

const TEXT_MAX: usize = 3000;

fn line(s: &ApprovalSnapshot) -> String {
    format!(
        "{} for {} ({}), {} left",
        s.requester(),
        s.client_name,
        s.scope_names(),
        s.time_left()
    )
}

/// The Slack message of a digest (a new message; the requests' own messages stay).
pub fn slack_digest(waiting: &[ApprovalSnapshot]) -> Value {
    let header = format!("{} requests still wait for approval", waiting.len());
    let mut blocks =
        vec![json!({"type": "header", "text": {"type": "plain_text", "text": header}})];
    for s in waiting.iter().take(45) {
        blocks.push(
            json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(
            format!("• {} — <{}|Open in countersign>", escape(&line(s)), s.page_url), TEXT_MAX)}}),
        );
    }
    json!({"text": header, "blocks": blocks})
}

/// The email of a digest.
pub fn email_digest(waiting: &[ApprovalSnapshot]) -> EmailContent {
    let subject = format!("{} requests still wait for your approval", waiting.len());
    let mut text = format!("{subject}:\n\n");
    let mut html = format!("<p>{}:</p><ul>", html_escape(&subject));
    for s in waiting {
        text.push_str(&format!("- {}\n  {}\n", line(s), s.page_url));
        html.push_str(&format!(
            "<li>{} — <a href=\"{}\">Open in countersign</a></li>",
            html_escape(&line(s)),
            html_escape(&s.page_url)
        ));
    }
    html.push_str("</ul>");
    EmailContent {
        subject,
        text,
        html,
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::ApprovalState;
    use crate::ids::ApprovalId;

    fn waiting(id: &str, requester: &str) -> ApprovalSnapshot {
        ApprovalSnapshot {
            id: ApprovalId::new(id),
            state: ApprovalState::Pending,
            requester_name: requester.into(),
            requester_username: "u".into(),
            requester_email: "u@example.com".into(),
            client_name: "Payroll".into(),
            scopes: vec![],
            justification: None,
            required: "1 approval from approvers".into(),
            approvals_given: 0,
            approvals_needed: 1,
            votes: vec![],
            created_at: 0,
            expires_at: 600,
            access_until: None,
            page_url: format!("https://op.example/approvals/{id}"),
            chat_decisions: false,
            now: 300,
            authorization_details: None,
            binding_message: None,
        }
    }

    #[test]
    fn a_digest_lists_every_request_with_its_link_and_escapes_names() {
        let list = [waiting("a1", "<b>Eve</b>"), waiting("a2", "Bob")];
        let slack = slack_digest(&list).to_string();
        assert!(slack.contains("2 requests still wait"));
        assert!(slack.contains("https://op.example/approvals/a1"));
        assert!(slack.contains("https://op.example/approvals/a2"));
        assert!(!slack.contains("<b>"), "mrkdwn escaped: {slack}");
        let mail = email_digest(&list);
        assert!(mail.text.contains("https://op.example/approvals/a2"));
        assert!(mail.html.contains("&lt;b&gt;Eve"), "{}", mail.html);
    }
}
