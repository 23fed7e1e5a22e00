//! Encryption at rest of private signing keys and TOTP secrets: AES-256-GCM-SIV under
//! a key derived from the configured secret key (HMAC-SHA256 with a label per purpose,
//! so a sealed value of one kind never opens as another).

use aes_gcm_siv::aead::{Aead, KeyInit};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// How every sealed value begins.
pub const SEALED_PREFIX: &str = "v1:";
const PREFIX: &str = SEALED_PREFIX;

/// Seals and opens secrets stored in the database.
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256GcmSiv,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

/// Derives a 32-byte subkey of the secret key for one purpose.
pub fn derive_key(secret: &SecretString, label: &str) -> [u8; 32] {
    // HMAC accepts keys of any length, so new_from_slice cannot fail here.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(secret.expose_secret().as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

impl Sealer {
    /// A sealer keyed from the secret key.
    pub fn new(secret: &SecretString) -> Self {
        Self::for_purpose(secret, "countersign/signing-key-encryption")
    }

    /// A sealer keyed from the secret key for another purpose (`label`).
    pub fn for_purpose(secret: &SecretString, label: &str) -> Self {
        let key = derive_key(secret, label);
        Sealer {
            cipher: Aes256GcmSiv::new(&key.into()),
        }
    }

    /// Encrypts `plaintext` into `v1:<base64(nonce || ciphertext)>`.
    pub fn seal(&self, plaintext: &str) -> Result<String, String> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .map_err(|_| "encryption failed".to_string())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// Decrypts what [`Sealer::seal`] produced; fails on a wrong secret key.
    pub fn open(&self, sealed: &str) -> Result<String, String> {
        let body = sealed.strip_prefix(PREFIX).ok_or("unknown sealed format")?;
        let bytes = STANDARD
            .decode(body)
            .map_err(|_| "sealed value is not base64")?;
        if bytes.len() < 12 {
            return Err("sealed value is truncated".into());
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let plaintext = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| "cannot decrypt: the secret key differs from the one that sealed it")?;
        String::from_utf8(plaintext).map_err(|_| "sealed value is not UTF-8".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_secret() {
        let sealer = Sealer::new(&SecretString::from("a".repeat(40)));
        let sealed = sealer.seal("private key").unwrap();
        assert_eq!(sealer.open(&sealed).unwrap(), "private key");
        let other = Sealer::new(&SecretString::from("b".repeat(40)));
        assert!(other.open(&sealed).is_err());
    }
}
