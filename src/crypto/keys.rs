//! Signing keys, one active key per algorithm: RS256 (RSA-2048 generated with the
//! `rsa` crate, for generation and encoding only: signing goes through
//! jsonwebtoken/aws-lc-rs, see RUSTSEC-2023-0071), ES256 (P-256) and EdDSA (Ed25519),
//! both generated with aws-lc-rs. Published as RFC 7517 JWKs whose `kid` is the RFC 7638
//! thumbprint; the private part is sealed at rest.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, EncodingKey};
use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

use super::{KeyRingError, Sealer};
use crate::named::named_enum;
use crate::store::KeyRow;

named_enum! {
    /// The lifecycle of a signing key: one `active` key per algorithm signs; a rotated
    /// key is `retiring` (still published, RFC 7517 key rollover) until every token it
    /// signed has expired, then `retired`.
    pub enum KeyState {
        /// Signs new tokens.
        Active = "active",
        /// Published until `retire_at`, no longer signing.
        Retiring = "retiring",
        /// Neither signs nor verifies.
        Retired = "retired",
    }
}

/// Something that happens to a signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEvent {
    /// A new key of its algorithm took over.
    Rotate,
    /// Every token it signed has expired.
    Retire,
}

impl KeyState {
    /// The state after `event`, if the move is legal.
    pub fn next(self, event: KeyEvent) -> Option<KeyState> {
        match (self, event) {
            (KeyState::Active, KeyEvent::Rotate) => Some(KeyState::Retiring),
            (KeyState::Retiring, KeyEvent::Retire) => Some(KeyState::Retired),
            _ => None,
        }
    }

    /// True while tokens it signed may still be verified with it.
    pub fn verifies(self) -> bool {
        self != KeyState::Retired
    }
}

named_enum! {
    /// A signing algorithm countersign offers (JWA, RFC 7518 §3; RFC 8037 for EdDSA),
    /// by its JWA name; `ALL` lists the default first.
    #[derive(Default)]
    pub enum KeyAlg {
        /// RSASSA-PKCS1-v1_5 with SHA-256: the default, required by OIDC Core §15.1.
        #[default]
        RS256 = "RS256",
        /// ECDSA P-256 with SHA-256.
        ES256 = "ES256",
        /// Ed25519.
        EdDSA = "EdDSA",
    }
}

impl KeyAlg {
    /// jsonwebtoken's name for it.
    pub fn jwt(self) -> Algorithm {
        match self {
            KeyAlg::RS256 => Algorithm::RS256,
            KeyAlg::ES256 => Algorithm::ES256,
            KeyAlg::EdDSA => Algorithm::EdDSA,
        }
    }

    /// Loads a private key PEM of this algorithm.
    pub(super) fn encoding_key(
        self,
        pem: &str,
    ) -> Result<EncodingKey, jsonwebtoken::errors::Error> {
        match self {
            KeyAlg::RS256 => EncodingKey::from_rsa_pem(pem.as_bytes()),
            KeyAlg::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()),
            KeyAlg::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()),
        }
    }
}

fn crypto_error(error: impl std::fmt::Display) -> KeyRingError {
    KeyRingError::Crypto(error.to_string())
}

fn pkcs8_pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

/// A private key PEM and its public JWK members (without `kid`, `use`, `alg`).
fn generate(alg: KeyAlg) -> Result<(String, Value), KeyRingError> {
    match alg {
        KeyAlg::RS256 => {
            let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(crypto_error)?;
            let pem = private.to_pkcs1_pem(LineEnding::LF).map_err(crypto_error)?;
            let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
            let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
            Ok((pem.to_string(), json!({"kty": "RSA", "n": n, "e": e})))
        }
        KeyAlg::ES256 => {
            let der = EcdsaKeyPair::generate_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                &SystemRandom::new(),
            )
            .map_err(crypto_error)?;
            public_members(alg, pkcs8_pem(der.as_ref()))
        }
        KeyAlg::EdDSA => {
            // PKCS#8 v1 (no embedded public key): the form jsonwebtoken reads.
            let der =
                Ed25519KeyPair::generate_pkcs8v1(&SystemRandom::new()).map_err(crypto_error)?;
            public_members(alg, pkcs8_pem(der.as_ref()))
        }
    }
}

