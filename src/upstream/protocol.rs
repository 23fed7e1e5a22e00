//! The relying-party half of identity brokering, done by the `openidconnect` crate:
//! discovery (OIDC Discovery §4), the authorization request with `state`, `nonce` and
//! PKCE S256 (OIDC Core §3.1.2.1, RFC 7636 §4), the code exchange with
//! `client_secret_basic` (OIDC Core §3.1.3) and ID token validation against the
//! upstream's JWKS: signature, `iss`, `aud`, `exp` and `nonce` (OIDC Core §3.1.3.7).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreTokenResponse,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::UpstreamError;

/// A client of one upstream, built from its discovery document.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How we are registered at an upstream.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Its issuer identifier.
    pub issuer: String,
    /// Our client_id there.
    pub client_id: String,
    /// Our secret there (opened from its sealed form only for the exchange).
    pub client_secret: Option<SecretString>,
    /// Our redirect URI there.
    pub redirect_uri: String,
    /// Space-separated scopes.
    pub scope: String,
}

/// An authorization request about to be sent: where the browser goes and the three
/// values the callback must match.
#[derive(Debug)]
pub struct Request {
    /// The upstream's authorization endpoint with every parameter.
    pub url: url::Url,
    /// `state`.
    pub state: String,
    /// `nonce`.
    pub nonce: String,
    /// The PKCE `code_verifier`.
    pub verifier: String,
}

/// Who the upstream says signed in, from its verified ID token (and userinfo for the
/// groups claim when the ID token lacks it).
#[derive(Debug, Clone)]
pub struct Identity {
    /// `iss` of the ID token.
    pub issuer: String,
    /// `sub` of the ID token.
    pub subject: String,
    /// `preferred_username`.
    pub preferred_username: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// The groups claim (absent: no groups).
    pub groups: Vec<String>,
    /// The upstream's `amr`, if it said.
    pub amr: Vec<String>,
    /// The ID token itself (the `id_token_hint` of the upstream logout).
    pub id_token: String,
}

async fn client(
    http: &reqwest::Client,
    registration: &Registration,
) -> Result<Client, UpstreamError> {
    let issuer = IssuerUrl::new(registration.issuer.clone())
        .map_err(|e| UpstreamError::Discovery(e.to_string()))?;
    // discover_async also checks that the document names this very issuer (OIDC
    // Discovery §4.3) and fetches its JWKS.
    let metadata = CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|e| UpstreamError::Discovery(error_chain(&e)))?;
    let redirect = RedirectUrl::new(registration.redirect_uri.clone())
        .map_err(|e| UpstreamError::Discovery(e.to_string()))?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(registration.client_id.clone()),
        registration
            .client_secret
            .as_ref()
            .map(|s| ClientSecret::new(s.expose_secret().to_owned())),
    )
    .set_redirect_uri(redirect))
}

/// Discovers the upstream and builds its authorization request.
pub async fn start(
    http: &reqwest::Client,
    registration: &Registration,
) -> Result<Request, UpstreamError> {
    let client = client(http, registration).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    // `authorize_url` always asks for `openid`.
    for scope in registration.scope.split_whitespace() {
        if scope != "openid" {
            request = request.add_scope(Scope::new(scope.to_owned()));
        }
    }
    let (url, state, nonce) = request.url();
    Ok(Request {
        url,
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
    })
}

/// Exchanges `code` and validates the ID token; reads the groups from `groups_claim`
/// of the ID token, else of userinfo.
pub async fn finish(
    http: &reqwest::Client,
    registration: &Registration,
    code: &str,
    expected: Expected<'_>,
    now: i64,
) -> Result<Identity, UpstreamError> {
    let client = client(http, registration).await?;
    let tokens: CoreTokenResponse = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| UpstreamError::Exchange(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(expected.verifier.to_owned()))
        .request_async(http)
        .await
        .map_err(|e| UpstreamError::Exchange(error_chain(&e)))?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| UpstreamError::IdToken("the token response has no ID token".into()))?;
    let at = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default();
    let verifier = client.id_token_verifier().set_time_fn(move || at);
    let claims = id_token
        .claims(&verifier, &Nonce::new(expected.nonce.to_owned()))
        .map_err(|e| UpstreamError::IdToken(e.to_string()))?;
    // Verified above; read again as JSON for the claims the library does not model.
    let raw = payload(&id_token.to_string());
    let mut groups = raw.get(expected.groups_claim).map(strings);
    if groups.is_none() {
        let subject = claims.subject().as_str();
        groups = userinfo_groups(http, &client, &tokens, subject, expected.groups_claim).await?;
    }
    Ok(Identity {
        issuer: claims.issuer().as_str().to_owned(),
        subject: claims.subject().as_str().to_owned(),
        preferred_username: claims.preferred_username().map(|u| u.as_str().to_owned()),
        email: claims.email().map(|e| e.as_str().to_owned()),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned()),
        groups: groups.unwrap_or_default(),
        amr: raw.get("amr").map(strings).unwrap_or_default(),
        id_token: id_token.to_string(),
    })
}

/// What the callback checks the ID token against, kept from the authorization request.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The `nonce` sent.
    pub nonce: &'a str,
    /// The PKCE `code_verifier`.
    pub verifier: &'a str,
    /// The claim holding the groups.
    pub groups_claim: &'a str,
}

/// The groups claim from userinfo, when the upstream has the endpoint; its `sub` must
/// be the ID token's (OIDC Core §5.3.2), else the answer is ignored.
async fn userinfo_groups(
    http: &reqwest::Client,
    client: &Client,
    tokens: &CoreTokenResponse,
    subject: &str,
    claim: &str,
) -> Result<Option<Vec<String>>, UpstreamError> {
    let Some(url) = client.user_info_url() else {
        return Ok(None);
    };
    let response = http
        .get(url.url().clone())
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| UpstreamError::Exchange(format!("userinfo: {e}")))?;
    let body: Value = response
        .json()
        .await
        .map_err(|e| UpstreamError::Exchange(format!("userinfo: {e}")))?;
    if body.get("sub").and_then(Value::as_str) != Some(subject) {
        return Err(UpstreamError::IdToken(
            "userinfo answered for another subject".into(),
        ));
    }
    Ok(body.get(claim).map(strings))
}

/// The JSON payload of a JWT that has already been verified.
fn payload(jwt: &str) -> Value {
    jwt.split('.')
        .nth(1)
        .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

/// A claim as a list of strings: an array of strings, or one string.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// An error and its causes on one line (the library's errors wrap the useful part).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}

/// The upstream's `end_session_endpoint` (RP-Initiated Logout 1.0 §2.1), read from its
/// discovery document, whose `issuer` must be the upstream's.
pub async fn end_session_endpoint(
    http: &reqwest::Client,
    issuer: &str,
) -> Result<Option<url::Url>, UpstreamError> {
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let document: Value = http
        .get(discovery)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| UpstreamError::Discovery(e.to_string()))?
        .json()
        .await
        .map_err(|e| UpstreamError::Discovery(e.to_string()))?;
    if document.get("issuer").and_then(Value::as_str) != Some(issuer) {
        return Err(UpstreamError::Discovery(
            "the document names another issuer".into(),
        ));
    }
    Ok(document
        .get("end_session_endpoint")
        .and_then(Value::as_str)
        .and_then(|url| url::Url::parse(url).ok()))
}
