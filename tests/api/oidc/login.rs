//! The login and consent pages (DESIGN.md §5.1, §8): CSRF checks, brute-force throttle
//! (429 + Retry-After), the session cookie, consent denial, single-use requests.

use reqwest::{header, StatusCode};

use super::support::{
    assert_error_page, assert_redirect_error, browser, code_of, consent, hidden_input, login,
    login_to_consent, oidc_app, see_other_to, sets_session_cookie, sign_in, AuthRequest, PASSWORD,
};

#[tokio::test]
async fn denying_consent_sends_access_denied() {
    // Arrange
    let app = oidc_app().await;
    let browser = browser();
    let authorize = AuthRequest::new(&app.rp).path();
    let (_, consent_path) = login_to_consent(&app, &browser, &authorize).await;
    // Act
    let response = consent(&app, &browser, &consent_path, "deny").await;
    // Assert
    assert_redirect_error(&app, &response, "access_denied");
}

#[tokio::test]
async fn a_login_with_a_bad_csrf_token_is_forbidden_and_starts_no_session() {
    // Arrange
    let app = oidc_app().await;
    let browser = browser();
    let page = app.get(&browser, "/login").await.text().await.unwrap();
    let good = hidden_input(&page, "csrf_token").unwrap();
    // Change the last hex digit (to one it is not, or the "forgery" could be the token).
    let last = if good.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &good[..good.len() - 1]);
    // Act
    let response = browser
        .post(app.url("/login"))
        .form(&[
            ("username", "alice"),
            ("password", PASSWORD),
            ("csrf_token", forged.as_str()),
        ])
        .send()
        .await
        .unwrap();
    // Assert
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(!sets_session_cookie(&response));
    let request = AuthRequest::new(&app.rp).set("prompt", "none");
    let probe = app.get(&browser, &request.path()).await;
    assert_redirect_error(&app, &probe, "login_required");
}

#[tokio::test]
async fn five_wrong_passwords_throttle_the_sixth_attempt_even_with_the_right_password() {
    // Arrange
    let app = oidc_app().await;
    let browser = browser();
    for attempt in 1..=5 {
        let response = login(&app, &browser, "/login", "alice", "wrong password!").await;
        assert_eq!(response.status(), StatusCode::OK, "attempt {attempt}");
        assert!(!sets_session_cookie(&response));
    }
    // Act
    let response = login(&app, &browser, "/login", "alice", PASSWORD).await;
    // Assert
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0);
    assert!(!sets_session_cookie(&response));
}

#[tokio::test]
async fn a_successful_login_resets_the_failure_count() {
    // Arrange: four failures, a success, four more failures.
    let app = oidc_app().await;
    let browser = browser();
    for _ in 0..4 {
        login(&app, &browser, "/login", "alice", "wrong password!").await;
    }
    sign_in(&app, &browser).await;
    for _ in 0..4 {
        login(&app, &browser, "/login", "alice", "wrong password!").await;
    }
    // Act
    let response = login(&app, &browser, "/login", "alice", PASSWORD).await;
    // Assert
    see_other_to(&response, "/approvals");
    assert!(sets_session_cookie(&response));
}

#[tokio::test]
async fn a_consent_with_a_bad_csrf_token_is_forbidden() {
    // Arrange
    let app = oidc_app().await;
    let browser = browser();
    sign_in(&app, &browser).await;
    let response = app.get(&browser, &AuthRequest::new(&app.rp).path()).await;
    let consent_path = see_other_to(&response, "/consent?request=");
    let page = app.get(&browser, &consent_path).await.text().await.unwrap();
    let request = hidden_input(&page, "request").unwrap();
    // Act
    let response = browser
        .post(app.url("/consent"))
        .form(&[
            ("request", request.as_str()),
            ("decision", "allow"),
            ("csrf_token", "forged"),
        ])
        .send()
        .await
        .unwrap();
    // Assert
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let probe = app
        .get(
            &browser,
            &AuthRequest::new(&app.rp).set("prompt", "none").path(),
        )
        .await;
    assert_redirect_error(&app, &probe, "consent_required");
}

