//! Pushed approval pages (DESIGN.md §5.4 "pushing the outcome", §8 "Approval pages";
//! issue 16 item 7): Server-Sent Events (WHATWG HTML §9.2) in addition to the status
//! JSON, which stays served for browsers without `EventSource`.
//!
//! - `GET /approvals/{id}/events`: the requester's status as `event: status` (the same
//!   JSON body as `/status`) at once, again whenever the state changes, and the stream
//!   ends after a decided state. Everyone else gets exactly what `/status` answers.
//! - `GET /approvals/inbox/events`: `event: inbox` with the ids the viewer's inbox
//!   lists, at once and whenever that set changes.
//!
//! A change made through this process's [`Desk`] wakes the streams at once (its
//! [`Signal`](crate::approval::Signal)); changes made elsewhere (another instance, the
//! CLI, the expiry sweep) are found by a short re-check: a primary-key read every
//! 250 ms per status stream, the inbox query every second. Each read borrows a pooled
//! connection through [`blocking`](super::blocking) and returns it, so an idle stream
//! holds none. Every stream sends keep-alive comments, ends by a deadline (the
//! approval's expiry plus a margin, or a fixed lifetime) and is then resumed by the
//! browser (`retry:`).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::{header, Method};
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::stream::{self, Stream};
use serde_json::{json, Value};
use tokio::time::{interval, sleep, Interval, MissedTickBehavior, Sleep};

use super::approvals::{refused, status_refused};
use super::{blocking, cookies, AppState};
use crate::approval::{ApprovalError, ApprovalState, Desk, DeskError, Subscription};
use crate::clock::Clock;
use crate::ids::{ApprovalId, SessionToken};

/// How often a status stream re-reads its approval (changes made on other instances).
const STATUS_RECHECK: Duration = Duration::from_millis(250);
/// How often an inbox stream re-reads the inbox (new requests are made elsewhere).
const INBOX_RECHECK: Duration = Duration::from_secs(1);
/// A comment line this often keeps proxies from closing an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How often a status stream asks the desk again even when nothing moved: the session
/// must still be valid (a signed-out browser's stream ends).
const REAUTHORIZE: Duration = Duration::from_secs(60);
/// A stream ends this long after its approval's deadline at the latest.
const EXPIRY_MARGIN: i64 = 5;
/// No stream lives longer than this; the browser resumes it.
const LIFETIME: i64 = 10 * 60;
/// The `retry:` field (milliseconds before the browser reconnects).
const RETRY: &str = "retry: 3000\n\n";

/// One event (one `data:` line: serialised JSON never contains a line break).
fn event(name: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

/// The headers of every stream: not cached, not buffered by nginx.
fn stream_response(
    req: &HttpRequest,
    body: impl Stream<Item = Result<Bytes, Infallible>> + 'static,
) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("x-accel-buffering", "no"));
    if req.method() == Method::HEAD {
        return response.finish();
    }
    response.streaming(body)
}

/// Why a stream wakes.
enum Beat {
    /// Look again (a tick or the in-process wake-up).
    Check,
    /// The deadline has passed: look one last time.
    End,
}

/// The timing every stream shares: ticks, the in-process wake-up, keep-alives, an end.
struct Pace {
    wake: Subscription,
    ticks: Interval,
    idle_ticks: u32,
    keep_alive_ticks: u32,
    end: Pin<Box<Sleep>>,
}

