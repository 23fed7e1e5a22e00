//! The client address that the login throttle counts (DESIGN.md §8 "Throttling": failed
//! logins per account and per client IP) is the TCP peer unless that peer is one of
//! `trusted_proxies`; then it is the right-most `X-Forwarded-For` entry that is not a
//! trusted proxy (entries further left were written by the client, RFC 7239 §8.2 and
//! the de-facto XFF convention). So a forged header from an untrusted peer neither
//! dodges the per-address lockout nor moves it onto someone else's address, and behind
//! a trusted proxy the lockout follows the address the proxy saw.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use actix_web::test::TestRequest;
use countersign::http::client_ip;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{submit_login, TestApp, PASSWORD};
use crate::oidc::support::OidcSeed;

/// Failures per account; an address gets four times as many (`accounts::login`).
const MAX_FAILURES: u32 = 2;
const ADDRESS_LIMIT: u32 = 4 * MAX_FAILURES;

/// A browser whose every request carries `X-Forwarded-For: forwarded`.
fn browser_forwarding(forwarded: &str) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert("x-forwarded-for", HeaderValue::from_str(forwarded).unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

/// Signs in (from a browser forwarding `forwarded`) and returns the status.
async fn sign_in(app: &TestApp<OidcSeed>, forwarded: &str, user: &str, pw: &str) -> StatusCode {
    let browser = browser_forwarding(forwarded);
    submit_login(&browser, &app.issuer, "/login", user, pw)
        .await
        .status()
}

/// `ADDRESS_LIMIT` failed logins, each for another (unknown) account so that no account
/// lock gets in the way, each with `forwarded(i)` as its header.
async fn fail_from(app: &TestApp<OidcSeed>, forwarded: impl Fn(u32) -> String) {
    for i in 0..ADDRESS_LIMIT {
        let status = sign_in(app, &forwarded(i), &format!("nobody{i}"), "wrong password!").await;
        assert_eq!(
            status,
            StatusCode::OK,
            "failure {i} is answered, not throttled"
        );
    }
}

/// The `ip` of every login.failed and login.throttled event.
fn audited_addresses(app: &TestApp<OidcSeed>) -> Vec<String> {
    let mut conn = app.store.conn().unwrap();
    countersign::store::audit_rows_after(&mut conn, 0, 10_000)
        .unwrap()
        .into_iter()
        .filter(|row| row.action == "login.failed" || row.action == "login.throttled")
        .map(|row| {
            let details: Value = serde_json::from_str(&row.details).unwrap();
            details["ip"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_forged_x_forwarded_for_from_an_untrusted_peer_neither_dodges_nor_moves_the_lockout() {
    // Arrange: no trusted proxies; the attacker forges a new address on every try.
    let app = TestApp::builder()
        .login_max_failures(MAX_FAILURES)
        .spawn()
        .await
        .seeded(OidcSeed::seed);
    fail_from(&app, |i| format!("198.51.100.{i}")).await;
    // Act: yet another forged address, now with alice's right password.
    let status = sign_in(&app, "203.0.113.50", &app.alice.username, PASSWORD).await;
    // Assert: the peer (loopback) is locked out; no forged address was ever counted.
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let addresses = audited_addresses(&app);
    assert_eq!(addresses.len(), ADDRESS_LIMIT as usize + 1);
    assert!(
        addresses.iter().all(|ip| ip == "127.0.0.1"),
        "{addresses:?}"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_lockout_follows_the_address_the_proxy_saw() {
    // Arrange: loopback is the trusted proxy; it appends the real client address
    // (198.51.100.1) to whatever the client sent, here a victim's address.
    let app = TestApp::builder()
        .trusted_proxies("127.0.0.1")
        .login_max_failures(MAX_FAILURES)
        .spawn()
        .await
        .seeded(OidcSeed::seed);
    fail_from(&app, |i| format!("203.0.113.{i}, 198.51.100.1")).await;
    // Act
    let forged = sign_in(
        &app,
        "192.0.2.77, 198.51.100.1",
        &app.alice.username,
        PASSWORD,
    )
    .await;
    let victim = sign_in(&app, "203.0.113.0", &app.alice.username, PASSWORD).await;
    // Assert: the attacker's address is locked whatever it writes to the left; the
    // victim whose address it wrote is not.
    assert_eq!(forged, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(victim, StatusCode::SEE_OTHER);
    let addresses = audited_addresses(&app);
    assert!(
        addresses.iter().all(|ip| ip == "198.51.100.1"),
        "{addresses:?}"
    );
}

#[test]
fn the_client_address_is_the_right_most_forwarded_entry_only_behind_a_trusted_proxy() {
    let peer = |ip: [u8; 4]| SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), 40_000);
    let proxy: IpAddr = "10.0.0.1".parse().unwrap();
    let cases: [(&str, SocketAddr, &[IpAddr], &str); 6] = [
        // An untrusted peer: its header is ignored.
        ("1.2.3.4", peer([192, 0, 2, 9]), &[], "192.0.2.9"),
        ("1.2.3.4", peer([192, 0, 2, 9]), &[proxy], "192.0.2.9"),
        // A trusted peer: the right-most entry that is not a trusted proxy.
        ("1.2.3.4", peer([10, 0, 0, 1]), &[proxy], "1.2.3.4"),
        ("6.6.6.6, 1.2.3.4", peer([10, 0, 0, 1]), &[proxy], "1.2.3.4"),
        (
            "6.6.6.6, 1.2.3.4, 10.0.0.1",
            peer([10, 0, 0, 1]),
            &[proxy],
            "1.2.3.4",
        ),
        // Nothing usable forwarded: the peer.
        ("not an address", peer([10, 0, 0, 1]), &[proxy], "10.0.0.1"),
    ];
    for (forwarded, peer, trusted, expected) in cases {
        let req = TestRequest::default()
            .peer_addr(peer)
            .insert_header(("x-forwarded-for", forwarded))
            .to_http_request();
        assert_eq!(
            client_ip(&req, trusted),
            expected,
            "{forwarded} from {peer} trusting {trusted:?}"
        );
    }
}
