//! JWT signing (RFC 7519, RFC 7515 §7.1 compact serialization) with private keys parsed
//! once into aws-lc-rs's own form; verification is in [`super::verify`].

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use super::keys::KeyAlg;

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
