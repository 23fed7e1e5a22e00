//! The pushed approval pages (DESIGN.md §5.4 "pushing the outcome", §8 "Approval
//! pages"; issue 16 item 7): the requester's status stream `/approvals/{id}/events`
//! answers exactly as `/status` does and ends after a decision, also one made on another
//! instance; the approver's inbox stream `/approvals/inbox/events`; and the pages that
//! use them carry no inline script. Every read of a stream has a 5 s timeout, so a push
//! that never comes fails the test instead of hanging it.

use std::time::Duration;

use reqwest::{header, Response, StatusCode};
use serde_json::Value;

use super::client::{see_other, see_other_to};
use super::support::{approval_app, browser, ApprovalSeed, TestApp, PASSWORD};
use crate::helpers::{hidden_input, submit_login};

/// How long a test waits for one event before it fails.
const PATIENCE: Duration = Duration::from_secs(5);

/// An open `text/event-stream` response, read event by event.
pub(crate) struct EventStream {
    response: Response,
    buffer: String,
    retry_seen: bool,
}

impl EventStream {
    /// GETs `url` with `browser` and asserts an event stream that is not cached.
    pub(crate) async fn open(browser: &reqwest::Client, url: &str) -> EventStream {
        let response = browser.get(url).send().await.expect("GET the stream");
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        let headers = response.headers();
        assert_eq!(headers[header::CONTENT_TYPE], "text/event-stream");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        EventStream {
            response,
            buffer: String::new(),
            retry_seen: false,
        }
    }

    /// The next event's name and JSON data; `None` once the server ended the stream.
    /// Comments (keep-alives) and `retry:` are skipped. Fails after [`PATIENCE`].
    async fn next(&mut self) -> Option<(String, Value)> {
        tokio::time::timeout(PATIENCE, self.read_event())
            .await
            .expect("an event (or the end of the stream) within 5 s")
    }

    async fn read_event(&mut self) -> Option<(String, Value)> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(event) = self.parse(&block) {
                    return Some(event);
                }
            }
            let chunk = self.response.chunk().await.expect("the stream reads")?;
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }

    fn parse(&mut self, block: &str) -> Option<(String, Value)> {
        let (mut name, mut data) = ("message".to_owned(), None);
        for line in block.lines() {
            if let Some(value) = line.strip_prefix("event: ") {
                name = value.to_owned();
            } else if let Some(value) = line.strip_prefix("data: ") {
                data = Some(serde_json::from_str(value).expect("JSON data"));
            } else if line.starts_with("retry: ") {
                self.retry_seen = true;
            }
        }
        data.map(|data| (name, data))
    }

    /// The next event, asserted to be a `status` event; returns its body.
    pub(crate) async fn status(&mut self) -> Value {
        let (name, body) = self.next().await.expect("a status event");
        assert_eq!(name, "status", "{body}");
        body
    }

    /// Asserts that the server ends the stream (within [`PATIENCE`]).
    async fn assert_ended(&mut self) {
        let event = self.next().await;
        assert!(
            event.is_none(),
            "the stream ends after a decided state: {event:?}"
        );
    }
}

/// The requester's status stream of approval `id`.
fn events_path(id: &str) -> String {
    format!("/approvals/{id}/events")
}

impl TestApp<ApprovalSeed> {
    /// Opens approval `id`'s status stream with `browser`.
    async fn status_stream(&self, browser: &reqwest::Client, id: &str) -> EventStream {
        EventStream::open(browser, &self.url(&events_path(id))).await
    }
}

#[tokio::test]
async fn the_requester_is_pushed_the_approval_and_the_stream_then_ends() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let bob = app.signed_in(&app.bob).await;
    let mut stream = app.status_stream(&alice, &id).await;
    let first = stream.status().await;
    // Act
    app.approve(&bob, &id).await;
    let pushed = stream.status().await;
    // Assert
    assert!(stream.retry_seen, "the stream sets retry:");
    assert_eq!(first["state"], "pending", "{first}");
    assert!(first.get("continue_url").is_none(), "{first}");
    assert_eq!(pushed["state"], "approved", "{pushed}");
    assert_eq!(
        pushed["continue_url"],
        format!("/authorize/continue?request={}", pending.request_id)
    );
    assert_eq!(
        pushed,
        app.status_json(&alice, &id).await,
        "the same body as /status"
    );
    stream.assert_ended().await;
    let mut late = app.status_stream(&alice, &id).await;
    assert_eq!(
        late.status().await["state"],
        "approved",
        "decided at connect"
    );
    late.assert_ended().await;
}