#[tokio::test]
async fn a_completed_authorization_request_cannot_be_resumed_again() {
    // Arrange
    let app = oidc_app().await;
    let browser = browser();
    let authorize = AuthRequest::new(&app.rp).path();
    let (resume, consent_path) = login_to_consent(&app, &browser, &authorize).await;
    code_of(&app, &consent(&app, &browser, &consent_path, "allow").await);
    // Act
    let again = app.get(&browser, &resume).await;
    // Assert
    assert_error_page(again).await;
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site() {
    // Arrange
    let app = oidc_app().await;
    // Act
    let response = login(&app, &browser(), "/login", "alice", PASSWORD).await;
    // Assert
    let cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("cs_session="))
        .expect("a session cookie")
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
}

#[tokio::test]
async fn parallel_wrong_passwords_get_no_more_guesses_than_the_limit() {
    // Arrange: twelve browsers, each with its own CSRF cookie, ready to post at once.
    let app = oidc_app().await;
    let mut forms = Vec::new();
    for _ in 0..12 {
        let browser = browser();
        let html = app.get(&browser, "/login").await.text().await.unwrap();
        let csrf = hidden_input(&html, "csrf_token").unwrap();
        forms.push((browser, csrf));
    }
    // Act
    let url = format!("{}/login", app.issuer);
    let mut tasks = Vec::new();
    for (browser, csrf) in forms {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let form = [
                ("username", "alice"),
                ("password", "wrong password!"),
                ("csrf_token", csrf.as_str()),
            ];
            browser
                .post(&url)
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    // Assert: at most the limit (5) were checked; the rest were throttled unchecked.
    let checked = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + throttled, 12, "{statuses:?}");
    assert!(checked <= 5, "{checked} guesses were checked: {statuses:?}");
    let failed = app
        .store
        .read(|c| countersign::store::audit_rows_after(c, 0, 10_000))
        .unwrap()
        .into_iter()
        .filter(|row| row.action == "login.failed")
        .count();
    assert_eq!(failed, checked);
}

/// Whether `browser` still has a session, asked with `prompt=none`.
async fn has_session(
    app: &super::support::TestApp<super::support::OidcSeed>,
    browser: &reqwest::Client,
) -> bool {
    let request = AuthRequest::new(&app.rp).set("prompt", "none");
    let response = app.get(browser, &request.path()).await;
    let location = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    !location.contains("error=login_required")
}