impl Pace {
    /// Re-checks every `every`; ends after `seconds` (at least 1, at most [`LIFETIME`]).
    fn new(wake: Subscription, every: Duration, seconds: i64) -> Pace {
        let seconds = seconds.clamp(1, LIFETIME).unsigned_abs();
        let mut ticks = interval(every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ticks.reset(); // the first tick comes after one period, not at once
        Pace {
            wake,
            ticks,
            idle_ticks: 0,
            keep_alive_ticks: ticks_in(KEEP_ALIVE, every),
            end: Box::pin(sleep(Duration::from_secs(seconds))),
        }
    }

    async fn next(&mut self) -> Beat {
        tokio::select! {
            biased;
            () = &mut self.end => Beat::End,
            () = self.wake.fired() => Beat::Check,
            _ = self.ticks.tick() => {
                self.idle_ticks = self.idle_ticks.saturating_add(1);
                Beat::Check
            }
        }
    }

    /// True once per [`KEEP_ALIVE`] without a write.
    fn keep_alive_due(&mut self) -> bool {
        let due = self.idle_ticks >= self.keep_alive_ticks;
        if due {
            self.idle_ticks = 0;
        }
        due
    }
}

/// What a look at the data found.
enum Seen {
    /// Nothing to send.
    Same,
    /// An event to send; the stream goes on.
    Show(Bytes),
    /// A last event to send; the stream ends after it.
    Last(Bytes),
    /// The viewer may no longer look (or the store failed): end without a word.
    Gone,
}

/// What a stream watches: looked at on every beat, one last time at the end.
trait Watch {
    async fn look(&mut self, last: bool) -> Seen;
}

/// An event stream: `first` (after `retry:`), then whatever `watch` sees on each beat of
/// `pace`, keep-alive comments in between; ends after `first` when `first_is_last`.
fn events<W: Watch + 'static>(
    first: Bytes,
    first_is_last: bool,
    pace: Pace,
    watch: W,
) -> impl Stream<Item = Result<Bytes, Infallible>> {
    let opening = Bytes::from([RETRY.as_bytes(), &first].concat());
    let start = (!first_is_last).then_some((pace, watch));
    stream::unfold(Some((Some(opening), start)), |step| async move {
        let (opening, running) = step?;
        if let Some(opening) = opening {
            return Some((Ok(opening), Some((None, running))));
        }
        let (mut pace, mut watch) = running?;
        loop {
            let last = matches!(pace.next().await, Beat::End);
            match watch.look(last).await {
                Seen::Show(chunk) if !last => {
                    pace.idle_ticks = 0;
                    return Some((Ok(chunk), Some((None, Some((pace, watch))))));
                }
                Seen::Show(chunk) | Seen::Last(chunk) => return Some((Ok(chunk), None)),
                Seen::Gone => return None,
                Seen::Same if last => return None,
                Seen::Same if pace.keep_alive_due() => {
                    let comment = Bytes::from_static(b": keep-alive\n\n");
                    return Some((Ok(comment), Some((None, Some((pace, watch))))));
                }
                Seen::Same => {}
            }
        }
    })
}

/// Logs a store failure that ends a stream (the browser reconnects or falls back).
fn gone(error: &DeskError) -> Seen {
    if let DeskError::Approval(ApprovalError::Store(error)) = error {
        tracing::warn!(%error, "event stream ended by a store failure");
    }
    Seen::Gone
}

/// The requester's view of one approval.
struct StatusWatch {
    desk: Arc<Desk>,
    clock: Arc<dyn Clock>,
    cookie: Option<SessionToken>,
    id: ApprovalId,
    shown: String,
    expires_at: i64,
    ticks_since_status: u32,
    reauthorize_ticks: u32,
}

impl StatusWatch {
    /// Watches approval `id` for `cookie`'s user, from its first status `body` on.
    fn from_first(
        state: &AppState,
        cookie: Option<SessionToken>,
        id: ApprovalId,
        body: &Value,
        now: i64,
    ) -> StatusWatch {
        StatusWatch {
            desk: state.desk.clone(),
            clock: state.clock.clone(),
            cookie,
            id,
            shown: body["state"].as_str().unwrap_or_default().to_owned(),
            expires_at: body["expires_at"].as_i64().unwrap_or(now),
            ticks_since_status: 0,
            reauthorize_ticks: ticks_in(REAUTHORIZE, STATUS_RECHECK),
        }
    }

    /// True when the desk must be asked: the stored state moved, the deadline passed
    /// (the desk expires on read), or the session is due for a check.
    async fn must_ask(&mut self, last: bool) -> Result<bool, DeskError> {
        self.ticks_since_status = self.ticks_since_status.saturating_add(1);
        let (desk, id) = (self.desk.clone(), self.id.clone());
        let stored = blocking(move || desk.peek(&id)).await?;
        let moved = stored.is_none_or(|(state, _)| state.as_str() != self.shown);
        let due = self.clock.now() >= self.expires_at;
        Ok(last || moved || due || self.ticks_since_status >= self.reauthorize_ticks)
    }
}

impl Watch for StatusWatch {
    async fn look(&mut self, last: bool) -> Seen {
        match self.must_ask(last).await {
            Ok(false) => return Seen::Same,
            Ok(true) => self.ticks_since_status = 0,
            Err(error) => return gone(&error),
        }
        let (desk, cookie, id, now) = (
            self.desk.clone(),
            self.cookie.clone(),
            self.id.clone(),
            self.clock.now(),
        );
        let status = blocking(move || desk.status(id.as_str(), cookie.as_ref(), now)).await;
        let body = match status {
            Ok(status) => status.body,
            Err(error) => return gone(&error),
        };
        let state = body["state"].as_str().unwrap_or_default().to_owned();
        if state == self.shown {
            // Past the deadline yet still pending cannot happen (the desk expires on
            // read); should it, ask once a second rather than on every tick.
            self.expires_at = self.expires_at.max(now.saturating_add(1));
            return Seen::Same;
        }
        let decided = ApprovalState::parse(&state).is_none_or(ApprovalState::is_decided);
        self.shown = state;
        let chunk = event("status", &body);
        if decided {
            Seen::Last(chunk)
        } else {
            Seen::Show(chunk)
        }
    }
}

