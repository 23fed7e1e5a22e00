//! Email notifications (DESIGN.md §5.4): subject, plain-text and HTML bodies (RFC 2046
//! `multipart/alternative`) from askama templates `templates/notify/approval.{txt,html}`;
//! the HTML one is auto-escaped, the text one is plain. Emails never carry decision
//! links that act by themselves: the one link is the approval page, where step-up
//! applies. Sending (SMTP, Message-ID threading) is the outbox worker's.

use askama::Template;

use super::snapshot::{decision_verb, utc_words, ApprovalSnapshot, Event};
use crate::approval::details::DetailLines;
use crate::approval::ApprovalState;

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailContent {
    /// One line, control characters removed (safe for the `Subject` header).
    pub subject: String,
    /// `text/plain` body.
    pub text: String,
    /// `text/html` body.
    pub html: String,
}

/// Why rendering failed (a template bug, never input).
#[derive(Debug, thiserror::Error)]
#[error("email template failed: {0}")]
pub struct EmailError(#[from] askama::Error);

const SUBJECT_MAX: usize = 200;

/// One labelled fact.
struct Fact {
    label: &'static str,
    value: String,
}

struct ScopeItem {
    name: String,
    description: String,
    sensitive: bool,
}

struct VoteItem {
    approver: String,
    verb: &'static str,
    at: String,
    comment: Option<String>,
}

/// What both bodies show, as display-ready strings.
struct EmailView {
    intro: String,
    headline: String,
    status_line: String,
    facts: Vec<Fact>,
    scopes: Vec<ScopeItem>,
    justification: Option<String>,
    binding_message: Option<String>,
    actions: Vec<DetailLines>,
    votes: Vec<VoteItem>,
    page_url: String,
    action_label: &'static str,
}

#[derive(Template)]
#[template(path = "notify/approval.txt")]
struct TextBody<'a> {
    v: &'a EmailView,
}

#[derive(Template)]
#[template(path = "notify/approval.html")]
struct HtmlBody<'a> {
    v: &'a EmailView,
}

/// The email about `event` for `s`, for approvers or the requester alike.
pub fn email_message(s: &ApprovalSnapshot, event: Event) -> Result<EmailContent, EmailError> {
    let view = view(s, event);
    Ok(EmailContent {
        subject: subject(s, event),
        text: TextBody { v: &view }.render()?,
        html: HtmlBody { v: &view }.render()?,
    })
}

fn subject(s: &ApprovalSnapshot, event: Event) -> String {
    let what = format!(
        "{} → {} ({})",
        s.requester(),
        s.client_name,
        s.scope_names()
    );
    let subject = match event {
        Event::Requested => format!("Approval needed: {what}"),
        Event::Reminder => format!("Reminder, approval needed: {what}"),
        Event::Voted => format!("New vote, {}: {what}", s.progress()),
        Event::Approved => format!("Approved: {what}"),
        Event::Denied => format!("Denied: {what}"),
        Event::Expired => format!("Expired: {what}"),
        Event::Cancelled => format!("Cancelled: {what}"),
        Event::Revoked => format!("Revoked: {what}"),
    };
    one_line(&subject, SUBJECT_MAX)
}

/// Control characters (CR, LF: header injection) become spaces; cut by character.
fn one_line(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() <= max {
        return clean;
    }
    let mut cut: String = clean.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn intro(s: &ApprovalSnapshot, event: Event) -> String {
    let last_voter = s.votes.last().map(|v| v.approver.as_str());
    match event {
        Event::Requested => "An access request needs your approval.".into(),
        Event::Reminder => format!(
            "Reminder: this request still needs approval ({} left).",
            s.time_left()
        ),
        Event::Voted => match last_voter {
            Some(who) => format!("{who} voted; {}.", s.progress()),
            None => format!("A vote was recorded; {}.", s.progress()),
        },
        Event::Approved => "The request was approved.".into(),
        Event::Denied => "The request was denied.".into(),
        Event::Expired => "The request expired.".into(),
        Event::Cancelled => "The requester cancelled the request.".into(),
        Event::Revoked => "The approved access was revoked.".into(),
    }
}

fn facts(s: &ApprovalSnapshot) -> Vec<Fact> {
    let fact = |label, value| Fact { label, value };
    let mut facts = vec![
        fact(
            "Requester",
            format!("{} <{}>", s.requester(), s.requester_email),
        ),
        fact("Application", s.client_name.clone()),
        fact("Must approve", s.required.clone()),
        fact("Progress", s.progress()),
        fact("Requested", utc_words(s.created_at)),
    ];
    if s.is_pending() {
        let left = format!("{} (until {})", s.time_left(), utc_words(s.expires_at));
        facts.push(fact("Time left", left));
    }
    if let (Some(until), ApprovalState::Approved | ApprovalState::Redeemed) =
        (s.access_until, s.state)
    {
        facts.push(fact("Access until", utc_words(until)));
    }
    facts
}

fn view(s: &ApprovalSnapshot, event: Event) -> EmailView {
    EmailView {
        intro: intro(s, event),
        headline: format!("{} asks for access to {}", s.requester(), s.client_name),
        status_line: s.status_line(),
        facts: facts(s),
        scopes: s
            .scopes
            .iter()
            .map(|scope| ScopeItem {
                name: scope.name.clone(),
                description: scope.description.clone(),
                sensitive: scope.sensitive,
            })
            .collect(),
        justification: s.justification.clone(),
        binding_message: s.binding_message.clone(),
        actions: s.detail_lines(),
        votes: s
            .votes
            .iter()
            .map(|vote| VoteItem {
                approver: vote.approver.clone(),
                verb: decision_verb(vote.decision),
                at: utc_words(vote.at),
                comment: vote.comment.clone().filter(|c| !c.trim().is_empty()),
            })
            .collect(),
        page_url: s.page_url.clone(),
        action_label: if s.is_pending() {
            "Review the request"
        } else {
            "View the request"
        },
    }
}

#[cfg(test)]
mod tests;
