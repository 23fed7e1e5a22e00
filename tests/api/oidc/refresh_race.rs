//! Many clients of one grant racing with one refresh token (RFC 9700 §4.14.2): exactly
//! one rotation wins, every other answer is invalid_grant (the reuse revokes the
//! grant), and none is a server error (on PostgreSQL the two paths once locked rows in
//! opposite orders and deadlocked).

use reqwest::StatusCode;

use super::support::{oidc_app, refresh, tokens_for, AuthRequest};

#[tokio::test]
async fn twenty_parallel_refreshes_of_one_token_never_fail_with_a_server_error() {
    // Eight rounds, each on a new grant.
    // Arrange
    let app = std::sync::Arc::new(oidc_app().await);
    for _round in 0..8 {
        let request = AuthRequest::new(&app.rp).set("prompt", "consent");
        let (_, tokens) = tokens_for(&app, &app.rp, request).await;
        let token = tokens.refresh_token.unwrap();
        // Act
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (app, token) = (app.clone(), token.clone());
                tokio::spawn(async move { refresh(&app, &app.rp, &token, None).await.status() })
            })
            .collect();
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        // Assert
        let won = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        let refused = statuses
            .iter()
            .filter(|s| **s == StatusCode::BAD_REQUEST)
            .count();
        assert_eq!((won, refused), (1, 19), "{statuses:?}");
    }
}
