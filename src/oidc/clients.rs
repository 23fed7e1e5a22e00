//! Registered clients as the protocol sees them, and client authentication at the
//! token, introspection and revocation endpoints (RFC 6749 §2.3, DESIGN.md §8).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::ciba::DeliveryMode;
use super::error::OAuthError;
use super::grant_type::GrantType;
use super::params::{form_decode, Params};
use crate::crypto::{self, KeyAlg};
use crate::ids::ClientId;
use crate::manage::SECRET_HASH_PREFIX;
use crate::scope_set::ScopeSet;
use crate::store::{self, decode_list, ClientRow, DbConn, StoreError};

/// A registered client.
#[derive(Debug, Clone)]
pub struct Client {
    /// Its id.
    pub client_id: ClientId,
    /// Display name.
    pub name: String,
    secret_hash: Option<String>,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Exact post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Grant types it may use.
    pub grant_types: Vec<GrantType>,
    /// Scopes it may request.
    pub allowed_scopes: ScopeSet,
    /// PKCE required (public clients).
    pub require_pkce: bool,
    /// Algorithm of its ID tokens.
    pub id_token_alg: KeyAlg,
    /// Algorithm of its JWT access tokens.
    pub access_token_alg: KeyAlg,
    /// How it learns of a backchannel request's outcome (CIBA Core §4), when it uses CIBA.
    pub backchannel_mode: Option<DeliveryMode>,
    /// Where pings go (CIBA Core §10.2).
    pub notification_endpoint: Option<String>,
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;

    /// A stored grant type this server does not know is corrupt data, never ignored.
    fn try_from(row: ClientRow) -> Result<Self, StoreError> {
        let grant_types = decode_list(&row.grant_types)
            .iter()
            .map(|name| {
                GrantType::parse(name).ok_or_else(|| {
                    StoreError::Corrupt(format!("client {} has grant type {name:?}", row.client_id))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Client {
            client_id: row.client_id,
            name: row.name,
            secret_hash: row.secret_hash,
            redirect_uris: decode_list(&row.redirect_uris),
            post_logout_redirect_uris: decode_list(&row.post_logout_redirect_uris),
            grant_types,
            allowed_scopes: row.allowed_scopes,
            require_pkce: row.require_pkce,
            id_token_alg: row.id_token_alg,
            access_token_alg: row.access_token_alg,
            backchannel_mode: row.backchannel_token_delivery_mode,
            notification_endpoint: row.backchannel_client_notification_endpoint,
        })
    }
}

impl Client {
    /// Loads a client by id.
    pub fn load(c: &mut DbConn, client_id: &ClientId) -> Result<Option<Client>, OAuthError> {
        Ok(store::client_by_id(c, client_id)?
            .map(Client::try_from)
            .transpose()?)
    }

    /// A public client has no secret (`token_endpoint_auth_method=none`).
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    /// Whether the client is registered for a grant type.
    pub fn may_use(&self, grant_type: GrantType) -> bool {
        self.grant_types.contains(&grant_type)
    }

    /// Byte-for-byte match against the registered redirect URIs (DESIGN.md §8).
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }

    /// Constant-time check of a presented secret.
    pub fn secret_matches(&self, secret: &str) -> bool {
        let Some(stored) = self
            .secret_hash
            .as_deref()
            .and_then(|h| h.strip_prefix(SECRET_HASH_PREFIX))
        else {
            return false;
        };
        let presented = crypto::sha256_hex(secret.as_bytes());
        crypto::constant_time_eq(presented.as_bytes(), stored.as_bytes())
    }
}

/// The client credentials a request carried.
#[derive(Debug, Default, Clone)]
pub struct ClientCredentials {
    /// From `Authorization: Basic` (RFC 6749 §2.3.1).
    basic: Option<(String, String)>,
    /// The request had an Authorization header (of any scheme).
    pub used_auth_header: bool,
    /// A malformed Authorization header.
    malformed_header: bool,
    body_id: Option<String>,
    body_secret: Option<String>,
}

impl ClientCredentials {
    /// Reads credentials from the Authorization header value and the body parameters.
    pub fn from_request(authorization: Option<&str>, body: &Params) -> Self {
        let mut credentials = ClientCredentials {
            body_id: body.get("client_id").map(str::to_owned),
            body_secret: body.get("client_secret").map(str::to_owned),
            ..Self::default()
        };
        if let Some(header) = authorization {
            credentials.used_auth_header = true;
            match parse_basic(header) {
                Some(pair) => credentials.basic = Some(pair),
                None => credentials.malformed_header = true,
            }
        }
        credentials
    }

    /// The client id the request names, however it was sent.
    pub fn client_id(&self) -> Option<&str> {
        self.basic
            .as_ref()
            .map(|(id, _)| id.as_str())
            .or(self.body_id.as_deref())
    }

    /// Authenticates the client: Basic, secret in body, or `none` for public clients.
    pub fn authenticate(&self, c: &mut DbConn) -> Result<Client, OAuthError> {
        if self.malformed_header {
            return Err(OAuthError::invalid_client(
                "the Authorization header is not valid Basic client authentication",
            ));
        }
        if self.basic.is_some() && self.body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use only one client authentication method",
            ));
        }
        if let (Some((basic_id, _)), Some(body_id)) = (&self.basic, &self.body_id) {
            if basic_id != body_id {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the authenticated client",
                ));
            }
        }
        let Some(client_id) = self.client_id() else {
            return Err(OAuthError::invalid_client(
                "client authentication is required",
            ));
        };
        let unknown = || OAuthError::invalid_client("client authentication failed");
        let client_id = ClientId::parse(client_id).map_err(|_| unknown())?;
        let client = Client::load(c, &client_id)?.ok_or_else(unknown)?;
        let secret = self
            .basic
            .as_ref()
            .map(|(_, s)| s.as_str())
            .or(self.body_secret.as_deref());
        match (client.is_public(), secret) {
            (true, None) => Ok(client),
            (true, Some(_)) => Err(OAuthError::invalid_client(
                "a public client must not send a secret",
            )),
            (false, Some(secret)) if client.secret_matches(secret) => Ok(client),
            (false, _) => Err(unknown()),
        }
    }
}

/// `Basic <base64(urlencode(id) ":" urlencode(secret))>`; scheme case-insensitive, any
/// number of spaces after it (RFC 9110 §11.1, RFC 6749 §2.3.1).
fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, rest) = header.trim_start().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(rest.trim()).ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    let id = form_decode(&decoded[..colon])?;
    let secret = form_decode(&decoded[colon + 1..])?;
    (!id.is_empty()).then_some((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded_and_scheme_is_case_insensitive() {
        let encoded = STANDARD.encode("my%20client:p%3Ass+word");
        assert_eq!(
            parse_basic(&format!("bAsIc   {encoded}")),
            Some(("my client".into(), "p:ss word".into()))
        );
        assert_eq!(parse_basic("Bearer abc"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
    }
}