#[tokio::test]
async fn a_denial_with_its_comment_and_a_cancellation_are_pushed() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let carol = app.signed_in(&app.carol).await;
    let mut denied = app.status_stream(&alice, &pending.approval_id).await;
    assert_eq!(denied.status().await["state"], "pending");
    let cancelled_id = app.request_again(&alice).await;
    let mut cancelled = app.status_stream(&alice, &cancelled_id).await;
    assert_eq!(cancelled.status().await["state"], "pending");
    // Act
    let vote = app
        .vote(
            &carol,
            &pending.approval_id,
            "deny",
            Some("not this quarter"),
        )
        .await;
    see_other(&vote);
    let csrf = app.csrf(&alice).await;
    let cancel = app
        .post(
            &alice,
            &format!("/approvals/{cancelled_id}/cancel"),
            &[("csrf_token", csrf.as_str())],
        )
        .await;
    see_other(&cancel);
    // Assert
    let body = denied.status().await;
    assert_eq!(body["state"], "denied", "{body}");
    assert_eq!(body["comment"], "not this quarter", "{body}");
    assert_eq!(
        body["decided_by"],
        app.status_json(&alice, &pending.approval_id).await["decided_by"]
    );
    denied.assert_ended().await;
    assert_eq!(cancelled.status().await["state"], "cancelled");
    cancelled.assert_ended().await;
}

#[tokio::test]
async fn expiry_is_pushed_when_the_deadline_passes() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let mut stream = app.status_stream(&alice, &pending.approval_id).await;
    assert_eq!(stream.status().await["state"], "pending");
    // Act: nobody decides; the clock passes the 15 min pending TTL (no sweep has run).
    app.clock.advance(15 * 60 + 1);
    // Assert
    assert_eq!(stream.status().await["state"], "expired");
    stream.assert_ended().await;
}

#[tokio::test]
async fn everyone_but_the_requester_gets_from_the_stream_what_status_answers_them() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let (bob, dave, nobody) = (
        app.signed_in(&app.bob).await,
        app.signed_in(&app.dave).await,
        browser(),
    );
    for (who, browser) in [("bob", &bob), ("dave", &dave)] {
        // Act
        let status = app.status(browser, &id).await;
        let events = app.get(browser, &events_path(&id)).await;
        // Assert
        assert_eq!(status.status(), StatusCode::NOT_FOUND, "{who}");
        assert_eq!(events.status(), StatusCode::NOT_FOUND, "{who}");
        let expected: Value = status.json().await.unwrap();
        assert_eq!(events.json::<Value>().await.unwrap(), expected, "{who}");
    }
    let unknown = app.get(&alice, &events_path("no-such-approval")).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND, "an unknown id");
    let status = app.status(&nobody, &id).await;
    let events = app.get(&nobody, &events_path(&id)).await;
    see_other_to(&status, "/login?return_to=");
    let login = see_other_to(&events, "/login?return_to=");
    assert!(login.contains("%2Fevents"), "back to the stream: {login}");
    let head = alice.head(app.url(&events_path(&id))).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK, "HEAD (RFC 9110 §9.1)");
    assert_eq!(head.headers()[header::CONTENT_TYPE], "text/event-stream");
}

