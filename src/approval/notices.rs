//! Who is told about an approval event (DESIGN.md §5.4): the outbox rows written in
//! the transaction of the event itself, one per destination, so a notification is
//! never lost and never sent for an event that rolled back. What each row says is
//! rendered when it is delivered, from the approval as it is then, so a late delivery
//! shows the latest state and a chat message updated in place never goes backwards.
//!
//! - a new request and its reminder: every channel of every required group;
//! - a vote that leaves the request pending: the Slack messages (updated in place) and
//!   webhooks;
//! - the outcome: Slack (updated in place), Teams and webhooks of the groups, and the
//!   requester (a Slack DM when their account is linked, else email).

use serde_json::json;

use super::service::requirements_of;
use super::state::{ApprovalEvent, ApprovalState};
use crate::crypto;
use crate::named::named_enum;
use crate::notify::target::SLACK_MEMBERS;
use crate::notify::{ChannelKind, Event, Target};
use crate::store::{self, ApprovalRow, DbConn, OutboxRow, StoreError};

named_enum! {
    /// What an outbox row announces (its `kind`).
    pub enum Notice {
        /// A new approval waits.
        Requested = "requested",
        /// A vote was cast; still pending.
        Voted = "voted",
        /// Approved.
        Approved = "approved",
        /// Denied.
        Denied = "denied",
        /// Expired.
        Expired = "expired",
        /// Cancelled by the requester.
        Cancelled = "cancelled",
        /// Revoked.
        Revoked = "revoked",
        /// Still pending close to expiry.
        Reminder = "reminder",
    }
}

impl Notice {
    /// The notice of a state machine transition (redeeming a code announces nothing).
    pub fn for_transition(event: ApprovalEvent) -> Option<Notice> {
        match event {
            ApprovalEvent::QuorumReached => Some(Notice::Approved),
            ApprovalEvent::Deny => Some(Notice::Denied),
            ApprovalEvent::Cancel => Some(Notice::Cancelled),
            ApprovalEvent::Expire => Some(Notice::Expired),
            ApprovalEvent::Revoke => Some(Notice::Revoked),
            ApprovalEvent::Redeem => None,
        }
    }

    /// The renderers' event.
    pub fn event(self) -> Event {
        match self {
            Notice::Requested => Event::Requested,
            Notice::Voted => Event::Voted,
            Notice::Approved => Event::Approved,
            Notice::Denied => Event::Denied,
            Notice::Expired => Event::Expired,
            Notice::Cancelled => Event::Cancelled,
            Notice::Revoked => Event::Revoked,
            Notice::Reminder => Event::Reminder,
        }
    }

    /// Whether a group's channel of this kind hears of it.
    fn reaches(self, kind: ChannelKind) -> bool {
        match self {
            Notice::Requested | Notice::Reminder => true,
            Notice::Voted => matches!(
                kind,
                ChannelKind::Slack | ChannelKind::TeamsBot | ChannelKind::Webhook
            ),
            _ => kind != ChannelKind::Email,
        }
    }

    /// The notice of an approval that is already decided, if any.
    pub fn for_state(state: ApprovalState) -> Option<Notice> {
        match state {
            ApprovalState::Approved => Some(Notice::Approved),
            ApprovalState::Denied => Some(Notice::Denied),
            ApprovalState::Expired => Some(Notice::Expired),
            ApprovalState::Cancelled => Some(Notice::Cancelled),
            _ => None,
        }
    }

    /// Whether a CIBA ping client hears of it: its request has an outcome to fetch.
    fn pings_client(self) -> bool {
        matches!(
            self,
            Notice::Approved | Notice::Denied | Notice::Expired | Notice::Cancelled
        )
    }

    /// Whether the requester hears of it.
    fn tells_requester(self) -> bool {
        matches!(
            self,
            Notice::Approved | Notice::Denied | Notice::Expired | Notice::Revoked
        )
    }
}

