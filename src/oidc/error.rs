//! OAuth 2.0 / OIDC protocol errors: what a client may see (RFC 6749 §4.1.2.1, §5.2,
//! RFC 6750 §3, OIDC Core §3.1.2.6). Descriptions are plain ASCII without `"` or `\`
//! and never echo request values.

use std::borrow::Cow;

use crate::store::StoreError;

/// The registered error codes we answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ErrorCode {
    InvalidRequest,
    UnauthorizedClient,
    AccessDenied,
    UnsupportedResponseType,
    InvalidScope,
    ServerError,
    TemporarilyUnavailable,
    InvalidClient,
    InvalidGrant,
    UnsupportedGrantType,
    InvalidToken,
    InsufficientScope,
    InteractionRequired,
    LoginRequired,
    ConsentRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    RegistrationNotSupported,
    InvalidAuthorizationDetails,
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    UnknownUserId,
    InvalidBindingMessage,
}

impl ErrorCode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::RegistrationNotSupported => "registration_not_supported",
            ErrorCode::InvalidAuthorizationDetails => "invalid_authorization_details",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::ExpiredToken => "expired_token",
            ErrorCode::UnknownUserId => "unknown_user_id",
            ErrorCode::InvalidBindingMessage => "invalid_binding_message",
        }
    }
}

/// An error a client may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// The code.
    pub code: ErrorCode,
    /// A sentence for the developer.
    pub description: Cow<'static, str>,
}

macro_rules! constructors {
    ($($name:ident => $code:ident),* $(,)?) => {
        impl OAuthError {
            $(
                #[doc = concat!("`", stringify!($name), "` with a description.")]
                pub fn $name(description: impl Into<Cow<'static, str>>) -> Self {
                    OAuthError { code: ErrorCode::$code, description: description.into() }
                }
            )*
        }
    };
}

constructors! {
    invalid_request => InvalidRequest,
    unauthorized_client => UnauthorizedClient,
    access_denied => AccessDenied,
    unsupported_response_type => UnsupportedResponseType,
    invalid_scope => InvalidScope,
    invalid_client => InvalidClient,
    invalid_grant => InvalidGrant,
    unsupported_grant_type => UnsupportedGrantType,
    invalid_token => InvalidToken,
    insufficient_scope => InsufficientScope,
    interaction_required => InteractionRequired,
    login_required => LoginRequired,
    consent_required => ConsentRequired,
}

impl OAuthError {
    /// A server-side failure; the cause is logged here, once, and never shown.
    pub fn server_error(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "server error");
        OAuthError {
            code: ErrorCode::ServerError,
            description: "the server failed to handle the request".into(),
        }
    }

    /// An error with any code.
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        OAuthError {
            code,
            description: description.into(),
        }
    }
}

impl From<StoreError> for OAuthError {
    /// An unreachable database is `temporarily_unavailable` (RFC 6749 §4.1.2.1), which
    /// every endpoint answers with 503 and `Retry-After`; anything else is a server error.
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Pool(cause) => {
                tracing::warn!(%cause, "database unavailable");
                OAuthError::new(
                    ErrorCode::TemporarilyUnavailable,
                    "the service is temporarily unavailable; retry later",
                )
            }
            other => OAuthError::server_error(&other),
        }
    }
}

impl std::error::Error for OAuthError {}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}
