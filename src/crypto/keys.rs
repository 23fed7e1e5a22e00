//! Signing keys: RSA-2048 generated with the `rsa` crate (generation and encoding
//! only; signing goes through jsonwebtoken/aws-lc-rs, see RUSTSEC-2023-0071), published
//! as RFC 7517 JWKs whose `kid` is the RFC 7638 thumbprint, sealed at rest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

use super::Sealer;
use crate::store::KeyRow;

/// Something went wrong with the signing keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    /// There is no active key (run `countersign serve` or `keys rotate` once).
    #[error("no active signing key")]
    NoActiveKey,
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
    key: Arc<EncodingKey>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.kid)
    }
}

impl SigningKey {
    /// Signs `claims` as a JWS with this key, `typ` in the header (e.g. `JWT`, `at+jwt`).
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, KeyRingError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &self.key)
            .map_err(|e| KeyRingError::Crypto(e.to_string()))
    }
}

/// Generates a new RSA-2048 key as a `signing_keys` row in state `active`.
pub fn generate_key(sealer: &Sealer, now: i64) -> Result<KeyRow, KeyRingError> {
    let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
        .map_err(|e| KeyRingError::Crypto(e.to_string()))?;
    let pem = private
        .to_pkcs1_pem(LineEnding::LF)
        .map_err(|e| KeyRingError::Crypto(e.to_string()))?;
    let b64 = |bytes: Vec<u8>| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    };
    let (n, e) = (
        b64(private.n().to_bytes_be()),
        b64(private.e().to_bytes_be()),
    );
    // RFC 7638 §3.2: the required members only, lexicographic order, no whitespace.
    let kid = super::sha256_b64url(format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#).as_bytes());
    let jwk = json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e});
    Ok(KeyRow {
        kid,
        alg: "RS256".into(),
        private_pem: sealer.seal(pem.as_str()).map_err(KeyRingError::Crypto)?,
        public_jwk: jwk.to_string(),
        state: "active".into(),
        created_at: now,
        retire_at: None,
    })
}

/// The published keys (`active` and `retiring`) as an RFC 7517 JWK Set.
pub fn jwks(rows: &[KeyRow]) -> serde_json::Value {
    let keys: Vec<serde_json::Value> = rows
        .iter()
        .filter(|row| row.state != "retired")
        .filter_map(|row| serde_json::from_str(&row.public_jwk).ok())
        .collect();
    json!({ "keys": keys })
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

    /// The signing key of the `active` row among `rows`.
    pub fn active(&self, rows: &[KeyRow]) -> Result<SigningKey, KeyRingError> {
        let row = rows
            .iter()
            .find(|row| row.state == "active")
            .ok_or(KeyRingError::NoActiveKey)?;
        if let Ok(cache) = self.cache.lock() {
            if let Some(key) = cache.get(&row.kid) {
                return Ok(key.clone());
            }
        }
        let bad = |problem: String| KeyRingError::BadKey {
            kid: row.kid.clone(),
            problem,
        };
        let pem = self.sealer.open(&row.private_pem).map_err(bad)?;
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| bad(e.to_string()))?;
        let key = SigningKey {
            kid: row.kid.clone(),
            key: Arc::new(key),
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(row.kid.clone(), key.clone());
        }
        Ok(key)
    }
}

/// Verifies a JWT signed by one of the published `rows` (RS256 only, explicit
/// `Validation`): signature, `exp`, `iss`, and the header `typ` when given.
pub fn verify<T: DeserializeOwned>(
    rows: &[KeyRow],
    token: &str,
    issuer: &str,
    typ: Option<&str>,
) -> Option<T> {
    verify_with(rows, token, issuer, typ, true)
}

/// Like [`verify`] but accepts an expired token (`id_token_hint`, logout hints).
pub fn verify_ignoring_expiry<T: DeserializeOwned>(
    rows: &[KeyRow],
    token: &str,
    issuer: &str,
) -> Option<T> {
    verify_with(rows, token, issuer, None, false)
}

fn verify_with<T: DeserializeOwned>(
    rows: &[KeyRow],
    token: &str,
    issuer: &str,
    typ: Option<&str>,
    check_expiry: bool,
) -> Option<T> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    if header.alg != Algorithm::RS256 {
        return None;
    }
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
    let row = rows.iter().find(|r| r.kid == kid && r.state != "retired")?;
    let jwk: serde_json::Value = serde_json::from_str(&row.public_jwk).ok()?;
    let key = DecodingKey::from_rsa_components(jwk["n"].as_str()?, jwk["e"].as_str()?).ok()?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.validate_aud = false;
    validation.leeway = 0;
    validation.validate_exp = check_expiry;
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    jsonwebtoken::decode::<T>(token, &key, &validation)
        .ok()
        .map(|data| data.claims)
}
