//! Callbacks that must change nothing (OIDC Core §3.1.2.7, RFC 6749 §10.12): a state
//! another browser was given, a replayed or expired one, an upstream error response.

use reqwest::{Response, StatusCode};

use super::support::{callback_url, location, start_path, Brokering, Browsers, UPSTREAM};
use crate::helpers::http_client;

/// The `state` parameter of a URL.
fn state_of(url: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("a state")
}

async fn assert_refused(response: Response, sentence: &str) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let page = response.text().await.unwrap();
    assert!(page.contains(sentence), "{page}");
}

#[tokio::test]
async fn a_callback_carrying_another_browsers_state_is_refused() {
    // Arrange: the attacker's valid callback (code and state), sent to a victim who
    // started a sign-in of their own (login CSRF).
    let b = Brokering::new().await;
    let attacker = Browsers::new();
    let callback = b.to_callback(&attacker, &start_path(), &b.ursula).await;
    let victim = Browsers::new();
    b.down.get(&victim.down, &start_path()).await;
    // Act
    let response = victim.down.get(&callback).send().await.unwrap();
    // Assert
    assert_refused(response, "did not start in this browser").await;
    assert!(b.linked().is_none(), "nobody was created or signed in");
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    // Arrange
    let b = Brokering::new().await;
    let browsers = Browsers::new();
    let callback = b.to_callback(&browsers, &start_path(), &b.ursula).await;
    let first = browsers.down.get(&callback).send().await.unwrap();
    assert_eq!(location(&first), "/approvals");
    // Act: the same callback again, with its state cookie put back.
    let cookie = format!("cs_upstream={}", state_of(&callback));
    let replay = http_client()
        .get(&callback)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    // Assert
    assert_refused(replay, "already used or has expired").await;
}

#[tokio::test]
async fn a_callback_after_the_login_expired_is_refused() {
    // Arrange
    let b = Brokering::new().await;
    let browsers = Browsers::new();
    let callback = b.to_callback(&browsers, &start_path(), &b.ursula).await;
    // Act
    b.down.clock.advance(601);
    let response = browsers.down.get(&callback).send().await.unwrap();
    // Assert
    assert_refused(response, "already used or has expired").await;
    assert!(b.linked().is_none());
}

#[tokio::test]
async fn an_upstream_error_response_is_refused_and_changes_nothing() {
    // Arrange
    let b = Brokering::new().await;
    let browsers = Browsers::new();
    let to_upstream = location(&b.down.get(&browsers.down, &start_path()).await);
    let state = state_of(&to_upstream);
    // Act
    let callback = format!(
        "{}?error=access_denied&state={state}",
        callback_url(&b.down, UPSTREAM)
    );
    let response = browsers.down.get(&callback).send().await.unwrap();
    // Assert
    assert_refused(response, "did not complete the sign-in").await;
    assert!(b.linked().is_none());
}