/// Derives the public JWK members from a private key (jsonwebtoken does the curve math).
fn public_members(alg: KeyAlg, pem: String) -> Result<(String, Value), KeyRingError> {
    let key = alg.encoding_key(&pem).map_err(crypto_error)?;
    let jwk = Jwk::from_encoding_key(&key, alg.jwt()).map_err(crypto_error)?;
    let members = match jwk.algorithm {
        AlgorithmParameters::EllipticCurve(p) => {
            json!({"kty": "EC", "crv": "P-256", "x": p.x, "y": p.y})
        }
        AlgorithmParameters::OctetKeyPair(p) => json!({"kty": "OKP", "crv": "Ed25519", "x": p.x}),
        _ => return Err(KeyRingError::Crypto("unexpected key type".into())),
    };
    Ok((pem, members))
}

/// RFC 7638 §3.2: SHA-256 over the required members only, lexicographic order, no
/// whitespace (serde_json's map keeps keys sorted when built from a `BTreeMap`).
pub(super) fn thumbprint(members: &Value) -> String {
    let required: &[&str] = match members["kty"].as_str() {
        Some("RSA") => &["e", "kty", "n"],
        Some("EC") => &["crv", "kty", "x", "y"],
        _ => &["crv", "kty", "x"],
    };
    let parts: Vec<String> = required
        .iter()
        .map(|k| format!("{}:{}", Value::String((*k).into()), members[*k]))
        .collect();
    super::sha256_b64url(format!("{{{}}}", parts.join(",")).as_bytes())
}

/// Generates a new key of `alg` as a `signing_keys` row in state `active`.
pub fn generate_key(sealer: &Sealer, alg: KeyAlg, now: i64) -> Result<KeyRow, KeyRingError> {
    let (pem, mut jwk) = generate(alg)?;
    let kid = thumbprint(&jwk);
    if let Some(map) = jwk.as_object_mut() {
        map.insert("kid".into(), kid.clone().into());
        map.insert("use".into(), "sig".into());
        map.insert("alg".into(), alg.as_str().into());
    }
    Ok(KeyRow {
        kid,
        alg,
        private_pem: sealer.seal(&pem).map_err(KeyRingError::Crypto)?,
        public_jwk: jwk.to_string(),
        state: KeyState::Active,
        created_at: now,
        retire_at: None,
    })
}

/// True while a key is published: active, or retiring and not yet past `retire_at`.
pub fn is_published(row: &KeyRow, now: i64) -> bool {
    match row.state {
        KeyState::Active => true,
        KeyState::Retiring => row.retire_at.is_none_or(|at| at > now),
        KeyState::Retired => false,
    }
}

/// The published keys as an RFC 7517 JWK Set.
pub fn jwks(rows: &[KeyRow], now: i64) -> Value {
    let keys: Vec<Value> = rows
        .iter()
        .filter(|row| is_published(row, now))
        .filter_map(|row| serde_json::from_str(&row.public_jwk).ok())
        .collect();
    json!({ "keys": keys })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_example_thumbprint() {
        // RFC 7638 §3.1.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let members = json!({"kty": "RSA", "n": n, "e": "AQAB"});
        assert_eq!(
            thumbprint(&members),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn every_algorithm_generates_a_published_key() {
        let sealer = Sealer::new(&secrecy::SecretString::from("k".repeat(40)));
        for &alg in KeyAlg::ALL {
            let row = generate_key(&sealer, alg, 0).unwrap();
            let jwk: Value = serde_json::from_str(&row.public_jwk).unwrap();
            assert_eq!(jwk["kid"], row.kid.as_str());
            assert_eq!(jwk["alg"], alg.as_str());
            let pem = sealer.open(&row.private_pem).unwrap();
            assert!(alg.encoding_key(&pem).is_ok(), "{alg:?}");
        }
    }
}