/// The value of the `cs_session` cookie a response sets.
fn session_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("cs_session="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_session_ends_after_the_idle_timeout_and_after_the_absolute_timeout() {
    // Arrange: the defaults are 8 h idle and 24 h absolute.
    let app = oidc_app().await;
    let idle = browser();
    sign_in(&app, &idle).await;
    let busy = browser();
    sign_in(&app, &busy).await;
    // Act and assert: idle for 8 h ends one; activity keeps the other alive for 24 h only.
    app.clock.advance(4 * 3600);
    assert!(has_session(&app, &busy).await, "active at 4 h");
    app.clock.advance(4 * 3600 + 1);
    assert!(!has_session(&app, &idle).await, "idle for 8 h");
    for _ in 0..3 {
        assert!(has_session(&app, &busy).await, "kept alive by activity");
        app.clock.advance(5 * 3600);
    }
    // Now 23 h after login: still alive; one more hour and it is over.
    assert!(has_session(&app, &busy).await, "kept alive at 23 h");
    app.clock.advance(3600);
    assert!(
        !has_session(&app, &busy).await,
        "24 h after login, activity or not"
    );
}

#[tokio::test]
async fn the_session_id_changes_at_login_and_the_old_one_stops_working() {
    // Arrange
    let app = oidc_app().await;
    let browser = browser();
    let first = login(&app, &browser, "/login", "alice", PASSWORD).await;
    let old = session_cookie(&first);
    // Act
    let second = login(&app, &browser, "/login", "alice", PASSWORD).await;
    let new = session_cookie(&second);
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let request = AuthRequest::new(&app.rp).set("prompt", "none");
    let with_old = replay
        .get(app.url(&request.path()))
        .header(header::COOKIE, format!("cs_session={old}"))
        .send()
        .await
        .unwrap();
    // Assert
    assert_ne!(old, new);
    assert_redirect_error(&app, &with_old, "login_required");
    assert!(has_session(&app, &browser).await);
}

#[tokio::test]
async fn failures_from_one_address_are_throttled_across_usernames() {
    // Arrange: an address gets four times the per-account limit (5): 20 failures.
    let app = oidc_app().await;
    let browser = browser();
    for i in 0..20 {
        let response = login(
            &app,
            &browser,
            "/login",
            &format!("nobody{i}"),
            "wrong password!",
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "failure {i}");
    }
    // Act: even the right password of an untouched account waits now.
    let response = login(&app, &browser, "/login", "alice", PASSWORD).await;
    // Assert
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn a_successful_login_never_locks_its_address() {
    // Arrange: one failure short of the address limit (20).
    let app = oidc_app().await;
    let browser = browser();
    for i in 0..19 {
        login(
            &app,
            &browser,
            "/login",
            &format!("nobody{i}"),
            "wrong password!",
        )
        .await;
    }
    // Act
    let first = login(&app, &browser, "/login", "alice", PASSWORD).await;
    let again = login(&app, &browser, "/login", "alice", PASSWORD).await;
    // Assert: only failures count, so the successes leave the address open.
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn max_age_zero_asks_for_a_login_even_right_after_one() {
    // Arrange: signed in this very second.
    let app = oidc_app().await;
    let browser = browser();
    sign_in(&app, &browser).await;
    // Act
    let request = AuthRequest::new(&app.rp).set("max_age", "0");
    let response = app.get(&browser, &request.path()).await;
    // Assert
    see_other_to(&response, "/login?request=");
}

#[tokio::test]
async fn a_login_with_a_malformed_request_value_never_reshapes_the_redirect() {
    // Arrange: `request` values no authorization request can have.
    let app = oidc_app().await;
    for request in [
        "abc&client_id=evil#frag",
        "abc\r\nSet-Cookie: x=1",
        "../../x",
    ] {
        let browser = browser();
        let page = app.get(&browser, "/login").await.text().await.unwrap();
        let csrf = hidden_input(&page, "csrf_token").unwrap();
        // Act
        let response = browser
            .post(app.url("/login"))
            .form(&[
                ("username", app.alice.username.as_str()),
                ("password", PASSWORD),
                ("csrf_token", csrf.as_str()),
                ("request", request),
            ])
            .send()
            .await
            .unwrap();
        // Assert: signed in, and sent to the inbox rather than to a reshaped URL.
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{request:?}");
        assert_eq!(
            response.headers()[header::LOCATION],
            "/approvals",
            "{request:?}"
        );
    }
}

#[tokio::test]
async fn parallel_correct_logins_all_succeed_and_never_lock_the_account() {
    // Arrange: eight browsers, each with its own CSRF cookie; the limit is five.
    let app = oidc_app().await;
    let mut forms = Vec::new();
    for _ in 0..8 {
        let browser = browser();
        let html = app.get(&browser, "/login").await.text().await.unwrap();
        forms.push((browser, hidden_input(&html, "csrf_token").unwrap()));
    }
    // Act: all at once, with the right password.
    let url = format!("{}/login", app.issuer);
    let tasks: Vec<_> = forms
        .into_iter()
        .map(|(browser, csrf)| {
            let url = url.clone();
            tokio::spawn(async move {
                let form = [
                    ("username", "alice"),
                    ("password", PASSWORD),
                    ("csrf_token", csrf.as_str()),
                ];
                let response = browser.post(&url).form(&form).send().await.unwrap();
                let retry_after = response
                    .headers()
                    .get(header::RETRY_AFTER)
                    .map(|v| v.to_str().unwrap().to_owned());
                (response.status(), retry_after)
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    // Assert: never a 500; at least the limit's worth signed in; anyone asked to wait
    // is told a moment, not the lockout (the account is not locked).
    assert!(
        answers
            .iter()
            .all(|(s, _)| *s != StatusCode::INTERNAL_SERVER_ERROR),
        "{answers:?}"
    );
    let signed_in = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::SEE_OTHER)
        .count();
    assert!(signed_in >= 5, "{answers:?}");
    for (_, retry_after) in answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
    {
        assert_eq!(retry_after.as_deref(), Some("1"), "{answers:?}");
    }
    // And the account is not locked afterwards.
    let after = login(&app, &browser(), "/login", "alice", PASSWORD).await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
}
