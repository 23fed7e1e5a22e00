//! The audit anchor key: an Ed25519 key (RFC 8032) that signs checkpoints of the audit
//! chain. It is derived from the secret key, which lives in the configuration or the
//! data directory and never in the database, so someone who can only write the
//! database cannot sign a checkpoint of a chain they rewrote. Its public half is
//! published as an RFC 8410 `PUBLIC KEY` PEM, and named by the RFC 7638 thumbprint of
//! its OKP JWK (RFC 8037), so an auditor can verify checkpoints with the public key
//! alone.

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use secrecy::SecretString;
use serde_json::json;

/// The label of the secret key's subkey that seeds the anchor key; a label of its own
/// keeps it apart from every other key derived from the same secret.
const LABEL: &str = "countersign/audit-anchor";

/// RFC 8410 §4: the DER `SubjectPublicKeyInfo` of an Ed25519 key is this prefix (the
/// id-Ed25519 algorithm identifier) followed by the 32 key bytes.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

const PEM_BEGIN: &str = "-----BEGIN PUBLIC KEY-----";
const PEM_END: &str = "-----END PUBLIC KEY-----";

/// The private anchor key; it exists only in memory, re-derived from the secret key.
pub struct AnchorKey {
    pair: Ed25519KeyPair,
    public: AnchorPublicKey,
}

impl std::fmt::Debug for AnchorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AnchorKey({})", self.public.kid())
    }
}

/// The public anchor key, which verifies checkpoints.
#[derive(Clone, PartialEq, Eq)]
pub struct AnchorPublicKey {
    raw: [u8; 32],
}

impl std::fmt::Debug for AnchorPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AnchorPublicKey({})", self.kid())
    }
}

/// An anchor key could not be made or read.
#[derive(Debug, thiserror::Error)]
#[error("anchor key: {0}")]
pub struct AnchorKeyError(String);

impl AnchorKey {
    /// The anchor key of `secret`: the same secret always gives the same key.
    pub fn derive(secret: &SecretString) -> Result<Self, AnchorKeyError> {
        let seed = super::derive_key(secret, LABEL);
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed)
            .map_err(|e| AnchorKeyError(e.to_string()))?;
        let raw = <[u8; 32]>::try_from(pair.public_key().as_ref())
            .map_err(|_| AnchorKeyError("unexpected public key length".into()))?;
        Ok(AnchorKey {
            pair,
            public: AnchorPublicKey { raw },
        })
    }

    /// The public half.
    pub fn public(&self) -> &AnchorPublicKey {
        &self.public
    }

    /// The Ed25519 signature of `message`, base64url without padding.
    pub fn sign(&self, message: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.pair.sign(message).as_ref())
    }
}

impl AnchorPublicKey {
    /// The RFC 7638 thumbprint of the key's OKP JWK: how a checkpoint names its key.
    pub fn kid(&self) -> String {
        super::keys::thumbprint(&json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.raw),
        }))
    }

    /// True when `signature` (base64url) is this key's signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &str) -> bool {
        let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        UnparsedPublicKey::new(&ED25519, &self.raw)
            .verify(message, &signature)
            .is_ok()
    }

    /// The key as an RFC 8410 `PUBLIC KEY` PEM (what `openssl pkeyutl` reads).
    pub fn to_pem(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.raw);
        format!("{PEM_BEGIN}\n{}\n{PEM_END}\n", STANDARD.encode(der))
    }

    /// Reads what [`AnchorPublicKey::to_pem`] wrote.
    pub fn from_pem(text: &str) -> Result<Self, AnchorKeyError> {
        let bad = |why: &str| AnchorKeyError(format!("not an Ed25519 public key PEM: {why}"));
        let body = text
            .trim()
            .strip_prefix(PEM_BEGIN)
            .and_then(|rest| rest.strip_suffix(PEM_END))
            .ok_or_else(|| bad("no PUBLIC KEY block"))?;
        let body: String = body.split_whitespace().collect();
        let der = STANDARD.decode(body).map_err(|_| bad("not base64"))?;
        let raw = der
            .strip_prefix(&SPKI_PREFIX[..])
            .and_then(|raw| <[u8; 32]>::try_from(raw).ok())
            .ok_or_else(|| bad("not an Ed25519 key"))?;
        Ok(AnchorPublicKey { raw })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret: &str) -> AnchorKey {
        AnchorKey::derive(&SecretString::from(secret.repeat(40))).unwrap()
    }

    #[test]
    fn the_same_secret_derives_the_same_key_and_another_secret_another_key() {
        assert_eq!(key("a").public(), key("a").public());
        assert_ne!(key("a").public(), key("b").public());
        assert_ne!(key("a").public().kid(), key("b").public().kid());
    }

    #[test]
    fn a_signature_verifies_only_for_its_message_and_key() {
        let (signer, other) = (key("a"), key("b"));
        let signature = signer.sign(b"checkpoint");
        assert!(signer.public().verify(b"checkpoint", &signature));
        assert!(!signer.public().verify(b"checkpoinT", &signature));
        assert!(!other.public().verify(b"checkpoint", &signature));
        assert!(!signer.public().verify(b"checkpoint", "not base64!"));
    }

    #[test]
    fn the_public_key_round_trips_through_its_pem() {
        let public = key("a").public().clone();
        let pem = public.to_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA"));
        assert_eq!(AnchorPublicKey::from_pem(&pem).unwrap(), public);
        assert!(AnchorPublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n").is_err());
        let rsa_like = pem.replace("MCowBQYDK2Vw", "MCowBQYDK2Vx");
        assert!(AnchorPublicKey::from_pem(&rsa_like).is_err());
    }

    #[test]
    fn the_secret_key_does_not_show_in_debug_output() {
        let text = format!("{:?}", key("s"));
        assert!(
            text.starts_with("AnchorKey(") && !text.contains("sss"),
            "{text}"
        );
    }
}
