//! Bot Framework → bot authentication (Bot Framework "Authenticate requests from the
//! Bot Connector service"; botbuilder-js `channelValidation.ts`,
//! `endorsementsValidator.ts`): the `Authorization: Bearer` JWT of an incoming
//! activity, checked against keys the caller already fetched from the JWKS named by
//! `https://login.botframework.com/v1/.well-known/openidconfiguration` (and, for
//! single-tenant bots, the Entra tenant's; the issuer list is configurable).
//!
//! Checks: RS256/384/512 with a listed `kid`; the key's `endorsements`, when it has
//! them, include the activity's `channelId`; `iss` in `issuers`; `aud` = our App ID;
//! `exp` (required) and `nbf` against the caller's `now` with 300 s of tolerance; the
//! `serviceurl` claim equals the activity's `serviceUrl`. An unknown `kid` is its own
//! error: the caller refreshes the keys (at most once an hour) and tries again.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// Clock tolerance, as botbuilder's `clockTolerance`.
pub const LEEWAY_SECONDS: i64 = 300;

/// A Bot Framework JWKS: RSA keys with their channel endorsements, which
/// `jsonwebtoken::jwk::Jwk` would drop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BotJwks {
    /// The usable keys (RSA, with `kid`, `n` and `e`).
    pub keys: Vec<BotKey>,
}

/// One RSA verification key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotKey {
    /// Key id.
    pub kid: String,
    /// Modulus, base64url.
    pub n: String,
    /// Exponent, base64url.
    pub e: String,
    /// Channels that endorse it (`msteams`, …); `None` when the JWKS says nothing.
    pub endorsements: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<RawJwk>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
    endorsements: Option<Vec<String>>,
}

impl BotJwks {
    /// Parses a JWKS document, skipping keys that are not RSA or lack `kid`, `n`, `e`.
    pub fn from_json(json: &[u8]) -> Result<Self, serde_json::Error> {
        let raw: RawJwks = serde_json::from_slice(json)?;
        let keys = raw
            .keys
            .into_iter()
            .filter(|k| k.kty == "RSA")
            .filter_map(|k| {
                Some(BotKey {
                    kid: k.kid?,
                    n: k.n?,
                    e: k.e?,
                    endorsements: k.endorsements,
                })
            })
            .collect();
        Ok(BotJwks { keys })
    }

    /// Adds another set's keys (e.g. the Entra tenant's next to Bot Framework's).
    pub fn extend(&mut self, other: BotJwks) {
        self.keys.extend(other.keys);
    }

    /// The key with this id.
    pub fn key(&self, kid: &str) -> Option<&BotKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }
}

/// The claims of a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotClaims {
    /// `iss`.
    pub issuer: String,
    /// `serviceurl`.
    pub service_url: String,
    /// `exp` (unix seconds).
    pub expires_at: i64,
    /// `nbf` (unix seconds).
    pub not_before: Option<i64>,
}

/// Optional fields, so a missing one reaches jsonwebtoken's required-claims check
/// (it deserializes these before validating).
#[derive(Deserialize)]
struct RawClaims {
    iss: Option<String>,
    exp: Option<i64>,
    nbf: Option<i64>,
    serviceurl: Option<String>,
}

/// Why a Bot Framework token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BotTokenError {
    /// Not a JWT, or its header or claims do not parse.
    #[error("malformed token")]
    Malformed,
    /// The header names no `kid`.
    #[error("token has no kid")]
    MissingKid,
    /// No key with this `kid`: refresh the keys once and retry.
    #[error("unknown signing key {0}")]
    UnknownKid(String),
    /// Not RS256, RS384 or RS512.
    #[error("algorithm not allowed")]
    Algorithm,
    /// The JWKS key is unusable.
    #[error("unusable signing key")]
    BadKey,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// `iss` is not an allowed issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` is not our App ID.
    #[error("wrong audience")]
    WrongAudience,
    /// A required claim (`exp`, `iss`, `aud`, `serviceurl`) is missing.
    #[error("missing claim {0}")]
    MissingClaim(String),
    /// `exp` passed more than the tolerance ago.
    #[error("token expired")]
    Expired,
    /// `nbf` is more than the tolerance ahead.
    #[error("token not yet valid")]
    NotYetValid,
    /// The key is not endorsed for the activity's channel.
    #[error("key not endorsed for channel {0}")]
    NotEndorsed(String),
    /// `serviceurl` differs from the activity's `serviceUrl`.
    #[error("serviceurl does not match the activity")]
    ServiceUrlMismatch,
}

const ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512];

/// Verifies the bearer `token` of an activity from `channel_id` whose `serviceUrl` is
/// `service_url`. `now` is unix seconds.
pub fn verify_bot_token(
    token: &str,
    jwks: &BotJwks,
    app_id: &str,
    issuers: &[String],
    channel_id: &str,
    service_url: &str,
    now: i64,
) -> Result<BotClaims, BotTokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| BotTokenError::Malformed)?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(BotTokenError::Algorithm);
    }
    let kid = header.kid.ok_or(BotTokenError::MissingKid)?;
    let key = jwks
        .key(&kid)
        .ok_or_else(|| BotTokenError::UnknownKid(kid.chars().take(128).collect()))?;
    if let Some(endorsements) = &key.endorsements {
        if !endorsements.iter().any(|e| e == channel_id) {
            return Err(BotTokenError::NotEndorsed(channel_id.to_owned()));
        }
    }
    let decoding =
        DecodingKey::from_rsa_components(&key.n, &key.e).map_err(|_| BotTokenError::BadKey)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.algorithms = ALGORITHMS.to_vec();
    validation.set_issuer(issuers);
    validation.set_audience(&[app_id]);
    validation.leeway = LEEWAY_SECONDS.unsigned_abs();
    // jsonwebtoken would read the system clock; time is the caller's (STYLE.md §2.8).
    validation.validate_exp = false;
    // Without these, jsonwebtoken accepts a token that simply omits `iss` or `aud`.
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    let claims = jsonwebtoken::decode::<RawClaims>(token, &decoding, &validation)
        .map_err(|e| refusal(e.into_kind()))?
        .claims;
    let missing = |claim: &str| BotTokenError::MissingClaim(claim.into());
    let (issuer, exp) = (
        claims.iss.ok_or_else(|| missing("iss"))?,
        claims.exp.ok_or_else(|| missing("exp"))?,
    );
    if exp.saturating_add(LEEWAY_SECONDS) < now {
        return Err(BotTokenError::Expired);
    }
    if claims
        .nbf
        .is_some_and(|nbf| nbf.saturating_sub(LEEWAY_SECONDS) > now)
    {
        return Err(BotTokenError::NotYetValid);
    }
    let claimed = claims.serviceurl.ok_or_else(|| missing("serviceurl"))?;
    if claimed != service_url {
        return Err(BotTokenError::ServiceUrlMismatch);
    }
    Ok(BotClaims {
        issuer,
        service_url: claimed,
        expires_at: exp,
        not_before: claims.nbf,
    })
}

fn refusal(kind: ErrorKind) -> BotTokenError {
    match kind {
        ErrorKind::InvalidSignature => BotTokenError::BadSignature,
        ErrorKind::InvalidIssuer => BotTokenError::WrongIssuer,
        ErrorKind::InvalidAudience => BotTokenError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) => BotTokenError::MissingClaim(claim),
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => BotTokenError::Algorithm,
        ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat => BotTokenError::BadKey,
        ErrorKind::ExpiredSignature => BotTokenError::Expired,
        ErrorKind::ImmatureSignature => BotTokenError::NotYetValid,
        _ => BotTokenError::Malformed,
    }
}

#[cfg(test)]
mod tests;
