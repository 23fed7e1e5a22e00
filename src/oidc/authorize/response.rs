//! The authorization response (RFC 6749 §4.1.2) with RFC 9207 `iss`, delivered in the
//! query (default) or by form post (OAuth 2.0 Form Post Response Mode).

use super::ValidRequest;
use crate::oidc::error::OAuthError;

/// How the response reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// Query parameters on a 303 redirect.
    Query,
    /// An auto-submitted HTML form.
    FormPost,
}

/// A response for the client's redirect URI.
#[derive(Debug, Clone)]
pub struct AuthResponse {
    /// The registered redirect URI, exactly as registered.
    pub redirect_uri: String,
    /// How to deliver it.
    pub mode: ResponseMode,
    /// The parameters (`code` or `error`…, then `state`, `iss`).
    pub params: Vec<(&'static str, String)>,
}

impl AuthResponse {
    /// A code.
    pub fn success(valid: &ValidRequest, code: &str, issuer: &str) -> Self {
        Self::build(
            valid.redirect_uri.clone(),
            valid.response_mode,
            vec![("code", code.to_owned())],
            valid.state.clone(),
            issuer,
        )
    }

    /// An error.
    pub fn error(valid: &ValidRequest, error: &OAuthError, issuer: &str) -> Self {
        Self::to_target(
            valid.redirect_uri.clone(),
            valid.response_mode,
            valid.state.clone(),
            error,
            issuer,
        )
    }

    /// An error for a verified redirect URI.
    pub fn to_target(
        redirect_uri: String,
        mode: ResponseMode,
        state: Option<String>,
        error: &OAuthError,
        issuer: &str,
    ) -> Self {
        let params = vec![
            ("error", error.code.as_str().to_owned()),
            ("error_description", error.description.to_string()),
        ];
        Self::build(redirect_uri, mode, params, state, issuer)
    }

    fn build(
        redirect_uri: String,
        mode: ResponseMode,
        mut params: Vec<(&'static str, String)>,
        state: Option<String>,
        issuer: &str,
    ) -> Self {
        if let Some(state) = state {
            params.push(("state", state));
        }
        params.push(("iss", issuer.to_owned()));
        AuthResponse {
            redirect_uri,
            mode,
            params,
        }
    }

    /// The redirect location for query mode: the registered URI, untouched, with the
    /// parameters appended (after `&` when it already has a query).
    pub fn location(&self) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.params.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        let separator = if self.redirect_uri.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{separator}{query}", self.redirect_uri)
    }
}
