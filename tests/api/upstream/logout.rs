//! Signing out of a brokered session ends the upstream's session too (issue 22 item 4,
//! RP-Initiated Logout 1.0 §2), then returns where the client asked; the way back
//! cannot be used to send a browser anywhere else. What the brokered sign-in keeps
//! (the PKCE verifier, the upstream's ID token) is sealed at rest.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use countersign::store::schema::{upstream_logins, upstream_sessions};
use diesel::prelude::*;
use reqwest::StatusCode;

use super::support::{location, start_path, Brokering, Browsers};
use crate::helpers::POST_LOGOUT_URI;

#[tokio::test]
async fn signing_out_here_ends_the_upstream_session_too_and_returns_to_the_client() {
    // Arrange
    let b = Brokering::new().await;
    let browsers = Browsers::new();
    b.sign_in(&browsers, &start_path(), &b.ursula).await;
    let csrf = b.down.csrf(&browsers.down).await;
    // Act
    let form = [
        ("confirm", "yes"),
        ("csrf_token", csrf.as_str()),
        ("client_id", b.down.client.client_id.as_str()),
        ("post_logout_redirect_uri", POST_LOGOUT_URI),
        ("state", "rp-state"),
    ];
    let response = b.down.post(&browsers.down, "/logout", &form).await;
    let to_upstream = location(&response);
    let back = browsers.up.get(&to_upstream).send().await.unwrap();
    let done = browsers.down.get(location(&back)).send().await.unwrap();
    // Assert
    assert!(
        to_upstream.starts_with(&b.up.url("/logout?")),
        "{to_upstream}"
    );
    assert!(location(&back).starts_with(&b.down.url("/logout/upstream/done?state=")));
    assert_eq!(location(&done), format!("{POST_LOGOUT_URI}?state=rp-state"));
    let upstream_inbox = b.up.get(&browsers.up, "/approvals").await;
    assert!(
        location(&upstream_inbox).starts_with("/login"),
        "signed out upstream"
    );
    let inbox = b.down.get(&browsers.down, "/approvals").await;
    assert!(location(&inbox).starts_with("/login"), "signed out here");
}

#[tokio::test]
async fn the_way_back_from_the_upstream_logout_redirects_only_where_we_said() {
    // Arrange: a state naming another site, with a made-up MAC.
    let b = Brokering::new().await;
    let payload = URL_SAFE_NO_PAD.encode("https://evil.example/");
    // Act
    let response = b
        .down
        .get(
            &crate::helpers::browser(),
            &format!("/logout/upstream/done?state={payload}.00ff"),
        )
        .await;
    // Assert
    assert_eq!(response.status(), StatusCode::OK, "the signed-out page");
    assert!(response.headers().get("location").is_none());
}

#[tokio::test]
async fn what_a_brokered_sign_in_keeps_at_rest_is_sealed() {
    // Arrange
    let b = Brokering::new().await;
    let browsers = Browsers::new();
    // Act: up to the upstream's answer (the login is waiting), then the callback.
    let callback = b.to_callback(&browsers, &start_path(), &b.ursula).await;
    let verifiers = stored(&b, |c| {
        upstream_logins::table
            .select(upstream_logins::pkce_verifier)
            .load::<String>(c)
    });
    let signed_in = browsers.down.get(&callback).send().await.unwrap();
    let id_tokens = stored(&b, |c| {
        upstream_sessions::table
            .select(upstream_sessions::id_token)
            .load::<String>(c)
    });
    // Assert
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(verifiers.len(), 1);
    assert_eq!(id_tokens.len(), 1);
    for value in verifiers.iter().chain(&id_tokens) {
        assert!(value.starts_with("v1:"), "sealed: {value}");
    }
}

fn stored(
    b: &Brokering,
    query: impl FnOnce(&mut countersign::store::DbConn) -> diesel::QueryResult<Vec<String>>,
) -> Vec<String> {
    b.down
        .store
        .read(|c| query(c).map_err(countersign::store::StoreError::from))
        .unwrap()
}