#[tokio::test]
async fn a_decision_on_another_instance_reaches_the_stream_on_this_one() {
    // Arrange: two `serve` processes on one database, no sticky sessions.
    let app = approval_app().await;
    let other = app.another_instance().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let mut stream = app.status_stream(&alice, &id).await;
    assert_eq!(stream.status().await["state"], "pending");
    let bob = browser();
    let login = submit_login(&bob, &other.issuer, "/login", &app.bob.username, PASSWORD).await;
    see_other(&login);
    let review = bob
        .get(other.url(&format!("/approvals/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(review.status(), StatusCode::OK);
    let csrf = hidden_input(&review.text().await.unwrap(), "csrf_token").expect("CSRF");
    // Act: bob approves on the other instance.
    let vote = bob
        .post(other.url(&format!("/approvals/{id}")))
        .form(&[("decision", "approve"), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(see_other(&vote), format!("/approvals/{id}"));
    // Assert: this instance's stream learns it (arrival, not a latency figure).
    let pushed = stream.status().await;
    assert_eq!(pushed["state"], "approved", "{pushed}");
    assert!(pushed["continue_url"].is_string(), "{pushed}");
    stream.assert_ended().await;
}

/// Every `<script` of `html` loads a file; no `style` attribute or element.
fn assert_no_inline_script_or_style(html: &str) {
    for tag in html.split("<script").skip(1) {
        let open = tag.split('>').next().unwrap_or_default();
        assert!(
            open.contains("src=\"/static/"),
            "an inline script: <script{open}>"
        );
        assert!(tag
            .split('>')
            .nth(1)
            .unwrap_or_default()
            .starts_with("</script"));
    }
    assert!(!html.contains(" style="), "an inline style");
    assert!(!html.contains("<style"), "an inline style element");
    let handler = html.split(" on").skip(1).find(|rest| {
        let name: String = rest.chars().take_while(char::is_ascii_lowercase).collect();
        !name.is_empty() && rest[name.len()..].starts_with('=')
    });
    assert!(
        handler.is_none(),
        "an event handler attribute: on{handler:?}"
    );
}

#[tokio::test]
async fn the_waiting_page_and_the_inbox_name_their_streams_and_have_no_inline_script() {
    // Arrange
    let app = approval_app().await;
    let (alice, pending) = app.request_access(&app.alice).await;
    let id = pending.approval_id.clone();
    let bob = app.signed_in(&app.bob).await;
    // Act
    let waiting = app.waiting_page(&alice, &id).await;
    let inbox = app.inbox(&bob).await;
    let script = app.get(&alice, "/static/inbox.js").await;
    // Assert
    assert!(waiting.contains(&format!("data-events-url=\"/approvals/{id}/events\"")));
    assert!(waiting.contains(&format!("data-status-url=\"/approvals/{id}/status\"")));
    assert!(waiting.contains("<script src=\"/static/waiting.js\""));
    assert!(inbox.contains("data-events-url=\"/approvals/inbox/events\""));
    assert!(inbox.contains(&format!("data-approval-id=\"{id}\"")));
    assert!(inbox.contains("<script src=\"/static/inbox.js\""));
    for html in [&waiting, &inbox] {
        assert_no_inline_script_or_style(html);
    }
    assert_eq!(script.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_inbox_stream_pushes_new_requests_and_drops_decided_ones() {
    // Arrange
    let app = approval_app().await;
    let bob = app.signed_in(&app.bob).await;
    let carol = app.signed_in(&app.carol).await;
    let mut inbox = EventStream::open(&bob, &app.url("/approvals/inbox/events")).await;
    let (name, first) = inbox.next().await.expect("the inbox at connect");
    assert_eq!(name, "inbox");
    assert_eq!(first["ids"], serde_json::json!([]), "nothing waits yet");
    // Act: a request made elsewhere (the authorize flow), then carol decides it.
    let (_alice, pending) = app.request_access(&app.alice).await;
    let (_, arrived) = inbox.next().await.expect("the new request");
    app.approve(&carol, &pending.approval_id).await;
    let (_, decided) = inbox.next().await.expect("the decided request leaves");
    // Assert
    assert_eq!(arrived["ids"], serde_json::json!([pending.approval_id]));
    assert_eq!(decided["ids"], serde_json::json!([]));
    let nobody = app.get(&browser(), "/approvals/inbox/events").await;
    see_other_to(&nobody, "/login?return_to=");
}
