//! JWT signing and verification (RFC 7519, RFC 7515) with jsonwebtoken on aws-lc-rs.
//! Verification always uses an explicit `Validation`: the header's algorithm must be
//! the key's own, `iss` must match, `exp` is checked unless the caller says otherwise.

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{DecodingKey, Validation};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::key_ring::KeySet;
use super::keys::KeyAlg;
use crate::store::KeyRow;

/// Something went wrong with the signing keys.
#[derive(Debug, Clone, thiserror::Error)]
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

/// A private key parsed once into aws-lc-rs's own form. Keeping the parsed key (rather
/// than jsonwebtoken's `EncodingKey`, which re-parses and re-validates the DER and sets
/// up fresh RSA blinding at every signature) is what makes a signature cost a signature.
enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A key ready to sign.
#[derive(Clone)]
pub struct SigningKey {
    /// Its `kid`.
    pub kid: String,
    /// Its algorithm.
    pub alg: KeyAlg,
    signer: Arc<Signer>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({} {})", self.alg.as_str(), self.kid)
    }
}

fn crypto(error: impl std::fmt::Display) -> KeyRingError {
    KeyRingError::Crypto(error.to_string())
}

impl SigningKey {
    /// Parses the private key `pem` of `alg` (the form [`super::generate_key`] seals).
    pub(crate) fn parse(kid: &str, alg: KeyAlg, pem: &str) -> Result<Self, KeyRingError> {
        // jsonwebtoken only decodes the PEM to DER here; aws-lc-rs parses the DER once.
        let der = alg.encoding_key(pem).map_err(crypto)?;
        let der = der.as_bytes();
        let signer = match alg {
            KeyAlg::RS256 => Signer::Rsa(RsaKeyPair::from_der(der).map_err(crypto)?),
            KeyAlg::ES256 => Signer::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).map_err(crypto)?,
            ),
            KeyAlg::EdDSA => Signer::Ed(Ed25519KeyPair::from_pkcs8(der).map_err(crypto)?),
        };
        Ok(SigningKey {
            kid: kid.to_owned(),
            alg,
            signer: Arc::new(signer),
        })
    }

    /// Signs `claims` as a JWS (RFC 7515 §7.1 compact serialization) with this key,
    /// `typ` in the header (e.g. `JWT`, `at+jwt`).
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, KeyRingError> {
        let header = serde_json::json!({"alg": self.alg.as_str(), "kid": self.kid, "typ": typ});
        let claims = serde_json::to_vec(claims).map_err(crypto)?;
        let mut jws = URL_SAFE_NO_PAD.encode(header.to_string());
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut jws);
        let message = jws.as_bytes();
        let rng = SystemRandom::new();
        let signature = match &*self.signer {
            Signer::Rsa(key) => {
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .map_err(crypto)?;
                signature
            }
            Signer::Ec(key) => key.sign(&rng, message).map_err(crypto)?.as_ref().to_vec(),
            Signer::Ed(key) => key.sign(message).as_ref().to_vec(),
        };
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut jws);
        Ok(jws)
    }
}

/// A published key ready to verify: its algorithm and its public key.
#[derive(Clone)]
pub(crate) struct VerifyingKey {
    alg: KeyAlg,
    key: DecodingKey,
}

impl VerifyingKey {
    /// The verifying key of a row's public JWK, if it parses.
    pub(crate) fn of(row: &KeyRow) -> Option<Self> {
        let jwk: Jwk = serde_json::from_str(&row.public_jwk).ok()?;
        Some(VerifyingKey {
            alg: row.alg,
            key: DecodingKey::from_jwk(&jwk).ok()?,
        })
    }
}

/// Verifies a JWT signed by one of the keys in `keys`: signature with the key its
/// `kid` names (and that key's algorithm only), `iss`, the header `typ` when given, and
/// `exp` against `now` (the provider's clock, not the system's).
pub fn verify<T: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    issuer: &str,
    typ: Option<&str>,
    now: i64,
) -> Option<T> {
    verify_with(keys, token, issuer, typ, Some(now))
}

/// Like [`verify`] but accepts an expired token (revocation of expired tokens).
pub fn verify_ignoring_expiry<T: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    issuer: &str,
) -> Option<T> {
    verify_with(keys, token, issuer, None, None)
}

/// An `id_token_hint`: an ID token issued here (header `typ: JWT`, so an access token
/// cannot stand in for one), possibly expired (OIDC Core §3.1.2.1).
pub fn verify_id_token_hint<T: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    issuer: &str,
) -> Option<T> {
    verify_with(keys, token, issuer, Some("JWT"), None)
}

fn verify_with<T: DeserializeOwned>(
    keys: &KeySet,
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
    let VerifyingKey { alg, key } = keys.verifying_key(&kid)?;
    let alg = *alg;
    if header.alg != alg.jwt() {
        return None;
    }
    let mut validation = Validation::new(alg.jwt());
    validation.set_issuer(&[issuer]);
    validation.validate_aud = false;
    validation.leeway = 0;
    // Expiry is compared below with the caller's clock, so tests can move time.
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    let claims = jsonwebtoken::decode::<serde_json::Value>(token, key, &validation)
        .ok()?
        .claims;
    let exp = claims.get("exp")?.as_i64()?;
    if now.is_some_and(|now| exp <= now) {
        return None;
    }
    serde_json::from_value(claims).ok()
}
