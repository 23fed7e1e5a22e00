//! What every notification shows (DESIGN.md §5.4): one approval as plain data, loaded
//! by the caller in the transaction that changed it, and the event that caused the
//! message. Renderers read only this, so they are pure and testable without a store.
//! Wording shared by every channel (status, progress, time left) lives here, unescaped:
//! each channel escapes it its own way.

use crate::approval::details::DetailLines;
use crate::approval::views::ApprovalView;
use crate::approval::{ApprovalEvent, ApprovalState, Decision};
use crate::ids::ApprovalId;

/// A requested scope as a message shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeLine {
    /// Scope name.
    pub name: String,
    /// What it allows.
    pub description: String,
    /// Needs the countersignature.
    pub sensitive: bool,
}

/// One vote as a message shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteLine {
    /// Approver's display name.
    pub approver: String,
    /// approve or deny.
    pub decision: Decision,
    /// Their comment (a deny always has one).
    pub comment: Option<String>,
    /// When (unix seconds).
    pub at: i64,
}

/// Everything a notification about one approval shows. No secrets, no database types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalSnapshot {
    /// Approval id.
    pub id: ApprovalId,
    /// Current state.
    pub state: ApprovalState,
    /// Requester's display name (may be empty).
    pub requester_name: String,
    /// Requester's username.
    pub requester_username: String,
    /// Requester's email.
    pub requester_email: String,
    /// Client display name.
    pub client_name: String,
    /// Every requested scope.
    pub scopes: Vec<ScopeLine>,
    /// The requester's justification.
    pub justification: Option<String>,
    /// Who must approve, in words ("1 approval from approvers, 2 from security").
    pub required: String,
    /// Approvals counted so far.
    pub approvals_given: u32,
    /// Approvals needed in all.
    pub approvals_needed: u32,
    /// Votes so far, oldest first.
    pub votes: Vec<VoteLine>,
    /// Created (unix seconds).
    pub created_at: i64,
    /// Pending until (unix seconds).
    pub expires_at: i64,
    /// Access lasts until (unix seconds), once approved.
    pub access_until: Option<i64>,
    /// Absolute link to `/approvals/{id}`.
    pub page_url: String,
    /// The policy lets approvers decide inside chat. When false every channel shows
    /// only a link to the page, so a decision always passes the page's step-up.
    pub chat_decisions: bool,
    /// When the message is rendered (unix seconds), for "time left".
    pub now: i64,
    /// The RFC 9396 `authorization_details` to approve (issue 20), as stored.
    pub authorization_details: Option<serde_json::Value>,
    /// What the requester's device shows (CIBA `binding_message`).
    pub binding_message: Option<String>,
}

/// Why a notification is sent. Webhooks name it; emails word their subject after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A new approval waits for approvers.
    Requested,
    /// An approver voted, and the approval is still pending.
    Voted,
    /// Every group reached its quorum.
    Approved,
    /// An approver denied.
    Denied,
    /// Nobody decided in time, or the approved access was never used.
    Expired,
    /// The requester withdrew it.
    Cancelled,
    /// Approved access was revoked.
    Revoked,
    /// Still pending; approvers are reminded.
    Reminder,
}

impl Event {
    /// Every event, in declaration order.
    pub const ALL: &'static [Event] = &[
        Event::Requested,
        Event::Voted,
        Event::Approved,
        Event::Denied,
        Event::Expired,
        Event::Cancelled,
        Event::Revoked,
        Event::Reminder,
    ];

    /// The webhook event type: `approval.decided` covers both outcomes (see
    /// [`Event::outcome`]).
    pub fn type_name(self) -> &'static str {
        match self {
            Event::Requested => "approval.requested",
            Event::Voted => "approval.voted",
            Event::Approved | Event::Denied => "approval.decided",
            Event::Expired => "approval.expired",
            Event::Cancelled => "approval.cancelled",
            Event::Revoked => "approval.revoked",
            Event::Reminder => "approval.reminder",
        }
    }

    /// `approved` or `denied` for `approval.decided`, else `None`.
    pub fn outcome(self) -> Option<&'static str> {
        match self {
            Event::Approved => Some("approved"),
            Event::Denied => Some("denied"),
            _ => None,
        }
    }

    /// The event to announce for a state machine transition; redeeming a code is not
    /// announced (the requester did it, and approvers learn nothing new).
    pub fn for_transition(event: ApprovalEvent) -> Option<Event> {
        match event {
            ApprovalEvent::QuorumReached => Some(Event::Approved),
            ApprovalEvent::Deny => Some(Event::Denied),
            ApprovalEvent::Cancel => Some(Event::Cancelled),
            ApprovalEvent::Expire => Some(Event::Expired),
            ApprovalEvent::Revoke => Some(Event::Revoked),
            ApprovalEvent::Redeem => None,
        }
    }
}

