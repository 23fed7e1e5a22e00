//! The relying party: the `openidconnect` crate, unmodified, configured only from our
//! discovery document. Its HTTP client follows no redirects (STYLE.md §2.7).

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType,
    CoreIdToken, CoreIdTokenClaims, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreSubjectIdentifierType, CoreTokenResponse, CoreUserInfoClaims,
};
use openidconnect::{
    AdditionalProviderMetadata, AsyncHttpClient, AuthenticationFlow, AuthorizationCode, ClientId,
    ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpClientError,
    HttpRequest, HttpResponse, IntrospectionUrl, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata, RedirectUrl, RequestTokenError,
    RevocationUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};

use super::support::{OidcSeed, TestApp, TestClient, REDIRECT_URI};

/// The two RFC 8414 endpoints OIDC Discovery does not define, read from the same
/// document.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct TokenEndpoints {
    /// RFC 7009.
    pub revocation_endpoint: String,
    /// RFC 7662.
    pub introspection_endpoint: String,
}

impl AdditionalProviderMetadata for TokenEndpoints {}

/// `CoreProviderMetadata` plus [`TokenEndpoints`].
pub type RpProviderMetadata = ProviderMetadata<
    TokenEndpoints,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// A client built from discovery, with revocation and introspection set.
pub type RpClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointSet,
    EndpointSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The RP: its client and its back-channel HTTP client.
pub struct Rp {
    /// The library's client.
    pub client: RpClient,
    /// reqwest 0.12, no redirects.
    pub http: reqwest::Client,
}

/// One authorization request the RP started.
pub struct RpFlow {
    /// Where the browser goes.
    pub url: url::Url,
    /// The `state` sent.
    pub state: CsrfToken,
    /// The `nonce` sent.
    pub nonce: Nonce,
    /// The PKCE secret.
    pub verifier: PkceCodeVerifier,
}

/// The RP's back-channel client: it must not follow redirects.
pub fn rp_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("RP http client")
}

impl Rp {
    /// Discovers the provider at `app.issuer` and registers as `client`.
    pub async fn discover(app: &TestApp<OidcSeed>, client: &TestClient) -> Rp {
        let http = rp_http();
        let issuer = IssuerUrl::new(app.issuer.clone()).unwrap();
        let metadata = RpProviderMetadata::discover_async(issuer, &http)
            .await
            .expect("discovery");
        let endpoints = metadata.additional_metadata().clone();
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(client.client_id.clone()),
            client.secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).unwrap())
        .set_revocation_url(RevocationUrl::new(as_https(&endpoints.revocation_endpoint)).unwrap())
        .set_introspection_url(IntrospectionUrl::new(endpoints.introspection_endpoint).unwrap());
        Rp { client, http }
    }

    /// An authorization URL for `openid profile email offline_access` with PKCE S256
    /// and a nonce, plus `extra` parameters (e.g. `response_mode`).
    pub fn start(&self, extra: &[(&str, &str)]) -> RpFlow {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("offline_access".into()))
            .set_pkce_challenge(challenge);
        for (name, value) in extra {
            request = request.add_extra_param(*name, *value);
        }
        let (url, state, nonce) = request.url();
        RpFlow {
            url,
            state,
            nonce,
            verifier,
        }
    }

    /// Exchanges `code` with the PKCE verifier.
    pub async fn exchange(&self, code: &str, verifier: PkceCodeVerifier) -> CoreTokenResponse {
        self.client
            .exchange_code(AuthorizationCode::new(code.into()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .expect("code exchange")
    }

    /// The ID token of `tokens`, verified by the library (signature via JWKS, `iss`,
    /// `aud`, `azp`, `exp`, `iat`, `nonce`).
    pub fn verify<'a>(
        &self,
        tokens: &'a CoreTokenResponse,
        nonce: &Nonce,
    ) -> &'a CoreIdTokenClaims {
        id_token(tokens)
            .claims(&self.client.id_token_verifier(), nonce)
            .expect("the ID token verifies")
    }

    /// Asks userinfo with the access token of `tokens`, for the subject of `claims`.
    pub async fn user_info(
        &self,
        tokens: &CoreTokenResponse,
        claims: &CoreIdTokenClaims,
    ) -> CoreUserInfoClaims {
        self.client
            .user_info(
                tokens.access_token().clone(),
                Some(claims.subject().clone()),
            )
            .unwrap()
            .request_async(&self.http)
            .await
            .expect("userinfo")
    }
}

impl Rp {
    /// Revokes `token` with the library (RFC 7009). The library insists on an https
    /// revocation URL (RFC 7009 §2); the test server speaks plain HTTP, so the request
    /// goes through [`tls_terminator`], which stands in for a TLS offloader.
    pub async fn revoke(&self, token: CoreRevocableToken) -> Result<(), RevocationError> {
        let http = self.http.clone();
        self.client
            .revoke_token(token)
            .expect("a revocation endpoint")
            .request_async(&tls_terminator(http))
            .await
    }
}

/// The library's revocation error.
pub type RevocationError =
    RequestTokenError<HttpClientError<reqwest::Error>, CoreRevocationErrorResponse>;

/// `https://…` for an `http://…` URL.
fn as_https(url: &str) -> String {
    url.replacen("http://", "https://", 1)
}

/// An async HTTP client for the library that sends `https://…` requests as `http://…`
/// through the RP's no-redirect reqwest client: the TLS offloader of a real deployment.
fn tls_terminator(
    http: reqwest::Client,
) -> impl Fn(HttpRequest) -> BoxFuture<Result<HttpResponse, HttpClientError<reqwest::Error>>> {
    move |mut request: HttpRequest| {
        let http = http.clone();
        Box::pin(async move {
            let plain = request.uri().to_string().replacen("https://", "http://", 1);
            *request.uri_mut() = plain.parse().expect("a URI");
            http.call(request).await
        })
    }
}

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// The ID token of a token response.
pub fn id_token(tokens: &CoreTokenResponse) -> &CoreIdToken {
    tokens.id_token().expect("an ID token")
}
