//! The database going away and coming back (PostgreSQL behind a [`TcpGate`]): every
//! endpoint answers 503 with `Retry-After` at once instead of after the pool's 5 s wait,
//! `/readyz` says why, and the server recovers by itself when the database returns.

use std::time::{Duration, Instant};

use reqwest::{header, Response, StatusCode};

use crate::helpers::{browser, hidden_input, TcpGate, TestApp, TestDb, PASSWORD};
use crate::oidc::back_channel::tokens_of;
use crate::oidc::support::{AuthRequest, OidcSeed};

/// Far below the pool's 5 s connection wait, which is what every request used to sit
/// through before answering 500 during an outage.
const QUICK: Duration = Duration::from_secs(3);

/// Sends `request`, asserting it was answered quickly with 503 and `Retry-After`.
async fn assert_unavailable(what: &str, request: reqwest::RequestBuilder) -> Response {
    let started = Instant::now();
    let response = request.send().await.expect("the server answers");
    let took = started.elapsed();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
    assert!(took < QUICK, "{what} took {took:?}: it waited for the pool");
    let retry_after = response.headers().get(header::RETRY_AFTER);
    assert!(
        retry_after
            .and_then(|v| v.to_str().ok()?.parse::<u32>().ok())
            .is_some(),
        "{what} says when to retry: {retry_after:?}"
    );
    response
}

/// `error` of a JSON error body.
async fn error_code(response: Response) -> String {
    let body: serde_json::Value = response.json().await.expect("a JSON error");
    body["error"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_database_outage_is_a_quick_503_everywhere_and_recovery_needs_no_restart() {
    // Arrange
    let db = TestDb::new();
    let Some(server) = db.server_addr() else {
        // An embedded SQLite file cannot become unreachable while the process runs;
        // CI's PostgreSQL pass runs this test.
        eprintln!("database outage: PostgreSQL only (TEST_DATABASE_URL); nothing to cut on SQLite");
        return;
    };
    let gate = TcpGate::to(server);
    let app = TestApp::builder()
        .database_port(gate.port())
        .spawn_on(db)
        .await
        .seeded(OidcSeed::seed);
    let service = crate::oidc::grants::service_client(&app, &[crate::oidc::support::SERVICE_SCOPE]);
    let ask_for_token =
        || app.request_as(&service, "/token", &[("grant_type", "client_credentials")]);
    let before = tokens_of(ask_for_token().send().await.unwrap()).await;
    let readyz = || app.http.get(app.url("/readyz"));
    let login_browser = browser();
    let login_page = login_browser.get(app.url("/login")).send().await.unwrap();
    let csrf = hidden_input(&login_page.text().await.unwrap(), "csrf_token").expect("CSRF token");

    // Act: the database goes away
    gate.close();

    // Assert: quick, explicit 503s
    let ready = assert_unavailable("/readyz", readyz()).await;
    assert_eq!(ready.text().await.unwrap().trim(), "database unavailable");
    let token = assert_unavailable("/token", ask_for_token()).await;
    assert_eq!(error_code(token).await, "temporarily_unavailable");
    let introspection = app.request_as(&service, "/introspect", &[("token", &before.access_token)]);
    let introspection = assert_unavailable("/introspect", introspection).await;
    assert_eq!(error_code(introspection).await, "temporarily_unavailable");
    let userinfo = app
        .http
        .get(app.url("/userinfo"))
        .bearer_auth(&before.access_token);
    let userinfo = assert_unavailable("/userinfo", userinfo).await;
    assert_eq!(error_code(userinfo).await, "temporarily_unavailable");
    let authorize = browser().get(app.url(&AuthRequest::new(&app.rp).path()));
    let page = assert_unavailable("/authorize", authorize)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("temporarily_unavailable"), "{page}");
    let login = login_browser.post(app.url("/login")).form(&[
        ("username", "alice"),
        ("password", PASSWORD),
        ("csrf_token", &csrf),
    ]);
    assert_unavailable("POST /login", login).await;
    for path in ["/.well-known/openid-configuration", "/jwks.json"] {
        assert_unavailable(path, app.http.get(app.url(path))).await;
    }

    // Act: it comes back
    gate.open();

    // Assert: ready again within the pool's retry interval, with no restart
    let deadline = Instant::now() + Duration::from_secs(20);
    while readyz().send().await.unwrap().status() != StatusCode::OK {
        assert!(Instant::now() < deadline, "/readyz never recovered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let after = ask_for_token().send().await.unwrap();
    assert_eq!(after.status(), StatusCode::OK);
    let userinfo_like = app.request_as(&service, "/introspect", &[("token", &before.access_token)]);
    let answer: serde_json::Value = userinfo_like.send().await.unwrap().json().await.unwrap();
    assert_eq!(
        answer["active"], true,
        "a token issued before the outage still works: {answer}"
    );
}

/// Terminates every other backend connected to the test database (PostgreSQL).
async fn terminate_backends(db_url: &str) {
    let url = db_url.to_owned();
    tokio::task::spawn_blocking(move || {
        use diesel::{Connection, RunQueryDsl};
        let mut conn = diesel::PgConnection::establish(&url).expect("a PostgreSQL connection");
        diesel::sql_query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .execute(&mut conn)
        .expect("pg_terminate_backend");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_killed_connection_is_replaced_without_a_validation_query_per_checkout() {
    // Arrange
    let db = TestDb::new();
    if db.server_addr().is_none() {
        eprintln!("killed connections: PostgreSQL only (TEST_DATABASE_URL)");
        return;
    }
    let app = TestApp::builder().spawn_on(db).await.seeded(OidcSeed::seed);
    let service = crate::oidc::grants::service_client(&app, &[crate::oidc::support::SERVICE_SCOPE]);
    let ask_for_token =
        || app.request_as(&service, "/token", &[("grant_type", "client_credentials")]);
    assert_eq!(
        ask_for_token().send().await.unwrap().status(),
        StatusCode::OK
    );

    // Act: the server kills the pool's connections while they are in use.
    terminate_backends(&app.db_url()).await;
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(ask_for_token().send().await.unwrap().status());
    }
    // Assert: the first request may find its connection dead (503, retry), never more
    // than that one: the dead connection is dropped, its siblings are pinged at their
    // next checkout, and the next request succeeds.
    assert!(
        matches!(answers[0], StatusCode::OK | StatusCode::SERVICE_UNAVAILABLE),
        "{answers:?}"
    );
    assert_eq!(
        answers[1..],
        [StatusCode::OK, StatusCode::OK],
        "{answers:?}"
    );

    // Act: killed while idle for longer than the idle check.
    terminate_backends(&app.db_url()).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // Assert: the checkout's ping finds it dead and replaces it; no request fails.
    assert_eq!(
        ask_for_token().send().await.unwrap().status(),
        StatusCode::OK
    );
}
