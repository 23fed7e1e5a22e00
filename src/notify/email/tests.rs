use super::*;
use crate::approval::Decision;
use crate::notify::snapshot::{sample, VoteLine};

#[test]
fn a_request_email_names_who_wants_what_and_links_to_the_page() {
    let email = email_message(&sample(), Event::Requested).unwrap();
    assert_eq!(
        email.subject,
        "Approval needed: Alice Smith (alice) → Payroll (openid payroll:write)"
    );
    for expected in [
        "An access request needs your approval.",
        "Alice Smith (alice) asks for access to Payroll",
        "⏳ Pending: 1 of 2 approvals, 45 min left",
        "Requester: Alice Smith (alice) <alice@example.com>",
        "Must approve: 1 approval from approvers, 1 from security",
        "Time left: 45 min (until 2026-09-21 15:13 UTC)",
        "- payroll:write: Change salaries (needs approval)",
        "- openid: Sign you in\n",
        "Justification:\nQuarterly run",
        "- Bob approved at 2026-09-21 14:15 UTC: \"fine by me\"",
        "Review the request: https://id.example.com/approvals/apv_123",
    ] {
        assert!(
            email.text.contains(expected),
            "text lacks {expected:?}:\n{}",
            email.text
        );
    }
    assert!(email
        .html
        .contains(r#"<a href="https://id.example.com/approvals/apv_123""#));
    assert!(email.html.contains("Review the request</a>"));
    assert!(email
        .html
        .contains("<code>payroll:write</code> Change salaries <strong>(needs approval)</strong>"));
}

#[test]
fn html_escapes_user_text_and_the_text_body_keeps_it_literal() {
    let mut s = sample();
    s.requester_name = "<script>alert(1)</script>".into();
    s.justification = Some("\"quoted\" & <b>bold</b>".into());
    s.votes[0].comment = Some("<img src=x onerror=alert(2)>".into());
    let email = email_message(&s, Event::Requested).unwrap();
    assert!(!email.html.contains("<script>"));
    assert!(!email.html.contains("<b>bold"));
    assert!(!email.html.contains("<img"));
    assert!(email
        .html
        .contains("&#60;script&#62;alert(1)&#60;/script&#62; (alice)"));
    assert!(email
        .html
        .contains("&#34;quoted&#34; &#38; &#60;b&#62;bold&#60;/b&#62;"));
    assert!(email
        .text
        .contains("<script>alert(1)</script> (alice) asks for access"));
    assert!(email.text.contains("\"quoted\" & <b>bold</b>"));
}

#[test]
fn the_subject_is_one_line_and_bounded() {
    let mut s = sample();
    s.client_name = "Pay\r\nBcc: victim@example.com\r\n".into();
    let email = email_message(&s, Event::Requested).unwrap();
    assert!(!email.subject.contains('\r') && !email.subject.contains('\n'));
    assert!(email.subject.contains("Pay  Bcc: victim@example.com"));
    s.client_name = "x".repeat(500);
    let email = email_message(&s, Event::Requested).unwrap();
    assert_eq!(email.subject.chars().count(), 200);
    assert!(email.subject.ends_with('…'));
}

#[test]
fn each_event_has_its_own_subject_and_opening() {
    let mut s = sample();
    let cases = [
        (
            Event::Reminder,
            "Reminder, approval needed: ",
            "still needs approval (45 min left)",
        ),
        (
            Event::Voted,
            "New vote, 1 of 2 approvals: ",
            "Bob voted; 1 of 2 approvals.",
        ),
        (
            Event::Cancelled,
            "Cancelled: ",
            "The requester cancelled the request.",
        ),
    ];
    for (event, subject, intro) in cases {
        let email = email_message(&s, event).unwrap();
        assert!(email.subject.starts_with(subject), "{}", email.subject);
        assert!(email.text.contains(intro), "{}", email.text);
    }
    s.state = ApprovalState::Denied;
    s.votes.push(VoteLine {
        approver: "Carol".into(),
        decision: Decision::Deny,
        comment: Some("not now".into()),
        at: 1_790_000_200,
    });
    let email = email_message(&s, Event::Denied).unwrap();
    assert!(email.subject.starts_with("Denied: "));
    assert!(email.text.contains("The request was denied."));
    assert!(email.text.contains("❌ Denied"));
    assert!(email
        .text
        .contains("- Carol denied at 2026-09-21 14:16 UTC: \"not now\""));
    assert!(email
        .text
        .contains("View the request: https://id.example.com/approvals/apv_123"));
    assert!(!email.text.contains("Time left"));
}

#[test]
fn an_approved_email_says_until_when_access_lasts() {
    let mut s = sample();
    s.state = ApprovalState::Approved;
    s.access_until = Some(1_790_086_400);
    let email = email_message(&s, Event::Approved).unwrap();
    assert!(email.text.contains("Access until: 2026-09-22 14:13 UTC"));
    assert!(email.html.contains("2026-09-22 14:13 UTC"));
}
