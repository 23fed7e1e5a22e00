//! The outbox worker inside `serve` (DESIGN.md §5.4): claims due outbox rows, renders
//! each from the approval as it is now, sends it, and records the outcome. Delivery is
//! at least once: a row is marked delivered only after its receiver accepted it, a
//! worker killed mid-delivery leaves a lease that runs out and the row is claimed
//! again, and each row's id is its idempotency key (`webhook-id`, `Message-ID`).
//! Failures are retried on the Standard Webhooks schedule with ±10 % jitter (or after
//! the receiver's `Retry-After`) and dead-lettered after `notify.max_attempts`, or at
//! once when no retry can help; `countersign outbox list|retry` shows and revives them.

mod channels;
mod load;
mod teams_bot;

use std::sync::Arc;

use actix_web::web;
use rand::Rng;

use crate::approval::notices::Notice;
use crate::clock::Clock;
use crate::config::NotifySettings;
use crate::crypto::Sealer;
use crate::ids::ApprovalId;
use crate::notify::{self, digest, webhook, ChannelKind, Target};
use crate::store::{self, OutboxRow, Store, StoreError};
use channels::{Channels, Failed, Sent};
use load::{Due, Unsendable};

/// Seconds a claim lasts; longer than any one attempt (HTTP and SMTP time out at 15 s).
const LEASE: i64 = 60;
/// Rows claimed per pass.
const BATCH: i64 = 20;
/// Seconds a row held back by the rate limit waits.
const RATE_WAIT: i64 = 15;
/// Passes between two updates of the backlog gauges.
const GAUGE_EVERY: u32 = 20;

/// The worker: the store, the clients, the settings.
pub struct Worker {
    store: Store,
    clock: Arc<dyn Clock>,
    issuer: String,
    settings: NotifySettings,
    channels: Channels,
    ping_sealer: Sealer,
}

