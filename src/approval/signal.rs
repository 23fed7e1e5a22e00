//! The in-process wake-up behind pushed approval pages (DESIGN.md §5.4 "pushing the
//! outcome", issue 16 item 7): the [`Desk`](super::Desk) fires it after a decision,
//! cancellation or revocation has committed, and every open event stream of this
//! process re-reads what it shows at once. It carries no data, only "something
//! changed": the stream re-reads the database, which stays the only truth (DESIGN.md
//! §1.2), so changes made by other instances, the CLI or the expiry sweep are found by
//! the streams' own short re-check instead.

use std::sync::Arc;

use tokio::sync::watch;

/// A generation counter that wakes every subscriber when it moves.
#[derive(Debug, Clone)]
pub struct Signal {
    generation: Arc<watch::Sender<u64>>,
}

/// One subscriber's view of the [`Signal`].
#[derive(Debug)]
pub struct Subscription {
    receiver: watch::Receiver<u64>,
    closed: bool,
}

impl Default for Signal {
    fn default() -> Self {
        Signal::new()
    }
}

impl Signal {
    /// A signal nobody listens to yet.
    pub fn new() -> Self {
        let (sender, _) = watch::channel(0);
        Signal {
            generation: Arc::new(sender),
        }
    }

    /// Wakes every subscriber (a no-op when there is none).
    pub fn fire(&self) {
        self.generation.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// A subscription that wakes on every [`Signal::fire`] from now on. Subscribe before
    /// reading the state it guards, so a change between the two is not missed.
    pub fn subscribe(&self) -> Subscription {
        Subscription {
            receiver: self.generation.subscribe(),
            closed: false,
        }
    }
}

impl Subscription {
    /// Resolves at the next [`Signal::fire`]; never, once the signal is gone.
    pub async fn fired(&mut self) {
        if !self.closed && self.receiver.changed().await.is_ok() {
            return;
        }
        // The sender went away (the app is stopping): only the caller's own timers
        // are left, so never wake again instead of waking in a busy loop.
        self.closed = true;
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn woken(subscription: &mut Subscription) -> bool {
        futures_util::FutureExt::now_or_never(subscription.fired()).is_some()
    }

    #[test]
    fn a_fire_wakes_every_subscriber_once() {
        let signal = Signal::new();
        let (mut a, mut b) = (signal.subscribe(), signal.subscribe());
        assert!(!woken(&mut a), "nothing fired yet");
        signal.fire();
        signal.fire();
        assert!(woken(&mut a), "a fire wakes");
        assert!(woken(&mut b), "every subscriber");
        assert!(!woken(&mut a), "fires before a wake-up coalesce into one");
    }

    #[test]
    fn firing_without_subscribers_is_fine_and_later_subscribers_start_fresh() {
        let signal = Signal::new();
        signal.fire();
        let mut late = signal.subscribe();
        assert!(
            !woken(&mut late),
            "a subscriber only sees fires after it subscribed"
        );
    }

    #[test]
    fn a_gone_signal_never_wakes() {
        let signal = Signal::new();
        let mut subscription = signal.subscribe();
        drop(signal);
        assert!(!woken(&mut subscription));
        assert!(!woken(&mut subscription), "and does not spin");
    }
}
