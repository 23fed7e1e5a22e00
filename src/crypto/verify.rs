//! Verifying the JWTs this provider signed (RFC 7515 §5.2, RFC 7519 §7.2) with public
//! keys parsed once into aws-lc-rs's own form. jsonwebtoken rebuilds the public key
//! from its JWK members at every call, which was about a tenth of an introspection.
//!
//! Checked, in this order: three base64url parts; a JSON header without `crit`
//! (§4.1.11: no extension is understood here) whose `typ` is the expected one when the
//! caller names one; a `kid` this provider publishes, and that key's own `alg` only (no
//! `none`, no algorithm chosen by the token); the signature; then the claims: `iss`
//! exactly the issuer, `sub` present, `exp` a number and, unless the caller says
//! otherwise, after `now` (the provider's clock, not the system's).

use aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256;
use aws_lc_rs::signature::{ParsedPublicKey, ECDSA_P256_SHA256_FIXED, ED25519};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::{BigUint, RsaPublicKey};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::key_ring::KeySet;
use super::keys::KeyAlg;
use crate::store::KeyRow;

/// A published key ready to verify: its algorithm and its public key, parsed.
#[derive(Clone)]
pub(crate) struct VerifyingKey {
    alg: KeyAlg,
    key: ParsedPublicKey,
}

impl VerifyingKey {
    /// The verifying key of a row's public JWK (RFC 7518 §6), if it parses.
    pub(crate) fn of(row: &KeyRow) -> Option<Self> {
        let jwk: Value = serde_json::from_str(&row.public_jwk).ok()?;
        let member = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str()?).ok();
        let key = match row.alg {
            KeyAlg::RS256 => {
                // aws-lc-rs reads an RFC 8017 `RSAPublicKey`; the JWK holds n and e.
                let n = BigUint::from_bytes_be(&member("n")?);
                let e = BigUint::from_bytes_be(&member("e")?);
                let der = RsaPublicKey::new(n, e).ok()?.to_pkcs1_der().ok()?;
                ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der.as_bytes())
            }
            KeyAlg::ES256 => {
                // SEC 1 §2.3.3 uncompressed point: 0x04 ‖ x ‖ y.
                let mut point = vec![4];
                point.extend(member("x")?);
                point.extend(member("y")?);
                ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            }
            KeyAlg::EdDSA => ParsedPublicKey::new(&ED25519, member("x")?),
        };
        Some(VerifyingKey {
            alg: row.alg,
            key: key.ok()?,
        })
    }
}

/// The JOSE header members looked at (RFC 7515 §4.1).
#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    crit: Option<Value>,
}

/// The `kid` a compact JWS's header names, if it has a readable header and one.
pub(crate) fn kid_of(token: &str) -> Option<String> {
    header_of(token)?.kid
}

