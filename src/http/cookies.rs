//! The session cookie and CSRF protection for forms. The CSRF token is the HMAC of a
//! random cookie under a key derived from the secret key (signed double submit), so it
//! works before sign-in and needs no server state.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;

use secrecy::SecretString;

use crate::config::Config;
use crate::crypto;
use crate::ids::SessionToken;

/// How this server sets cookies and checks forms: `Secure` when the issuer is https,
/// the CSRF key (derived from the secret key), and the proxies whose
/// `X-Forwarded-For` is believed.
#[derive(Clone)]
pub struct CookiePolicy {
    /// Cookies carry `Secure`.
    pub secure: bool,
    csrf_key: [u8; 32],
    trusted_proxies: Vec<std::net::IpAddr>,
}

impl CookiePolicy {
    /// The policy for `config`, with the CSRF key derived from `secret`.
    pub fn new(config: &Config, secret: &SecretString) -> Self {
        CookiePolicy {
            secure: config.secure_cookies(),
            csrf_key: crypto::derive_key(secret, "countersign/csrf"),
            trusted_proxies: config.trusted_proxies.clone(),
        }
    }

    /// The CSRF token for a page, making the browser's CSRF cookie when needed.
    pub fn csrf_token(&self, req: &HttpRequest) -> CsrfToken {
        csrf_token(req, &self.csrf_key, self.secure)
    }

    /// True when `submitted` is this browser's CSRF token (constant-time).
    pub fn csrf_valid(&self, req: &HttpRequest, submitted: Option<&str>) -> bool {
        csrf_valid(req, &self.csrf_key, submitted)
    }

    /// A cookie named `name` under this policy.
    pub fn build(&self, name: &'static str, value: String) -> Cookie<'static> {
        build(name, value, self.secure)
    }

    /// A cookie that deletes `name`.
    pub fn removal(&self, name: &'static str) -> Cookie<'static> {
        removal(name, self.secure)
    }

    /// The client's address: the peer, or the last untrusted hop of
    /// `X-Forwarded-For` when the peer is a trusted proxy.
    pub fn client_ip(&self, req: &HttpRequest) -> String {
        super::client_ip(req, &self.trusted_proxies)
    }
}

/// Session cookie name.
pub const SESSION: &str = "cs_session";
/// CSRF cookie name.
pub const CSRF: &str = "cs_csrf";

/// The session cookie value, if any.
pub fn session(req: &HttpRequest) -> Option<SessionToken> {
    req.cookie(SESSION)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
        .map(SessionToken::new)
}

/// A cookie: HttpOnly, SameSite=Lax, Path=/, Secure when the issuer is https.
pub fn build(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .finish()
}

/// A cookie that deletes `name`.
pub fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    let mut cookie = build(name, String::new(), secure);
    cookie.make_removal();
    cookie
}

/// The CSRF token for a page, and the cookie to set when the browser has none yet.
pub struct CsrfToken {
    /// The token for the form's hidden field.
    pub token: String,
    /// A new CSRF cookie, if one had to be made.
    pub cookie: Option<Cookie<'static>>,
}

/// The token for this browser, making its CSRF cookie when needed.
pub fn csrf_token(req: &HttpRequest, key: &[u8; 32], secure: bool) -> CsrfToken {
    match req
        .cookie(CSRF)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() >= 32)
    {
        Some(value) => CsrfToken {
            token: crypto::csrf_mac(key, &value),
            cookie: None,
        },
        None => {
            let value = crypto::random_token(32);
            CsrfToken {
                token: crypto::csrf_mac(key, &value),
                cookie: Some(build(CSRF, value, secure)),
            }
        }
    }
}

/// True when `submitted` is this browser's CSRF token (constant-time).
pub fn csrf_valid(req: &HttpRequest, key: &[u8; 32], submitted: Option<&str>) -> bool {
    let (Some(cookie), Some(submitted)) = (req.cookie(CSRF), submitted) else {
        return false;
    };
    let expected = crypto::csrf_mac(key, cookie.value());
    !expected.is_empty() && crypto::constant_time_eq(expected.as_bytes(), submitted.as_bytes())
}

/// The cookie binding an upstream sign-in's `state` to the browser that started it
/// (login CSRF, RFC 6749 §10.12).
pub const UPSTREAM_STATE: &str = "cs_upstream";
