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

use std::sync::Arc;

use actix_web::web;
use rand::Rng;

use crate::clock::Clock;
use crate::config::NotifySettings;
use crate::notify::{webhook, ChannelKind, Target};
use crate::store::{self, OutboxRow, Store, StoreError};
use channels::{Channels, Failed, Sent};
use load::{Due, Unsendable};

/// Seconds a claim lasts; longer than any one attempt (HTTP and SMTP time out at 15 s).
const LEASE: i64 = 60;
/// Rows claimed per pass.
const BATCH: i64 = 20;
/// Passes between two updates of the backlog gauges.
const GAUGE_EVERY: u32 = 20;

/// The worker: the store, the clients, the settings.
pub struct Worker {
    store: Store,
    clock: Arc<dyn Clock>,
    issuer: String,
    settings: NotifySettings,
    channels: Channels,
}

impl Worker {
    /// A worker for `store`, sending with `settings`.
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        issuer: String,
        settings: NotifySettings,
    ) -> Result<Self, String> {
        Ok(Worker {
            channels: Channels::new(settings.clone())?,
            store,
            clock,
            issuer,
            settings,
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
            if passes % GAUGE_EVERY == 0 {
                self.record_backlog().await;
            }
            passes = passes.wrapping_add(1);
        }
    }

    /// Claims the due rows and delivers each; returns how many were claimed.
    pub async fn pass(&self) -> Result<usize, StoreError> {
        let (store, now) = (self.store.clone(), self.clock.now());
        let claimed =
            web::block(move || store.write(|c| store::claim_outbox(c, now, LEASE, BATCH)))
                .await
                .map_err(|e| StoreError::Pool(e.to_string()))??;
        let count = claimed.len();
        for row in claimed {
            self.deliver(row).await?;
        }
        Ok(count)
    }

    async fn deliver(&self, row: OutboxRow) -> Result<(), StoreError> {
        let (store, issuer, now) = (self.store.clone(), self.issuer.clone(), self.clock.now());
        let id = row.id.clone();
        let attempts = u32::try_from(row.attempts).unwrap_or(u32::MAX);
        let loaded = web::block(move || load::due(&store, row, &issuer, now))
            .await
            .map_err(|e| StoreError::Pool(e.to_string()))??;
        let (kind, outcome) = match loaded {
            Ok(Some(due)) => (due_kind(&due), self.send(&due).await),
            Ok(None) => ("none", Ok(Sent::Done)),
            Err(Unsendable(why)) => (
                "none",
                Err(Failed {
                    error: why,
                    retry: false,
                    retry_after: None,
                }),
            ),
        };
        let retry_at = match &outcome {
            Err(failed) if failed.retry => {
                let jitter: f64 = rand::thread_rng().gen();
                webhook::next_attempt_delay(attempts + 1, self.settings.max_attempts, jitter)
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
        let store = self.store.clone();
        web::block(move || {
            store.write(|c| match outcome {
                Ok(Sent::Posted(reference)) => {
                    if let Some((approval, target)) = reference_key(c, &id)? {
                        store::save_message_ref(c, &approval, &target, &reference, now)?;
                    }
                    store::outbox_delivered(c, &id, now)
                }
                Ok(Sent::Done) => store::outbox_delivered(c, &id, now),
                Err(failed) => {
                    tracing::warn!(outbox = %id, error = %failed.error, retry_at, "notification not delivered");
                    store::outbox_failed(c, &id, &failed.error, retry_at, now)
                }
            })
        })
        .await
        .map_err(|e| StoreError::Pool(e.to_string()))?
    }

    async fn send(&self, due: &Due) -> Result<Sent, Failed> {
        let Some(target) = Target::parse(&due.row.target) else {
            return Err(Failed {
                error: "the row's target is unreadable".into(),
                retry: false,
                retry_after: None,
            });
        };
        let (s, event, id) = (&due.snapshot, due.notice.event(), due.row.id.as_str());
        match target.kind {
            ChannelKind::Slack => {
                let existing = match &due.row.approval_id {
                    Some(approval) => {
                        let (store, approval, stored) =
                            (self.store.clone(), approval.clone(), due.row.target.clone());
                        web::block(move || {
                            store.read(|c| store::message_ref(c, &approval, &stored))
                        })
                        .await
                        .map_err(|e| Failed {
                            error: e.to_string(),
                            retry: true,
                            retry_after: None,
                        })?
                        .map_err(|e| Failed {
                            error: e.to_string(),
                            retry: true,
                            retry_after: None,
                        })?
                    }
                    None => None,
                };
                self.channels
                    .slack(&target.destination, existing.as_deref(), s)
                    .await
            }
            ChannelKind::Teams => self.channels.teams(&target.destination, s).await,
            ChannelKind::Webhook => {
                self.channels
                    .webhook(&target.destination, id, event, s)
                    .await
            }
            ChannelKind::Email => self.channels.email(&target.destination, id, event, s).await,
        }
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

fn due_kind(due: &Due) -> &'static str {
    Target::parse(&due.row.target).map_or("none", |t| t.kind.as_str())
}

/// The approval and target of an outbox row (where a posted message is remembered).
fn reference_key(
    c: &mut store::DbConn,
    id: &str,
) -> Result<Option<(crate::ids::ApprovalId, String)>, StoreError> {
    Ok(store::outbox_row(c, id)?.and_then(|row| row.approval_id.map(|a| (a, row.target))))
}