impl ApprovalSnapshot {
    /// The snapshot of what the approval pages load, minus everything that depends on
    /// who looks (and the requester's IP and user agent, which messages leave out).
    pub fn from_view(
        view: &ApprovalView,
        (approvals_given, approvals_needed): (u32, u32),
        page_url: String,
        chat_decisions: bool,
        now: i64,
    ) -> Self {
        ApprovalSnapshot {
            id: view.id.clone(),
            state: view.state,
            requester_name: view.requester_name.clone(),
            requester_username: view.requester_username.clone(),
            requester_email: view.requester_email.clone(),
            client_name: view.client_name.clone(),
            scopes: view
                .scopes
                .iter()
                .map(|s| ScopeLine {
                    name: s.name.clone(),
                    description: s.description.clone(),
                    sensitive: s.sensitive,
                })
                .collect(),
            justification: view.justification.clone(),
            required: view.required.clone(),
            approvals_given,
            approvals_needed,
            votes: view
                .votes
                .iter()
                .map(|v| VoteLine {
                    approver: v.approver.clone(),
                    decision: v.decision,
                    comment: v.comment.clone(),
                    at: v.at,
                })
                .collect(),
            created_at: view.created_at,
            expires_at: view.expires_at,
            access_until: view.access_until,
            page_url,
            chat_decisions,
            now,
            authorization_details: view.authorization_details.clone(),
            binding_message: view.binding_message.clone(),
        }
    }

    /// The details, entry by entry, field by field, for every channel to render.
    pub fn detail_lines(&self) -> Vec<DetailLines> {
        crate::approval::details::lines_of(self.authorization_details.as_ref())
    }

    /// True while approvers may still vote.
    pub fn is_pending(&self) -> bool {
        self.state == ApprovalState::Pending
    }

    /// True when the message carries Approve/Deny controls: pending, and the policy
    /// lets chat decide.
    pub fn shows_decision_buttons(&self) -> bool {
        self.is_pending() && self.chat_decisions
    }

    /// "Alice Smith (alice)", or "alice" when there is no display name.
    pub fn requester(&self) -> String {
        if self.requester_name.trim().is_empty() {
            self.requester_username.clone()
        } else {
            format!("{} ({})", self.requester_name, self.requester_username)
        }
    }

    /// "1 of 2 approvals".
    pub fn progress(&self) -> String {
        format!(
            "{} of {} approval{}",
            self.approvals_given,
            self.approvals_needed,
            if self.approvals_needed == 1 { "" } else { "s" }
        )
    }

    /// "45 min", "3 h 20 min", "2 d 4 h" until the pending deadline; "0 s" once past.
    pub fn time_left(&self) -> String {
        duration_words(self.expires_at - self.now)
    }

    /// The state in a few words, with its symbol: "⏳ Pending", "✅ Approved", ...
    pub fn status(&self) -> &'static str {
        match self.state {
            ApprovalState::Pending => "⏳ Pending",
            ApprovalState::Approved => "✅ Approved",
            ApprovalState::Redeemed => "✅ Approved (access in use)",
            ApprovalState::Denied => "❌ Denied",
            ApprovalState::Expired => "⌛ Expired",
            ApprovalState::Cancelled => "🚫 Cancelled by the requester",
            ApprovalState::Revoked => "⛔ Revoked",
        }
    }

    /// One line summing up where the approval stands, e.g. "⏳ Pending: 1 of 2
    /// approvals, 45 min left" or "❌ Denied".
    pub fn status_line(&self) -> String {
        if self.is_pending() {
            format!(
                "{}: {}, {} left",
                self.status(),
                self.progress(),
                self.time_left()
            )
        } else {
            self.status().to_owned()
        }
    }

    /// The scope names, space-separated, for subjects and fallbacks.
    pub fn scope_names(&self) -> String {
        self.scopes
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// "approved" or "denied", for "Bob approved".
pub fn decision_verb(decision: Decision) -> &'static str {
    match decision {
        Decision::Approve => "approved",
        Decision::Deny => "denied",
    }
}

/// A duration in the two largest units: "42 s", "45 min", "3 h 20 min", "2 d 4 h".
pub fn duration_words(seconds: i64) -> String {
    let s = seconds.max(0);
    let (d, h, m) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// "2026-12-01 14:03 UTC" (unix seconds in; out-of-range input printed as the number).
pub fn utc_words(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| at.to_string())
}

/// RFC 3339 in UTC with seconds, "2026-12-01T14:03:00Z", for machine-read fields.
pub fn rfc3339(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| at.to_string())
}

#[cfg(test)]
pub(crate) use tests::sample;

#[cfg(test)]
mod tests;
