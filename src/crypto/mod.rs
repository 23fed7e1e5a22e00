//! Cryptographic helpers: random tokens, hashing, constant-time comparison, password
//! hashing (argon2id), signing keys (RFC 7517/7638), JWT signing and verification
//! (RFC 7519) and the Ed25519 key that signs audit checkpoints.

mod anchor;
mod jwt;
mod key_ring;
mod keys;
mod passwords;
mod seal;
mod verify;

pub use anchor::{AnchorKey, AnchorKeyError, AnchorPublicKey};
pub use jwt::{KeyRingError, SigningKey};
pub use key_ring::{KeyRing, KeySet, KEY_REFRESH_SECONDS};
pub use keys::{generate_key, is_published, jwks, KeyAlg, KeyEvent, KeyState};
pub use passwords::{hash_password, verify_password, PasswordError};
pub use seal::{derive_key, Sealer, SEALED_PREFIX};
pub use verify::{verify, verify_id_token_hint, verify_ignoring_expiry};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `bytes` random bytes as base64url without padding: only `[A-Za-z0-9_-]`.
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// Like [`random_token`], but never starting with `-` or `_`: for identifiers and
/// secrets people pass as command-line arguments (`client rotate-secret ID`,
/// `approval show ID`), where a leading `-` would read as a flag.
pub fn random_id(bytes: usize) -> String {
    loop {
        let token = random_token(bytes);
        if token.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return token;
        }
    }
}

/// Lowercase hex SHA-256 of `input`: how codes, refresh tokens and session ids are stored.
pub fn sha256_hex(input: &[u8]) -> String {
    let digest = Sha256::digest(input);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// base64url (no padding) of SHA-256: PKCE S256 (RFC 7636 §4.2).
pub fn sha256_b64url(input: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(input))
}

/// base64url (no padding) of `input`: WebAuthn credential ids as browsers name them
/// (WebAuthn L2 §5.1 `id`).
pub fn b64url(input: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(input)
}

/// Compares secrets without leaking where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// `at_hash` (OIDC Core §3.1.3.6): the left half of the access token's hash, with the
/// hash of the ID token's algorithm: SHA-256 for RS256 and ES256, SHA-512 for EdDSA
/// (Ed25519 signs with SHA-512; the RP libraries expect it).
pub fn left_half_hash(token: &str, alg: KeyAlg) -> String {
    match alg {
        KeyAlg::RS256 | KeyAlg::ES256 => {
            let digest = Sha256::digest(token.as_bytes());
            URL_SAFE_NO_PAD.encode(&digest[..16])
        }
        KeyAlg::EdDSA => {
            let digest = sha2::Sha512::digest(token.as_bytes());
            URL_SAFE_NO_PAD.encode(&digest[..32])
        }
    }
}

/// The CSRF token for a browser's CSRF cookie value: HMAC-SHA-256 under a key derived
/// from the secret key, hex (double-submit cookie, signed: a token cannot be made
/// without the key). Empty only if the key were refused, which then never matches.
pub fn csrf_mac(key: &[u8; 32], value: &str) -> String {
    mac_hex(key, value)
}

/// HMAC-SHA-256 of `value` under `key`, hex: the MAC of the CSRF tokens and of other
/// self-contained tokens (each under its own derived key).
pub fn mac_hex(key: &[u8; 32], value: &str) -> String {
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(value.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_never_start_like_a_command_line_flag() {
        for _ in 0..2000 {
            let id = random_id(18);
            assert!(id.starts_with(|c: char| c.is_ascii_alphanumeric()), "{id}");
            assert_eq!(id.len(), 24);
        }
    }
}
