//! Benchmarks of issue 16 (run by hand, never in CI; no timed assertion):
//!
//! ```sh
//! cargo test --release --test api bench:: -- --ignored --nocapture --test-threads 1
//! ```
//!
//! One run measures side by side, on one app (SQLite unless `TEST_DATABASE_URL`):
//! - from an approver's vote (the POST leaving the client) to the requester's status
//!   stream delivering the decision: on the same instance, and with the vote cast on a
//!   second instance; and, as the baseline, to a 2 s `/status` poll (what the waiting
//!   page did before) noticing it;
//! - from the authorization request that creates an approval to the Slack receiver
//!   getting `chat.postMessage`.
//!
//! Results go to BENCHMARKS.md.

use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::StatusCode;

use crate::approval::events::EventStream;
use crate::helpers::{browser, hidden_input, submit_login, PASSWORD};
use crate::notify::support::notified_app;

const ROUNDS: usize = 20;

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(name: &str, mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name:<48} n={:<3} p50={:>8.1} ms  p90={:>8.1} ms  max={:>8.1} ms",
        samples.len(),
        at(0.5),
        at(0.9),
        at(1.0)
    );
    at(0.5)
}

/// Polls `/status` every 2 s from `start` until the state is no longer pending.
async fn poll_until_decided(client: reqwest::Client, url: String) -> Instant {
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tick.tick().await;
        let body: serde_json::Value = client.get(&url).send().await.unwrap().json().await.unwrap();
        if body["state"] != "pending" {
            return Instant::now();
        }
    }
}

#[tokio::test]
#[ignore = "a benchmark: run by hand (see the module doc)"]
async fn decision_push_and_notification_latency() {
    let n = notified_app(10).await;
    let other = n.app.another_instance().await;
    let (alice, _) = n.app.request_access(&n.app.alice).await;
    // bob signs in on both instances.
    let bob_a = n.app.signed_in(&n.app.bob).await;
    let bob_b = browser();
    let login = submit_login(
        &bob_b,
        &other.issuer,
        "/login",
        &n.app.bob.username,
        PASSWORD,
    )
    .await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let (mut to_slack, mut same, mut across, mut polled) = (vec![], vec![], vec![], vec![]);
    for round in 0..ROUNDS {
        let on_b = round % 2 == 1;
        // A new request; when does Slack hear of it?
        let posts_before = n
            .slack
            .received()
            .iter()
            .filter(|r| r.path == "/chat.postMessage")
            .count();
        let created = Instant::now();
        let id = n.app.request_again(&alice).await;
        let posted = loop {
            let posts: Vec<_> = n
                .slack
                .received()
                .into_iter()
                .filter(|r| r.path == "/chat.postMessage")
                .collect();
            if posts.len() > posts_before {
                break posts[posts_before].at;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        to_slack.push(millis(posted - created));
        // The requester's page is open: its stream, and the old 2 s poll beside it.
        let mut stream =
            EventStream::open(&alice, &n.app.url(&format!("/approvals/{id}/events"))).await;
        assert_eq!(stream.status().await["state"], "pending");
        let poller = tokio::spawn(poll_until_decided(
            alice.clone(),
            n.app.url(&format!("/approvals/{id}/status")),
        ));
        // bob opens the review page, then decides at a random moment.
        let (bob, base) = if on_b {
            (&bob_b, other.issuer.clone())
        } else {
            (&bob_a, n.app.issuer.clone())
        };
        let review = bob
            .get(format!("{base}/approvals/{id}"))
            .send()
            .await
            .unwrap();
        let csrf = hidden_input(&review.text().await.unwrap(), "csrf_token").unwrap();
        let pause = rand::thread_rng().gen_range(0..2000);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let decided = Instant::now();
        let vote = bob
            .post(format!("{base}/approvals/{id}"))
            .form(&[("decision", "approve"), ("csrf_token", csrf.as_str())])
            .send();
        let (vote, pushed) = tokio::join!(vote, stream.status());
        let pushed_at = Instant::now();
        assert_eq!(vote.unwrap().status(), StatusCode::SEE_OTHER);
        assert_eq!(pushed["state"], "approved");
        let polled_at = poller.await.unwrap();
        if on_b {
            across.push(millis(pushed_at - decided))
        } else {
            same.push(millis(pushed_at - decided))
        }
        polled.push(millis(polled_at - decided));
    }
    println!();
    let pushed = summary("vote -> pushed to requester (same instance)", same);
    summary("vote -> pushed to requester (other instance)", across);
    let poll = summary("vote -> noticed by a 2 s poll (the old page)", polled);
    summary("request -> Slack chat.postMessage received", to_slack);
    println!(
        "median ratio, poll / push (same instance): {:.0}x",
        poll / pushed.max(0.001)
    );
}