/// Writes the outbox rows announcing `notice` about `row`, due at `due`.
pub fn enqueue_at(
    c: &mut DbConn,
    row: &ApprovalRow,
    notice: Notice,
    due: i64,
    now: i64,
) -> Result<usize, StoreError> {
    let requirements = requirements_of(row)?;
    // The subject who must confirm is asked like an approver (by DM or email).
    let asks_subject =
        requirements.subject_confirms() && matches!(notice, Notice::Requested | Notice::Reminder);
    let groups: Vec<String> = requirements.groups.into_iter().map(|g| g.group).collect();
    let mut targets: Vec<Target> = Vec::new();
    for (group, kind, destination) in store::group_channels_of(c, Some(&groups))? {
        let Some(kind) = ChannelKind::parse(&kind) else {
            continue;
        };
        if !notice.reaches(kind) {
            continue;
        }
        let expanded = match (kind, destination.as_str()) {
            // A DM to each linked member (never the requester, who cannot decide).
            (ChannelKind::Slack, SLACK_MEMBERS) => {
                store::linked_slack_members(c, &group, &row.requester_id)?
                    .into_iter()
                    .map(|id| Target::new(ChannelKind::Slack, id))
                    .collect()
            }
            _ => vec![Target::new(kind, destination)],
        };
        for target in expanded {
            if !targets.contains(&target) {
                targets.push(target);
            }
        }
    }
    if notice.tells_requester() || asks_subject {
        if let Some(requester) = store::user_by_id(c, &row.requester_id)? {
            let own = match requester.slack_user_id {
                Some(slack) => Some(Target::new(ChannelKind::Slack, slack)),
                None if !requester.email.is_empty() => {
                    Some(Target::new(ChannelKind::Email, requester.email))
                }
                None => None,
            };
            targets.extend(own.filter(|t| !targets.contains(t)));
        }
    }
    if notice.pings_client() {
        if let Some(endpoint) = crate::oidc::ciba::ping::endpoint_for(c, &row.id)? {
            targets.push(Target::new(ChannelKind::CibaPing, endpoint));
        }
    }
    insert_rows(c, row, notice, &targets, due, now)?;
    Ok(targets.len())
}

/// Writes only the CIBA ping about `row`, if its request is a ping client's: for an
/// approval decided as it was created (rules, hooks), before its request was stored.
pub fn enqueue_ping(
    c: &mut DbConn,
    row: &ApprovalRow,
    notice: Notice,
    now: i64,
) -> Result<(), StoreError> {
    if !notice.pings_client() {
        return Ok(());
    }
    if let Some(endpoint) = crate::oidc::ciba::ping::endpoint_for(c, &row.id)? {
        let target = Target::new(ChannelKind::CibaPing, endpoint);
        insert_rows(c, row, notice, &[target], now, now)?;
    }
    Ok(())
}

fn insert_rows(
    c: &mut DbConn,
    row: &ApprovalRow,
    notice: Notice,
    targets: &[Target],
    due: i64,
    now: i64,
) -> Result<(), StoreError> {
    for target in targets {
        store::insert_outbox(
            c,
            &OutboxRow {
                id: crypto::random_token(16),
                kind: notice.as_str().into(),
                target: target.stored(),
                payload: json!({"approval_id": row.id, "state": row.state, "at": now}).to_string(),
                attempts: 0,
                next_attempt_at: due,
                delivered_at: None,
                last_error: None,
                created_at: now,
                approval_id: Some(row.id.clone()),
                locked_until: None,
                dead_at: None,
            },
        )?;
    }
    Ok(())
}

/// Writes the outbox rows announcing `notice` about `row` now.
pub fn enqueue(
    c: &mut DbConn,
    row: &ApprovalRow,
    notice: Notice,
    now: i64,
) -> Result<usize, StoreError> {
    enqueue_at(c, row, notice, now, now)
}