fn header_of(token: &str) -> Option<Header> {
    let encoded = token.split('.').next()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).ok()?).ok()
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
    let (signed, signature) = token.rsplit_once('.')?;
    let (_, payload) = signed.split_once('.')?;
    let header = header_of(signed)?;
    if header.crit.is_some() {
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
    let key = keys.verifying_key(header.kid.as_deref()?)?;
    if header.alg != key.alg.as_str() {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    key.key.verify_sig(signed.as_bytes(), &signature).ok()?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    if claims.get("iss")?.as_str()? != issuer || claims.get("sub").is_none() {
        return None;
    }
    let exp = claims.get("exp")?.as_i64()?;
    if now.is_some_and(|now| exp <= now) {
        return None;
    }
    serde_json::from_value(claims).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::crypto::{generate_key, Sealer};

    const ISSUER: &str = "https://op";

    fn set() -> KeySet {
        let sealer = Sealer::new(&secrecy::SecretString::from("k".repeat(40)));
        let rows = KeyAlg::ALL
            .iter()
            .map(|&alg| generate_key(&sealer, alg, 0).unwrap())
            .collect();
        KeySet::build(rows, None, &sealer, 0)
    }

    fn claims() -> Value {
        json!({"iss": ISSUER, "sub": "s", "exp": 200})
    }

    fn b64(value: &Value) -> String {
        b64_raw(value.to_string().as_bytes())
    }

    fn b64_raw(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// `token` with its header replaced (the signature no longer covers it).
    fn with_header(token: &str, header: Value) -> String {
        let rest = token.split_once('.').unwrap().1;
        format!("{}.{rest}", b64(&header))
    }

    #[test]
    fn each_algorithm_verifies_its_own_signature() {
        let set = set();
        for &alg in KeyAlg::ALL {
            let token = set.active(alg).unwrap().sign("at+jwt", &claims()).unwrap();
            let back: Value = verify(&set, &token, ISSUER, Some("at+jwt"), 150).unwrap();
            assert_eq!(back, claims(), "{alg:?}");
            assert_eq!(kid_of(&token), Some(set.active(alg).unwrap().kid));
        }
    }

    #[test]
    fn a_changed_payload_or_signature_is_refused() {
        let set = set();
        for &alg in KeyAlg::ALL {
            let token = set.active(alg).unwrap().sign("JWT", &claims()).unwrap();
            let parts: Vec<&str> = token.split('.').collect();
            let other = b64(&json!({"iss": ISSUER, "sub": "t", "exp": 200}));
            let swapped = format!("{}.{other}.{}", parts[0], parts[2]);
            assert!(verify::<Value>(&set, &swapped, ISSUER, None, 150).is_none());
            let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
            signature[0] ^= 1;
            let flipped = format!("{}.{}.{}", parts[0], parts[1], b64_raw(&signature));
            assert!(verify::<Value>(&set, &flipped, ISSUER, None, 150).is_none());
            let truncated = format!("{}.{}", parts[0], parts[1]);
            assert!(verify::<Value>(&set, &truncated, ISSUER, None, 150).is_none());
        }
    }

    #[test]
    fn the_header_must_name_a_known_key_its_algorithm_and_no_extension() {
        let set = set();
        let key = set.active(KeyAlg::RS256).unwrap();
        let token = key.sign("JWT", &claims()).unwrap();
        let kid = key.kid.clone();
        let refused = [
            json!({"alg": "none", "kid": kid, "typ": "JWT"}),
            json!({"alg": "ES256", "kid": kid, "typ": "JWT"}),
            json!({"alg": "HS256", "kid": kid, "typ": "JWT"}),
            json!({"alg": "RS256", "kid": "unknown", "typ": "JWT"}),
            json!({"alg": "RS256", "typ": "JWT"}),
            json!({"alg": "RS256", "kid": kid, "typ": "JWT", "crit": ["exp"]}),
        ];
        for header in refused {
            let forged = with_header(&token, header.clone());
            assert!(
                verify::<Value>(&set, &forged, ISSUER, None, 150).is_none(),
                "{header}"
            );
        }
        assert!(verify::<Value>(&set, "not a token", ISSUER, None, 150).is_none());
        assert!(verify::<Value>(&set, "a.b.c", ISSUER, None, 150).is_none());
    }

    #[test]
    fn typ_issuer_subject_and_expiry_are_checked() {
        let set = set();
        let key = set.active(KeyAlg::ES256).unwrap();
        let token = key.sign("JWT", &claims()).unwrap();
        assert!(verify::<Value>(&set, &token, ISSUER, Some("at+jwt"), 150).is_none());
        assert!(verify_id_token_hint::<Value>(&set, &token, ISSUER).is_some());
        assert!(verify::<Value>(&set, &token, "https://other", None, 150).is_none());
        assert!(
            verify::<Value>(&set, &token, ISSUER, None, 200).is_none(),
            "exp"
        );
        assert!(verify_ignoring_expiry::<Value>(&set, &token, ISSUER).is_some());
        for claims in [
            json!({"iss": ISSUER, "exp": 200}),
            json!({"sub": "s", "exp": 200}),
            json!({"iss": ISSUER, "sub": "s"}),
            json!({"iss": ISSUER, "sub": "s", "exp": "200"}),
        ] {
            let token = key.sign("JWT", &claims).unwrap();
            assert!(
                verify_ignoring_expiry::<Value>(&set, &token, ISSUER).is_none(),
                "{claims}"
            );
        }
    }

    #[test]
    fn a_key_from_another_row_does_not_verify() {
        let (first, second) = (set(), set());
        let token = first
            .active(KeyAlg::EdDSA)
            .unwrap()
            .sign("JWT", &claims())
            .unwrap();
        assert!(verify::<Value>(&second, &token, ISSUER, None, 150).is_none());
    }
}
