//! The relying party's side (redirects, token, refresh, introspection, userinfo) and
//! helpers that read responses.

use std::collections::HashMap;

use reqwest::{header, Response, StatusCode};
use serde_json::Value;

use super::support::{ApprovalSeed, TestApp, REDIRECT_URI, STATE};
pub use crate::helpers::{hidden_input, see_other, see_other_to, tokens_of, unescape, Tokens};
use crate::helpers::{jwt_part, redirect_params};

// The client's side.

impl TestApp<ApprovalSeed> {
    /// The parameters of a 303 to `REDIRECT_URI` (asserts the target, `state`, `iss`).
    pub fn client_redirect(&self, response: &Response) -> HashMap<String, String> {
        let params = redirect_params(response);
        assert_eq!(params.get("state").map(String::as_str), Some(STATE));
        assert_eq!(
            params.get("iss").map(String::as_str),
            Some(self.issuer.as_str()),
            "RFC 9207 iss"
        );
        params
    }

    /// The code of a successful redirect.
    pub fn code_of(&self, response: &Response) -> String {
        let params = self.client_redirect(response);
        assert!(!params.contains_key("error"), "{params:?}");
        params.get("code").expect("a code").clone()
    }

    /// Asserts an error redirect with `error` and no code; returns the description.
    pub fn error_of(&self, response: &Response, error: &str) -> String {
        let params = self.client_redirect(response);
        assert_eq!(
            params.get("error").map(String::as_str),
            Some(error),
            "{params:?}"
        );
        assert!(!params.contains_key("code"), "{params:?}");
        params
            .get("error_description")
            .expect("an error_description")
            .clone()
    }

    /// Exchanges `code` at `/token`; returns the raw answer.
    pub async fn exchange_response(&self, code: &str) -> Response {
        self.post_as(
            &self.client,
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT_URI),
            ],
        )
        .await
    }

    /// Exchanges `code` and asserts tokens came back.
    pub async fn exchange(&self, code: &str) -> Tokens {
        tokens_of(self.exchange_response(code).await).await
    }

    /// Uses a refresh token; returns the raw answer.
    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post_as(
            &self.client,
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    /// Introspects `token` (RFC 7662; asserting 200).
    pub async fn introspect(&self, token: &str) -> Value {
        let response = self
            .post_as(&self.client, "/introspect", &[("token", token)])
            .await;
        assert_eq!(response.status(), StatusCode::OK, "introspection");
        response.json().await.unwrap()
    }
}

/// The payload of a JWT, unverified.
pub fn jwt_payload(token: &str) -> Value {
    jwt_part(token, 1)
}

// Response helpers.

/// Asserts a 303 to `/approvals/{id}/waiting`; returns the id.
pub fn waiting_of(response: &Response) -> String {
    let location = see_other_to(response, "/approvals/");
    let id = location
        .strip_prefix("/approvals/")
        .and_then(|rest| rest.strip_suffix("/waiting"))
        .expect("a 303 to the waiting page /approvals/{id}/waiting");
    assert!(!id.is_empty() && !id.contains('/'), "{location}");
    id.to_owned()
}

/// Asserts a refusal page: `status`, HTML, no `Location`; returns the body.
pub async fn refused(response: Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status, "from {}", response.url());
    assert!(response.headers().get(header::LOCATION).is_none());
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    response.text().await.unwrap()
}

/// `html` without its request id (which differs on every response), to compare pages.
pub fn without_request_id(html: &str) -> String {
    match html.split_once("Request id: <code>") {
        Some((before, after)) => {
            let rest = after.split_once("</code>").map_or("", |(_, rest)| rest);
            format!("{before}{rest}")
        }
        None => html.to_owned(),
    }
}
