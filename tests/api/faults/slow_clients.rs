//! Slow clients (issue 17 item 3): two hundred connections held open, half of them idle
//! and half trickling a request body a byte at a time, do not hold up anyone else; a
//! body that has not arrived within `request_timeout` is cut off with 408 and its
//! connection closed (RFC 9110 §15.5.9), and an idle connection is closed too.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

/// The app's `request_timeout` in this suite.
const TIMEOUT: Duration = Duration::from_secs(2);
/// How long the suite waits for the server to close a slow connection: the timeout and
/// a generous margin for a loaded machine.
const CLOSED_WITHIN: Duration = Duration::from_secs(10);
/// Far longer than a request takes on loopback, far shorter than a held-up one.
const QUICK: Duration = Duration::from_secs(2);

/// A connection that sends a `/token` request head announcing 1000 bytes of body, then
/// one byte every 100 ms (at most 100); returns what the server answered before it
/// closed the connection, and how long that took.
async fn trickle(address: String) -> (String, Duration) {
    let started = Instant::now();
    let stream = TcpStream::connect(&address).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST /token HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
    );
    let writing = tokio::spawn(async move {
        if writer.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for _ in 0..100 {
            if writer.write_all(b"a").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(CLOSED_WITHIN, reader.read_to_end(&mut answer)).await;
    writing.abort();
    assert!(read.is_ok(), "the server kept a trickling connection open");
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

/// A connection that sends nothing; returns once the server closes it.
async fn idle(address: String) -> Duration {
    let started = Instant::now();
    let mut stream = TcpStream::connect(&address).await.expect("connect");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(CLOSED_WITHIN, stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server kept an idle connection open");
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_connections_hold_up_nobody_and_are_closed_after_the_request_timeout() {
    // Arrange
    let app = TestApp::builder().request_timeout("2s").spawn().await;
    let address = app.issuer.trim_start_matches("http://").to_owned();

    // Act: 100 trickling and 100 idle connections
    let trickling: Vec<_> = (0..100)
        .map(|_| tokio::spawn(trickle(address.clone())))
        .collect();
    let idling: Vec<_> = (0..100)
        .map(|_| tokio::spawn(idle(address.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Assert: everyone else is served meanwhile
    for _ in 0..20 {
        let started = Instant::now();
        let response = app
            .http
            .get(app.url("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            started.elapsed() < QUICK,
            "held up: {:?}",
            started.elapsed()
        );
    }

    // Assert: the trickling bodies are cut off with 408, after the timeout, not before
    for connection in trickling {
        let (answer, took) = connection.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(took >= TIMEOUT, "cut off early, after {took:?}");
    }
    // ...and the idle connections are closed
    for connection in idling {
        connection.await.unwrap();
    }
}
