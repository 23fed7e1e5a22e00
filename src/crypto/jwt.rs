//! JWT signing and verification (RFC 7519, RFC 7515) with jsonwebtoken on aws-lc-rs.
//! Verification always uses an explicit `Validation`: the header's algorithm must be
//! the key's own, `iss` must match, `exp` is checked unless the caller says otherwise.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::keys::{KeyAlg, KeyState};
use super::Sealer;
use crate::store::KeyRow;

/// Something went wrong with the signing keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    /// There is no active key of the algorithm (run `serve` or `keys rotate` once).
    #[error("no active {0} signing key")]
    NoActiveKey(&'static str),
    /// A stored key cannot be used (wrong secret key, corrupt row).
    #[error("signing key {kid}: {problem}")]
    BadKey {
        /// The key.
        kid: String,
        /// What is wrong.
        problem: String,
    },
    /// Generating or signing failed.
    #[error("{0}")]
    Crypto(String),
}

/// A key ready to sign.
#[derive(Clone)]
pub struct SigningKey {
    /// Its `kid`.
    pub kid: String,
    /// Its algorithm.
    pub alg: KeyAlg,
    key: Arc<EncodingKey>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({} {})", self.alg.as_str(), self.kid)
    }
}

impl SigningKey {
    /// Signs `claims` as a JWS with this key, `typ` in the header (e.g. `JWT`, `at+jwt`).
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, KeyRingError> {
        let mut header = Header::new(self.alg.jwt());
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &self.key)
            .map_err(|e| KeyRingError::Crypto(e.to_string()))
    }
}

/// Decrypted keys, cached by `kid` so each is opened and parsed once per process.
#[derive(Debug, Clone)]
pub struct KeyRing {
    sealer: Sealer,
    cache: Arc<Mutex<HashMap<String, SigningKey>>>,
}

impl KeyRing {
    /// A key ring opening keys with `sealer`.
    pub fn new(sealer: Sealer) -> Self {
        KeyRing {
            sealer,
            cache: Arc::default(),
        }
    }

    /// The sealer (to generate keys).
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// The signing key of the `active` row of `alg` among `rows`.
    pub fn active(&self, rows: &[KeyRow], alg: KeyAlg) -> Result<SigningKey, KeyRingError> {
        let row = rows
            .iter()
            .find(|row| row.state == KeyState::Active && row.alg == alg)
            .ok_or(KeyRingError::NoActiveKey(alg.as_str()))?;
        if let Some(key) = self
            .cache
            .lock()
            .ok()
            .and_then(|cache| cache.get(&row.kid).cloned())
        {
            return Ok(key);
        }
        let bad = |problem: String| KeyRingError::BadKey {
            kid: row.kid.clone(),
            problem,
        };
        let pem = self.sealer.open(&row.private_pem).map_err(bad)?;
        let key = alg.encoding_key(&pem).map_err(|e| bad(e.to_string()))?;
        let key = SigningKey {
            kid: row.kid.clone(),
            alg,
            key: Arc::new(key),
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(row.kid.clone(), key.clone());
        }
        Ok(key)
    }
}

/// Verifies a JWT signed by one of the published `rows`: signature with the key its
/// `kid` names (and that key's algorithm only), `iss`, the header `typ` when given, and
/// `exp` against `now` (the provider's clock, not the system's).
pub fn verify<T: DeserializeOwned>(
    rows: &[KeyRow],
    token: &str,
    issuer: &str,
    typ: Option<&str>,
    now: i64,
) -> Option<T> {
    verify_with(rows, token, issuer, typ, Some(now))
}

/// Like [`verify`] but accepts an expired token (revocation of expired tokens).
pub fn verify_ignoring_expiry<T: DeserializeOwned>(
    rows: &[KeyRow],
    token: &str,
    issuer: &str,
) -> Option<T> {
    verify_with(rows, token, issuer, None, None)
}

/// An `id_token_hint`: an ID token issued here (header `typ: JWT`, so an access token
/// cannot stand in for one), possibly expired (OIDC Core §3.1.2.1).
pub fn verify_id_token_hint<T: DeserializeOwned>(
    rows: &[KeyRow],
    token: &str,
    issuer: &str,
) -> Option<T> {
    verify_with(rows, token, issuer, Some("JWT"), None)
}

fn verify_with<T: DeserializeOwned>(
    rows: &[KeyRow],
    token: &str,
    issuer: &str,
    typ: Option<&str>,
    now: Option<i64>,
) -> Option<T> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    if let Some(expected) = typ {
        if !header
            .typ
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(expected))
        {
            return None;
        }
    }
    let kid = header.kid?;
    let row = rows.iter().find(|r| r.kid == kid && r.state.verifies())?;
    let alg = row.alg;
    if header.alg != alg.jwt() {
        return None;
    }
    let jwk: Jwk = serde_json::from_str(&row.public_jwk).ok()?;
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    let mut validation = Validation::new(alg.jwt());
    validation.set_issuer(&[issuer]);
    validation.validate_aud = false;
    validation.leeway = 0;
    // Expiry is compared below with the caller's clock, so tests can move time.
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    let claims = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
        .ok()?
        .claims;
    let exp = claims.get("exp")?.as_i64()?;
    if now.is_some_and(|now| exp <= now) {
        return None;
    }
    serde_json::from_value(claims).ok()
}