impl Worker {
    /// A worker for `store`, sending with `settings`; `ping_sealer` opens what CIBA
    /// pings need.
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        issuer: String,
        settings: NotifySettings,
        ping_sealer: Sealer,
    ) -> Result<Self, String> {
        Ok(Worker {
            channels: Channels::new(settings.clone())?,
            store,
            clock,
            issuer,
            settings,
            ping_sealer,
        })
    }

    /// Runs until the server stops: a pass every `notify.poll_interval`.
    pub async fn run(self) {
        let mut ticker = actix_web::rt::time::interval(self.settings.poll_interval);
        let mut passes = 0u32;
        loop {
            ticker.tick().await;
            if let Err(error) = self.pass().await {
                tracing::warn!(%error, "outbox pass failed");
            }
            if passes.is_multiple_of(GAUGE_EVERY) {
                self.record_backlog().await;
            }
            passes = passes.wrapping_add(1);
        }
    }

    /// Claims the due rows and delivers each; returns how many were claimed. Reminders
    /// due together for one Slack channel or mailbox go out as one digest.
    pub async fn pass(&self) -> Result<usize, StoreError> {
        let (store, now) = (self.store.clone(), self.clock.now());
        let claimed = web::block(move || {
            // Most passes find nothing: look first with a read, claim with a write.
            if !store.read(|c| store::outbox_has_due(c, now))? {
                return Ok(Vec::new());
            }
            store.write(|c| store::claim_outbox(c, now, LEASE, BATCH))
        })
        .await
        .map_err(|e| StoreError::Pool(e.to_string()))??;
        let count = claimed.len();
        let mut digests: Vec<(Target, Vec<OutboxRow>)> = Vec::new();
        for row in claimed {
            match digest_target(&row) {
                Some(target) => match digests.iter_mut().find(|(t, _)| *t == target) {
                    Some((_, rows)) => rows.push(row),
                    None => digests.push((target, vec![row])),
                },
                None => self.deliver(row).await?,
            }
        }
        for (target, mut rows) in digests {
            match (rows.pop(), rows.is_empty()) {
                (Some(row), true) => self.deliver(row).await?,
                (Some(row), false) => {
                    rows.push(row);
                    self.deliver_digest(&target, rows).await?;
                }
                (None, _) => {}
            }
        }
        Ok(count)
    }

    /// Loads what a claimed row needs to be sent.
    async fn load(&self, row: OutboxRow) -> Result<Result<Option<Due>, Unsendable>, StoreError> {
        let (store, issuer, now) = (self.store.clone(), self.issuer.clone(), self.clock.now());
        web::block(move || load::due(&store, row, &issuer, now))
            .await
            .map_err(|e| StoreError::Pool(e.to_string()))?
    }

    /// True when `row` must wait: its destination had its share of messages this
    /// minute, and it does not announce a new request (those are never held back).
    async fn over_rate(&self, row: &OutboxRow) -> Result<bool, StoreError> {
        if row.kind == Notice::Requested.as_str() {
            return Ok(false);
        }
        let (store, target, now) = (self.store.clone(), row.target.clone(), self.clock.now());
        let sent =
            web::block(move || store.read(|c| store::delivered_to_since(c, &target, now - 60)))
                .await
                .map_err(|e| StoreError::Pool(e.to_string()))??;
        Ok(sent >= i64::from(self.settings.rate_per_minute))
    }

    /// Gives rows back for later without counting an attempt.
    async fn defer(&self, ids: Vec<String>) -> Result<(), StoreError> {
        metrics::counter!("countersign_outbox_deferred_total").increment(ids.len() as u64);
        let (store, at) = (self.store.clone(), self.clock.now() + RATE_WAIT);
        web::block(move || {
            store.write(|c| ids.iter().try_for_each(|id| store::outbox_defer(c, id, at)))
        })
        .await
        .map_err(|e| StoreError::Pool(e.to_string()))?
    }

    async fn deliver(&self, row: OutboxRow) -> Result<(), StoreError> {
        if self.over_rate(&row).await? {
            return self.defer(vec![row.id]).await;
        }
        let attempt = Attempt::of(&row);
        let (kind, outcome) = match self.load(row).await? {
            Ok(Some(due)) => (due_kind(&due), self.send(&due).await),
            Ok(None) => ("none", Ok(Sent::Done)),
            Err(Unsendable(why)) => ("none", Err(Failed::fatal(why))),
        };
        self.record(vec![attempt], kind, outcome).await
    }

    /// One digest for several reminders to one destination.
    async fn deliver_digest(
        &self,
        target: &Target,
        rows: Vec<OutboxRow>,
    ) -> Result<(), StoreError> {
        if let Some(first) = rows.first() {
            if self.over_rate(first).await? {
                return self.defer(rows.into_iter().map(|r| r.id).collect()).await;
            }
        }
        let mut waiting = Vec::new();
        let mut attempts = Vec::new();
        for row in rows {
            let attempt = Attempt::of(&row);
            match self.load(row).await? {
                Ok(Some(due)) => {
                    waiting.push(due.snapshot);
                    attempts.push(attempt);
                }
                Ok(None) => self.record(vec![attempt], "none", Ok(Sent::Done)).await?,
                Err(Unsendable(why)) => {
                    self.record(vec![attempt], "none", Err(Failed::fatal(why)))
                        .await?
                }
            }
        }
        let Some(first_id) = attempts.first().map(|a| a.id.clone()) else {
            return Ok(());
        };
        let outcome = match target.kind {
            ChannelKind::Slack => {
                self.channels
                    .slack_new(&target.destination, digest::slack_digest(&waiting))
                    .await
            }
            _ => {
                self.channels
                    .mail(
                        &target.destination,
                        &first_id,
                        digest::email_digest(&waiting),
                    )
                    .await
            }
        };
        self.record(attempts, target.kind.as_str(), outcome).await
    }

    /// Records the outcome of one attempt at `rows`.
    async fn record(
        &self,
        rows: Vec<Attempt>,
        kind: &'static str,
        outcome: Result<Sent, Failed>,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut plans = Vec::with_capacity(rows.len());
        for Attempt {
            id,
            attempts,
            message_key,
        } in rows
        {
            let retry_at = match &outcome {
                Err(failed) if failed.retry => {
                    let jitter: f64 = rand::thread_rng().gen();
                    let made = u32::try_from(attempts)
                        .unwrap_or(u32::MAX)
                        .saturating_add(1);
                    webhook::next_attempt_delay(made, self.settings.max_attempts, jitter)
                        .map(|wait| now + failed.retry_after.unwrap_or(0).max(wait))
                }
                _ => None,
            };
            let label = match (&outcome, retry_at) {
                (Ok(_), _) => "delivered",
                (Err(_), Some(_)) => "retry",
                (Err(_), None) => "dead",
            };
            metrics::counter!("countersign_outbox_deliveries_total", "channel" => kind, "outcome" => label)
                .increment(1);
            plans.push((id, message_key, retry_at));
        }
        let store = self.store.clone();
        web::block(move || {
            store.write(|c| {
                for (id, message_key, retry_at) in &plans {
                    match &outcome {
                        Ok(Sent::Posted(reference)) => {
                            if let Some((approval, target)) = message_key {
                                store::save_message_ref(c, approval, target, reference, now)?;
                            }
                            store::outbox_delivered(c, id, now)?;
                        }
                        Ok(Sent::Done) => store::outbox_delivered(c, id, now)?,
                        Err(failed) => {
                            tracing::warn!(outbox = %id, error = %failed.error, retry_at, "notification not delivered");
                            store::outbox_failed(c, id, &failed.error, *retry_at, now)?;
                        }
                    }
                }
                Ok(())
            })
        })
        .await
        .map_err(|e| StoreError::Pool(e.to_string()))?
    }

    async fn send(&self, due: &Due) -> Result<Sent, Failed> {
        let Some(target) = Target::parse(&due.row.target) else {
            return Err(Failed::fatal("the row's target is unreadable"));
        };
        let (s, event, id) = (&due.snapshot, due.notice.event(), due.row.id.as_str());
        match target.kind {
            ChannelKind::Slack if due.notice == Notice::Reminder => {
                // A reminder is a new message (it should be seen); the request's own
                // message stays where it is and keeps being updated.
                self.channels
                    .slack_new(&target.destination, notify::slack_message(s))
                    .await
            }
            ChannelKind::Slack => {
                let existing = self.message_ref(due).await?;
                self.channels
                    .slack(&target.destination, existing.as_deref(), s)
                    .await
            }
            ChannelKind::TeamsBot => {
                let existing = self.message_ref(due).await?;
                self.channels
                    .teams_bot(&target.destination, existing.as_deref(), s)
                    .await
            }
            ChannelKind::Teams => self.channels.teams(&target.destination, s).await,
            ChannelKind::Webhook => {
                self.channels
                    .webhook(&target.destination, id, event, s)
                    .await
            }
            ChannelKind::Email => self.channels.email(&target.destination, id, event, s).await,
            ChannelKind::CibaPing => {
                let (token, body) = self.ping_message(due).await?;
                self.channels
                    .ciba_ping(&target.destination, &token, &body)
                    .await
            }
        }
    }

    /// The bearer token and body of a CIBA ping about this row's approval.
    async fn ping_message(&self, due: &Due) -> Result<(String, serde_json::Value), Failed> {
        let Some(approval) = due.row.approval_id.clone() else {
            return Err(Failed::fatal("the row names no approval"));
        };
        let (store, sealer) = (self.store.clone(), self.ping_sealer.clone());
        let read = web::block(move || {
            store.read(|c| crate::oidc::ciba::ping::message(c, &sealer, &approval))
        })
        .await
        .map_err(|e| Failed::retry(e.to_string()))?
        .map_err(|e| Failed::retry(e.to_string()))?;
        read.map_err(Failed::fatal)
    }

    /// The chat message already posted for this row's approval and target, if any.
    async fn message_ref(&self, due: &Due) -> Result<Option<String>, Failed> {
        let Some(approval) = due.row.approval_id.clone() else {
            return Ok(None);
        };
        let (store, stored) = (self.store.clone(), due.row.target.clone());
        let read = web::block(move || store.read(|c| store::message_ref(c, &approval, &stored)))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        read.map_err(Failed::retry)
    }

    async fn record_backlog(&self) {
        let store = self.store.clone();
        let now = self.clock.now();
        if let Ok(Ok((waiting, dead, oldest))) =
            web::block(move || store.read(store::outbox_backlog)).await
        {
            metrics::gauge!("countersign_outbox_undelivered").set(waiting as f64);
            metrics::gauge!("countersign_outbox_dead_letters").set(dead as f64);
            let age = oldest.map_or(0, |at| (now - at).max(0));
            metrics::gauge!("countersign_outbox_oldest_undelivered_seconds").set(age as f64);
        }
    }
}

/// One claimed row about to be attempted: its id, attempts so far, and where a chat
/// message posted for it is remembered (its approval and target).
struct Attempt {
    id: String,
    attempts: i32,
    message_key: Option<(ApprovalId, String)>,
}

impl Attempt {
    fn of(row: &OutboxRow) -> Self {
        Attempt {
            id: row.id.clone(),
            attempts: row.attempts,
            message_key: row.approval_id.clone().map(|a| (a, row.target.clone())),
        }
    }
}

/// The destination of a reminder that may be batched with others (Slack, email).
fn digest_target(row: &OutboxRow) -> Option<Target> {
    let target = Target::parse(&row.target)?;
    let batchable = row.kind == Notice::Reminder.as_str()
        && matches!(target.kind, ChannelKind::Slack | ChannelKind::Email);
    batchable.then_some(target)
}

fn due_kind(due: &Due) -> &'static str {
    Target::parse(&due.row.target).map_or("none", |t| t.kind.as_str())
}
