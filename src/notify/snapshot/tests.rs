use super::*;
use crate::approval::{ApprovalEvent, ApprovalState, Decision};
use crate::ids::ApprovalId;

#[test]
fn every_event_has_its_webhook_type_and_only_decisions_an_outcome() {
    let names: Vec<_> = Event::ALL.iter().map(|e| e.type_name()).collect();
    assert_eq!(
        names,
        [
            "approval.requested",
            "approval.voted",
            "approval.decided",
            "approval.decided",
            "approval.expired",
            "approval.cancelled",
            "approval.revoked",
            "approval.reminder",
        ]
    );
    assert_eq!(Event::Approved.outcome(), Some("approved"));
    assert_eq!(Event::Denied.outcome(), Some("denied"));
    assert_eq!(Event::Voted.outcome(), None);
}

#[test]
fn transitions_map_to_events_and_a_redeemed_code_is_not_announced() {
    assert_eq!(
        Event::for_transition(ApprovalEvent::QuorumReached),
        Some(Event::Approved)
    );
    assert_eq!(
        Event::for_transition(ApprovalEvent::Revoke),
        Some(Event::Revoked)
    );
    assert_eq!(Event::for_transition(ApprovalEvent::Redeem), None);
}

#[test]
fn durations_use_the_two_largest_units_and_never_go_negative() {
    for (seconds, words) in [
        (-5, "0 s"),
        (42, "42 s"),
        (2_700, "45 min"),
        (7_200, "2 h"),
        (12_000, "3 h 20 min"),
        (86_400, "1 d"),
        (187_200, "2 d 4 h"),
    ] {
        assert_eq!(duration_words(seconds), words, "{seconds}");
    }
}

#[test]
fn the_status_line_counts_progress_and_time_left_while_pending() {
    let mut s = sample();
    assert_eq!(s.status_line(), "⏳ Pending: 1 of 2 approvals, 45 min left");
    s.state = ApprovalState::Denied;
    assert_eq!(s.status_line(), "❌ Denied");
}

#[test]
fn the_requester_falls_back_to_the_username() {
    let mut s = sample();
    assert_eq!(s.requester(), "Alice Smith (alice)");
    s.requester_name = " ".into();
    assert_eq!(s.requester(), "alice");
}

#[test]
fn buttons_show_only_while_pending_and_when_chat_may_decide() {
    let mut s = sample();
    assert!(s.shows_decision_buttons());
    s.chat_decisions = false;
    assert!(!s.shows_decision_buttons());
    s.chat_decisions = true;
    s.state = ApprovalState::Approved;
    assert!(!s.shows_decision_buttons());
}

#[test]
fn times_print_in_utc() {
    assert_eq!(utc_words(1_790_000_000), "2026-09-21 14:13 UTC");
    assert_eq!(rfc3339(1_790_000_000), "2026-09-21T14:13:20Z");
}

#[test]
fn a_view_becomes_a_snapshot_without_viewer_details() {
    use crate::approval::views::{ScopeView, VoteView};
    let view = ApprovalView {
        id: ApprovalId::new("apv_7"),
        state: ApprovalState::Pending,
        requester_username: "alice".into(),
        requester_name: "Alice".into(),
        requester_email: "alice@example.com".into(),
        client_name: "Payroll".into(),
        scopes: vec![ScopeView {
            name: "payroll:write".into(),
            description: "Change salaries".into(),
            sensitive: true,
        }],
        justification: Some("why".into()),
        required: "1 approval from approvers".into(),
        approver_factor: crate::approval::ApproverFactor::None,
        created_at: 10,
        expires_at: 20,
        access_until: None,
        ip: Some("192.0.2.1".into()),
        user_agent: Some("curl".into()),
        votes: vec![VoteView {
            approver: "Bob".into(),
            decision: Decision::Deny,
            comment: Some("no".into()),
            at: 15,
        }],
        viewer_is_requester: true,
        cannot_decide: Some("You asked for it.".into()),
        can_revoke: false,
        continue_url: "/authorize/continue?request=r".into(),
        authorization_details: Some(serde_json::json!([{"type": "payment", "amount": 4500}])),
        details_intact: true,
        binding_message: Some("W4SP".into()),
        backchannel: true,
    };
    let url = "https://id.example.com/approvals/apv_7".to_owned();
    let s = ApprovalSnapshot::from_view(&view, (0, 1), url.clone(), false, 12);
    assert_eq!(s.id, view.id);
    assert_eq!(s.requester(), "Alice (alice)");
    assert_eq!(s.scopes[0].name, "payroll:write");
    assert!(s.scopes[0].sensitive);
    assert_eq!(s.votes[0].comment.as_deref(), Some("no"));
    assert_eq!((s.approvals_given, s.approvals_needed), (0, 1));
    assert_eq!((&s.page_url, s.chat_decisions, s.now), (&url, false, 12));
    assert_eq!(s.expires_at, 20);
    assert_eq!(s.binding_message.as_deref(), Some("W4SP"));
    assert_eq!(
        s.detail_lines()[0].fields,
        vec![("amount".to_owned(), "4500".to_owned())]
    );
}

/// A snapshot for the renderers' tests: pending, two sensitive scopes, one vote.
pub(crate) fn sample() -> ApprovalSnapshot {
    ApprovalSnapshot {
        id: ApprovalId::new("apv_123"),
        state: ApprovalState::Pending,
        requester_name: "Alice Smith".into(),
        requester_username: "alice".into(),
        requester_email: "alice@example.com".into(),
        client_name: "Payroll".into(),
        scopes: vec![
            ScopeLine {
                name: "openid".into(),
                description: "Sign you in".into(),
                sensitive: false,
            },
            ScopeLine {
                name: "payroll:write".into(),
                description: "Change salaries".into(),
                sensitive: true,
            },
        ],
        justification: Some("Quarterly run".into()),
        required: "1 approval from approvers, 1 from security".into(),
        approvals_given: 1,
        approvals_needed: 2,
        votes: vec![VoteLine {
            approver: "Bob".into(),
            decision: Decision::Approve,
            comment: Some("fine by me".into()),
            at: 1_790_000_100,
        }],
        created_at: 1_790_000_000,
        expires_at: 1_790_003_600,
        access_until: None,
        page_url: "https://id.example.com/approvals/apv_123".into(),
        chat_decisions: true,
        now: 1_790_000_900,
        authorization_details: Some(serde_json::json!([
            {"type": "payment", "amount": "4500", "currency": "EUR", "creditor": "ACME <b>"}
        ])),
        binding_message: Some("Pay ACME 4500".into()),
    }
}
