//! The demo relying party's protocol side: it starts an authorization code flow with
//! PKCE S256 (RFC 7636), `state` and `nonce`, and finishes it as an unmodified RP would:
//! `state` and `iss` checked (RFC 9207 §2.4), the code redeemed with its verifier
//! through the provider's own token endpoint logic, the ID token validated (OIDC Core
//! §3.1.3.7) and its `approval` claim read. The pages and the RP's cookie are
//! `http::demo`'s.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

use super::Demo;
use crate::crypto;
use crate::manage;
use crate::oidc::params::Params;
use crate::oidc::Provider;
use crate::store::StoreError;

/// A flow just begun: where to send the browser, and what the RP must remember.
#[derive(Debug)]
pub struct Started {
    /// The authorization request URL.
    pub location: String,
    /// `state.nonce.verifier`, for the RP's own cookie.
    pub saved: String,
}

/// A flow completed: what the result page shows.
#[derive(Debug)]
pub struct Finished {
    /// The signed-in user's name.
    pub subject_name: String,
    /// `(sub, name)` of each approver of the countersignature.
    pub approvers: Vec<(String, String)>,
    /// End of the approval's access window (unix seconds).
    pub access_until: Option<i64>,
    /// The verified ID token's claims.
    pub id_token_claims: Value,
    /// The access token's claims (as the RP sees them: not its to verify).
    pub access_token_claims: Value,
    /// RP-initiated logout back to the demo.
    pub logout_url: Option<String>,
}

/// Why the flow could not finish, in words for the result page.
#[derive(Debug)]
pub struct DemoFailure(pub String);

impl From<StoreError> for DemoFailure {
    fn from(error: StoreError) -> Self {
        DemoFailure(error.to_string())
    }
}

impl std::error::Error for DemoFailure {}

impl std::fmt::Display for DemoFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn fail(message: impl Into<String>) -> DemoFailure {
    DemoFailure(message.into())
}

impl Demo {
    /// Begins a flow asking for `scope`.
    pub fn start(&self, issuer: &str, scope: &str) -> Result<Started, DemoFailure> {
        let (state, nonce, verifier) = (
            crypto::random_token(16),
            crypto::random_token(16),
            crypto::random_token(32),
        );
        let location = url::Url::parse_with_params(
            &format!("{issuer}/authorize"),
            &[
                ("response_type", "code"),
                ("client_id", self.client_id.as_str()),
                ("redirect_uri", self.redirect_uri.as_str()),
                ("scope", scope),
                ("state", state.as_str()),
                ("nonce", nonce.as_str()),
                (
                    "code_challenge",
                    crypto::sha256_b64url(verifier.as_bytes()).as_str(),
                ),
                ("code_challenge_method", "S256"),
            ],
        )
        .map_err(|_| fail("bad issuer URL"))?;
        Ok(Started {
            location: location.into(),
            saved: format!("{state}.{nonce}.{verifier}"),
        })
    }

    /// Finishes the flow this browser began (`saved` is [`Started::saved`]) with the
    /// authorization response in `query`.
    pub fn finish(
        &self,
        provider: &Provider,
        saved: &str,
        query: &Params,
        now: i64,
    ) -> Result<Finished, DemoFailure> {
        if let Some(error) = query.get("error") {
            let description = query.get("error_description").unwrap_or("");
            return Err(fail(format!("{error}: {description}")));
        }
        let mut parts = saved.split('.');
        let (Some(state), Some(nonce), Some(verifier)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(fail(
                "the demo has no pending sign-in in this browser; start again",
            ));
        };
        if query.get("state") != Some(state) || query.get("iss") != Some(provider.issuer.as_str()) {
            return Err(fail(
                "state or iss does not match the request this browser sent",
            ));
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", query.get("code").unwrap_or_default())
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("client_id", self.client_id.as_str())
            .append_pair("code_verifier", verifier)
            .finish();
        let tokens = provider
            .token(None, true, body.as_bytes(), now)
            .map_err(|e| fail(e.error.to_string()))?;
        let id_token = tokens.id_token.clone().ok_or_else(|| fail("no ID token"))?;
        let claims = provider
            .verify_id_token(&id_token, self.client_id.as_str(), nonce, now)
            .map_err(|e| fail(e.to_string()))?;
        let approver_ids: Vec<String> = claims["approval"]["approvers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let approvers = manage::display_names(&provider.store, &approver_ids)
            .map_err(|e| fail(e.to_string()))?;
        let logout_url = url::Url::parse_with_params(
            &format!("{}/logout", provider.issuer),
            &[
                ("id_token_hint", id_token.as_str()),
                (
                    "post_logout_redirect_uri",
                    &format!("{}/demo", provider.issuer),
                ),
            ],
        )
        .ok()
        .map(String::from);
        Ok(Finished {
            subject_name: claims["name"].as_str().unwrap_or("someone").to_owned(),
            approvers,
            access_until: claims["approval"]["access_until"].as_i64(),
            access_token_claims: payload(&tokens.access_token),
            id_token_claims: claims,
            logout_url,
        })
    }
}

/// The (unverified) payload of a JWT, for display.
fn payload(jwt: &str) -> Value {
    jwt.split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}
