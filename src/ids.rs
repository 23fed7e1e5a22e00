//! Identifier newtypes: each kind of id is its own type, so a user id cannot be passed
//! where a client id is expected, and each is parsed once where it enters (a URL path,
//! a form, a stored row). They print as themselves, except [`SessionToken`], which is
//! a bearer secret and never prints.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an identifier was refused where it entered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} is malformed")]
pub struct MalformedId {
    /// Which identifier.
    pub kind: &'static str,
}

/// Generated ids and tokens are `[A-Za-z0-9_-]`, at most this long (a stored
/// authorization request id is the longest).
const MAX_ID_LEN: usize = 128;

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id this server generated or stored.
            pub fn new(id: impl Into<String>) -> Self {
                $name(id.into())
            }

            /// Parses an id that came from outside (a path or a form): one to 128
            /// characters of `[A-Za-z0-9_-]`, which is what this server generates.
            pub fn parse(text: &str) -> Result<Self, MalformedId> {
                if text.is_empty() || text.len() > MAX_ID_LEN || !text.chars().all(is_token_char) {
                    return Err(MalformedId { kind: $kind });
                }
                Ok($name(text.to_owned()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

string_id!(
    /// A user's id: their `sub`, random and stable (OIDC Core §2).
    UserId,
    "user id"
);
string_id!(
    /// A registered client's `client_id` (RFC 6749 §2.2).
    ClientId,
    "client_id"
);
string_id!(
    /// An approval (the countersignature of one request).
    ApprovalId,
    "approval id"
);
string_id!(
    /// A stored authorization request.
    RequestId,
    "authorization request id"
);
string_id!(
    /// A grant: the family of tokens made from one authorization.
    GrantId,
    "grant id"
);

/// The browser's session cookie value: a bearer secret. Its `Debug` hides it and it has
/// no `Display`, so it cannot end up in a log line or a page by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// Wraps a cookie value or a freshly generated token.
    pub fn new(token: impl Into<String>) -> Self {
        SessionToken(token.into())
    }

    /// The secret itself, for hashing or for the cookie.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_outside_are_token_characters_only() {
        assert!(ApprovalId::parse("AbC-12_x").is_ok());
        for bad in ["", "a b", "a/b", "é", "a\0", &"x".repeat(129)] {
            assert_eq!(
                ApprovalId::parse(bad),
                Err(MalformedId {
                    kind: "approval id"
                })
            );
        }
    }

    #[test]
    fn a_session_token_never_prints() {
        let token = SessionToken::new("secret-value");
        assert_eq!(format!("{token:?}"), "SessionToken(***)");
        assert_eq!(token.expose(), "secret-value");
    }
}
