//! RP-Initiated Logout 1.0 where the OP must not simply obey the link: without an
//! `id_token_hint` or `client_id` the OP cannot tell whose `post_logout_redirect_uri`
//! it is (§2, §3: redirect only to a URI registered for the identified client); a
//! `client_id` naming another client than the hint's `aud` is refused (§2); and an ID
//! token of another user does not sign this browser's user out unasked (§2: the OP
//! MUST ask when the hint does not belong to the signed-in End-User).

use countersign::manage::ClientSpec;
use reqwest::{header, StatusCode};

use crate::oidc::support::{
    assert_error_page, assert_redirect_error, browser, code_of, consent, exchange, hidden_input,
    login, oidc_app, redirect_params, see_other, see_other_to, tokens_for, tokens_of, AuthRequest,
    OidcSeed, Pkce, TestApp, Tokens, User, PASSWORD, POST_LOGOUT_URI,
};

fn logout_path(pairs: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("/logout?{query}")
}

/// A `prompt=none` request answers with a code only while the browser is signed in.
async fn assert_still_signed_in(app: &TestApp<OidcSeed>, browser: &reqwest::Client) {
    let request = AuthRequest::new(&app.rp).set("prompt", "none");
    let response = app.get(browser, &request.path()).await;
    assert!(redirect_params(&response).contains_key("code"), "signed in");
}

async fn assert_signed_out(app: &TestApp<OidcSeed>, browser: &reqwest::Client) {
    let request = AuthRequest::new(&app.rp).set("prompt", "none");
    let response = app.get(browser, &request.path()).await;
    assert_redirect_error(app, &response, "login_required");
}

/// `who` signs in in a new browser, consents for `rp`, and the code is exchanged.
async fn tokens_of_user(app: &TestApp<OidcSeed>, who: &User) -> Tokens {
    let browser = browser();
    let pkce = Pkce::new();
    let response = app
        .get(&browser, &AuthRequest::new(&app.rp).pkce(&pkce).path())
        .await;
    let login_path = see_other_to(&response, "/login?request=");
    let response = login(app, &browser, &login_path, &who.username, PASSWORD).await;
    let resume = see_other_to(&response, "/authorize/continue?request=");
    let consent_path = see_other_to(&app.get(&browser, &resume).await, "/consent?request=");
    let response = consent(app, &browser, &consent_path, "allow").await;
    let code = code_of(app, &response);
    tokens_of(exchange(app, &app.rp, &code, Some(&pkce.verifier)).await).await
}

#[tokio::test]
async fn a_post_logout_redirect_uri_without_hint_or_client_id_is_refused_and_keeps_the_session() {
    // Arrange
    let app = oidc_app().await;
    let (browser, _) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let path = logout_path(&[
        ("post_logout_redirect_uri", POST_LOGOUT_URI),
        ("state", "s1"),
    ]);
    // Act
    let response = app.get(&browser, &path).await;
    let posted = browser
        .post(app.url("/logout"))
        .form(&[("post_logout_redirect_uri", POST_LOGOUT_URI)])
        .send()
        .await
        .unwrap();
    // Assert: an error page (never a redirect), and nobody was signed out.
    let page = assert_error_page(response).await;
    assert!(page.contains("not registered for the client"), "{page}");
    assert_error_page(posted).await;
    assert_still_signed_in(&app, &browser).await;
}

#[tokio::test]
async fn a_client_id_that_is_not_the_hints_audience_is_refused_and_keeps_the_session() {
    // Arrange: another client registers the same post-logout URI, so only the mismatch
    // between client_id and the hint's aud can refuse.
    let app = oidc_app().await;
    let other = app.add_client(ClientSpec {
        name: "Other".into(),
        post_logout_redirect_uris: vec![POST_LOGOUT_URI.into()],
        ..ClientSpec::default()
    });
    let (browser, tokens) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let hint = tokens.id_token.unwrap();
    let path = logout_path(&[
        ("id_token_hint", hint.as_str()),
        ("client_id", other.client_id.as_str()),
        ("post_logout_redirect_uri", POST_LOGOUT_URI),
        ("state", "s2"),
    ]);
    // Act
    let response = app.get(&browser, &path).await;
    // Assert
    let page = assert_error_page(response).await;
    assert!(
        page.contains("client_id does not match the id_token_hint"),
        "{page}"
    );
    assert_still_signed_in(&app, &browser).await;
}

#[tokio::test]
async fn someone_elses_id_token_hint_asks_before_signing_out_and_never_redirects_unasked() {
    // Arrange: alice is signed in; the link carries bob's (valid) ID token.
    let app = oidc_app().await;
    let bob = app.add_user("bob", None, &[]);
    let bobs_hint = tokens_of_user(&app, &bob).await.id_token.unwrap();
    let (alice, _) = tokens_for(&app, &app.rp, AuthRequest::new(&app.rp)).await;
    let path = logout_path(&[
        ("id_token_hint", bobs_hint.as_str()),
        ("post_logout_redirect_uri", POST_LOGOUT_URI),
        ("state", "s3"),
    ]);
    // Act
    let asked = app.get(&alice, &path).await;
    // Assert: a confirmation page, no redirect, alice still signed in.
    assert_eq!(asked.status(), StatusCode::OK);
    assert!(asked.headers().get(header::LOCATION).is_none());
    let html = asked.text().await.unwrap();
    assert_eq!(hidden_input(&html, "confirm").as_deref(), Some("yes"));
    assert_still_signed_in(&app, &alice).await;
    // Act: alice confirms with the form as served.
    let mut form = vec![
        ("confirm".to_owned(), "yes".to_owned()),
        (
            "csrf_token".to_owned(),
            hidden_input(&html, "csrf_token").unwrap(),
        ),
    ];
    for name in ["client_id", "post_logout_redirect_uri", "state"] {
        if let Some(value) = hidden_input(&html, name) {
            form.push((name.to_owned(), value));
        }
    }
    let confirmed = alice
        .post(app.url("/logout"))
        .form(&form)
        .send()
        .await
        .unwrap();
    // Assert: now she is signed out, and goes to the URI registered for the hint's client.
    assert_eq!(see_other(&confirmed), format!("{POST_LOGOUT_URI}?state=s3"));
    assert_signed_out(&app, &alice).await;
}
