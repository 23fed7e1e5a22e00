//! Operations endpoints (DESIGN.md §7): liveness, readiness, Prometheus metrics.

use reqwest::StatusCode;

use crate::helpers::{TestApp, TEST_NOW};

/// The value of the `http_requests_total` sample with these labels (0 when absent).
fn requests_total(metrics: &str, route: &str, method: &str, status: &str) -> u64 {
    let labels = [
        format!("route=\"{route}\""),
        format!("method=\"{method}\""),
        format!("status=\"{status}\""),
    ];
    metrics
        .lines()
        .filter(|line| line.starts_with("http_requests_total{"))
        .filter(|line| labels.iter().all(|label| line.contains(label.as_str())))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

async fn scrape(app: &TestApp) -> String {
    let response = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

#[tokio::test]
async fn healthz_answers_ok() {
    // Arrange
    let app = TestApp::builder().clock_at(TEST_NOW).spawn().await;
    // Act
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();
    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap().trim(), "ok");
}

#[tokio::test]
async fn healthz_answers_head_too() {
    // Arrange
    let app = TestApp::builder().clock_at(TEST_NOW).spawn().await;
    // Act
    let response = app.http.head(app.url("/healthz")).send().await.unwrap();
    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "", "HEAD has no body");
}

#[tokio::test]
async fn readyz_says_ready_once_the_database_is_migrated() {
    // Arrange
    let app = TestApp::builder().clock_at(TEST_NOW).spawn().await;
    // Act
    let get = app.http.get(app.url("/readyz")).send().await.unwrap();
    let head = app.http.head(app.url("/readyz")).send().await.unwrap();
    // Assert
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(get.status(), StatusCode::OK);
    assert_eq!(get.headers()["cache-control"], "no-store");
    assert_eq!(get.text().await.unwrap().trim(), "ready");
}

#[tokio::test]
async fn metrics_are_prometheus_text_counting_requests_by_route() {
    // Arrange: the recorder is process-wide, so count the increase this test causes.
    let app = TestApp::builder().clock_at(TEST_NOW).spawn().await;
    let before = scrape(&app).await;
    for _ in 0..3 {
        let response = app.http.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let missing = app.http.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    // Act
    let response = app.http.get(app.url("/metrics")).send().await.unwrap();
    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let after = response.text().await.unwrap();
    assert!(
        after.contains("# TYPE http_requests_total counter"),
        "{after}"
    );
    assert!(
        after.contains("# TYPE http_request_duration_seconds"),
        "{after}"
    );
    let increase = |route, status| {
        requests_total(&after, route, "GET", status) - requests_total(&before, route, "GET", status)
    };
    assert!(increase("/readyz", "200") >= 3, "{after}");
    assert!(increase("unmatched", "404") >= 1, "{after}");
    assert!(
        requests_total(&after, "/metrics", "GET", "200") >= 1,
        "the first scrape is counted: {after}"
    );
}

#[tokio::test]
async fn oversized_header_fields_are_refused_with_431() {
    // Arrange
    let app = crate::helpers::TestApp::builder().spawn().await;
    let big = "x".repeat(100 * 1024);
    // Act
    let refused = app
        .http
        .get(app.url("/healthz"))
        .header("x-padding", big)
        .send()
        .await
        .unwrap();
    let normal = app.http.get(app.url("/healthz")).send().await.unwrap();
    // Assert
    assert_eq!(
        refused.status(),
        reqwest::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    assert_eq!(normal.status(), reqwest::StatusCode::OK);
}

#[tokio::test]
async fn error_pages_show_the_request_id_of_their_log_lines() {
    // Arrange
    let app = crate::helpers::TestApp::builder().spawn().await;
    // Act: an authorization request from an unknown client (an error page, not a redirect).
    let page = app
        .http
        .get(app.url("/authorize?client_id=nobody&response_type=code&scope=openid"))
        .send()
        .await
        .unwrap();
    // Assert
    assert_eq!(page.status(), reqwest::StatusCode::BAD_REQUEST);
    let html = page.text().await.unwrap();
    let id = html
        .split("Request id: <code>")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .unwrap_or_default();
    assert_eq!(id.len(), 36, "a request id (a UUID) is shown: {html}");
}