/// `GET /approvals/{id}/events`: the status stream (the requester only; everyone else
/// gets what `/status` answers them).
#[tracing::instrument(skip_all, fields(approval_id = %id))]
pub async fn status(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    // Subscribe before the first read, so a decision in between is not missed.
    let wake = state.desk.signal.subscribe();
    let (ask, cookie, id, now) = (
        state.desk.clone(),
        cookies::session(&req),
        id.into_inner(),
        state.clock.now(),
    );
    let (asked_cookie, path_id) = (cookie.clone(), id.clone());
    let first = blocking(move || ask.status(&path_id, asked_cookie.as_ref(), now)).await;
    let (body, approval) = match (first, ApprovalId::parse(&id)) {
        (Ok(status), Ok(approval)) => (status.body, approval),
        (Err(error), _) => return status_refused(error, &req),
        (Ok(_), Err(_)) => return status_refused(ApprovalError::NotFound.into(), &req),
    };
    let watch = StatusWatch::from_first(&state, cookie, approval, &body, now);
    let decided = ApprovalState::parse(&watch.shown).is_none_or(ApprovalState::is_decided);
    let pace = Pace::new(wake, STATUS_RECHECK, watch.expires_at - now + EXPIRY_MARGIN);
    stream_response(&req, events(event("status", &body), decided, pace, watch))
}

/// How many `every` ticks make `span`.
fn ticks_in(span: Duration, every: Duration) -> u32 {
    u32::try_from(span.as_millis() / every.as_millis().max(1)).unwrap_or(u32::MAX)
}

/// The ids an inbox lists, as the `inbox` event carries them.
fn inbox_event(ids: &[ApprovalId]) -> Bytes {
    let ids: Vec<&str> = ids.iter().map(ApprovalId::as_str).collect();
    event("inbox", &json!({ "ids": ids }))
}

/// An approver's inbox.
struct InboxWatch {
    desk: Arc<Desk>,
    clock: Arc<dyn Clock>,
    cookie: Option<SessionToken>,
    shown: Vec<ApprovalId>,
}

impl Watch for InboxWatch {
    async fn look(&mut self, last: bool) -> Seen {
        if last {
            return Seen::Gone;
        }
        let (desk, cookie, now) = (self.desk.clone(), self.cookie.clone(), self.clock.now());
        match blocking(move || desk.inbox_ids(cookie.as_ref(), now)).await {
            Ok(ids) if ids == self.shown => Seen::Same,
            Ok(ids) => {
                let chunk = inbox_event(&ids);
                self.shown = ids;
                Seen::Show(chunk)
            }
            Err(error) => gone(&error),
        }
    }
}

/// `GET /approvals/inbox/events`: the ids the signed-in user's inbox lists, now and
/// whenever they change.
#[tracing::instrument(skip_all)]
pub async fn inbox(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let wake = state.desk.signal.subscribe();
    let (desk, cookie, clock) = (
        state.desk.clone(),
        cookies::session(&req),
        state.clock.clone(),
    );
    let (ask, asked_cookie, now) = (desk.clone(), cookie.clone(), clock.now());
    let shown = match blocking(move || ask.inbox_ids(asked_cookie.as_ref(), now)).await {
        Ok(ids) => ids,
        Err(error) => return refused(error, &req, None),
    };
    let first = inbox_event(&shown);
    let pace = Pace::new(wake, INBOX_RECHECK, LIFETIME);
    let watch = InboxWatch {
        desk,
        clock,
        cookie,
        shown,
    };
    stream_response(&req, events(first, false, pace, watch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_one_data_line_even_when_its_text_has_line_breaks() {
        let chunk = event("status", &json!({"comment": "one\ntwo\r\nthree"}));
        assert_eq!(
            std::str::from_utf8(&chunk).unwrap(),
            "event: status\ndata: {\"comment\":\"one\\ntwo\\r\\nthree\"}\n\n"
        );
    }

    #[test]
    fn tick_counts_round_down_and_never_divide_by_zero() {
        assert_eq!(ticks_in(KEEP_ALIVE, STATUS_RECHECK), 60);
        assert_eq!(ticks_in(KEEP_ALIVE, INBOX_RECHECK), 15);
        assert_eq!(ticks_in(KEEP_ALIVE, Duration::ZERO), 15_000);
    }
}
