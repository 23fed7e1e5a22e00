use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

use super::*;

const APP_ID: &str = "11111111-2222-3333-4444-555555555555";
const ISSUER: &str = "https://api.botframework.com";
const SERVICE_URL: &str = "https://smba.trafficmanager.net/emea/";
const NOW: i64 = 1_790_000_000;

/// A test RSA key: its PEM for signing and its JWK members. Generated once per run
/// (2048 bits, like Microsoft's), as src/crypto/keys.rs encodes keys.
struct TestKey {
    pem: String,
    n: String,
    e: String,
}

fn keys() -> &'static [TestKey; 2] {
    static KEYS: OnceLock<[TestKey; 2]> = OnceLock::new();
    KEYS.get_or_init(|| [generate(), generate()])
}

fn generate() -> TestKey {
    let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
    TestKey {
        pem: private.to_pkcs1_pem(LineEnding::LF).unwrap().to_string(),
        n: URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
        e: URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
    }
}

fn jwks(endorsements: Value) -> BotJwks {
    let key = &keys()[0];
    let document = json!({"keys": [
        {"kty": "RSA", "use": "sig", "kid": "k1", "x5t": "k1", "n": key.n, "e": key.e,
         "x5c": ["MIIB"], "endorsements": endorsements},
        {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "a", "y": "b"},
        {"kty": "RSA", "n": key.n, "e": key.e},
    ]});
    BotJwks::from_json(document.to_string().as_bytes()).unwrap()
}

fn teams_jwks() -> BotJwks {
    jwks(json!(["msteams", "skype"]))
}

fn claims() -> Value {
    json!({
        "iss": ISSUER, "aud": APP_ID, "serviceurl": SERVICE_URL,
        "nbf": NOW - 60, "exp": NOW + 3600,
    })
}

fn sign_with(key: &TestKey, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    let encoding = EncodingKey::from_rsa_pem(key.pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &encoding).unwrap()
}

fn sign(claims: &Value) -> String {
    sign_with(&keys()[0], Algorithm::RS256, Some("k1"), claims)
}

fn verify_at(token: &str, jwks: &BotJwks, now: i64) -> Result<BotClaims, BotTokenError> {
    let issuers = [ISSUER.to_owned()];
    verify_bot_token(token, jwks, APP_ID, &issuers, "msteams", SERVICE_URL, now)
}

fn verify(token: &str) -> Result<BotClaims, BotTokenError> {
    verify_at(token, &teams_jwks(), NOW)
}

fn with(change: impl FnOnce(&mut Value)) -> Value {
    let mut claims = claims();
    change(&mut claims);
    claims
}

#[test]
fn the_jwks_keeps_endorsements_and_only_usable_rsa_keys() {
    let set = teams_jwks();
    assert_eq!(set.keys.len(), 1);
    assert_eq!(
        set.key("k1").unwrap().endorsements.as_deref(),
        Some(&["msteams".to_owned(), "skype".to_owned()][..])
    );
    assert!(BotJwks::from_json(b"{\"keys\": 3}").is_err());
}

#[test]
fn a_channel_token_with_every_check_passing_is_accepted() {
    assert_eq!(
        verify(&sign(&claims())),
        Ok(BotClaims {
            issuer: ISSUER.into(),
            service_url: SERVICE_URL.into(),
            expires_at: NOW + 3600,
            not_before: Some(NOW - 60),
        })
    );
    for alg in [Algorithm::RS384, Algorithm::RS512] {
        assert!(verify(&sign_with(&keys()[0], alg, Some("k1"), &claims())).is_ok());
    }
}

#[test]
fn a_token_for_another_bot_or_from_another_issuer_is_refused() {
    let other_bot = with(|c| c["aud"] = json!("99999999-2222-3333-4444-555555555555"));
    assert_eq!(verify(&sign(&other_bot)), Err(BotTokenError::WrongAudience));
    let issuer = with(|c| c["iss"] = json!("https://evil.example"));
    assert_eq!(verify(&sign(&issuer)), Err(BotTokenError::WrongIssuer));
}

#[test]
fn a_token_missing_iss_aud_exp_or_serviceurl_is_refused() {
    for claim in ["iss", "aud", "exp"] {
        let token = sign(&with(|c| {
            c.as_object_mut().unwrap().remove(claim);
        }));
        assert_eq!(
            verify(&token),
            Err(BotTokenError::MissingClaim(claim.into())),
            "{claim}"
        );
    }
    let token = sign(&with(|c| {
        c.as_object_mut().unwrap().remove("serviceurl");
    }));
    assert_eq!(
        verify(&token),
        Err(BotTokenError::MissingClaim("serviceurl".into()))
    );
}

#[test]
fn a_token_signed_by_another_key_under_a_known_kid_is_refused() {
    let forged = sign_with(&keys()[1], Algorithm::RS256, Some("k1"), &claims());
    assert_eq!(verify(&forged), Err(BotTokenError::BadSignature));
}

#[test]
fn an_unknown_or_missing_kid_is_told_apart_so_the_caller_can_refresh_keys() {
    let unknown = sign_with(&keys()[1], Algorithm::RS256, Some("k2"), &claims());
    assert_eq!(
        verify(&unknown),
        Err(BotTokenError::UnknownKid("k2".into()))
    );
    let no_kid = sign_with(&keys()[0], Algorithm::RS256, None, &claims());
    assert_eq!(verify(&no_kid), Err(BotTokenError::MissingKid));
}

#[test]
fn expiry_and_not_before_use_the_callers_clock_with_five_minutes_of_tolerance() {
    let token = sign(&claims());
    let exp = NOW + 3600;
    assert!(verify_at(&token, &teams_jwks(), exp + 300).is_ok());
    assert_eq!(
        verify_at(&token, &teams_jwks(), exp + 301),
        Err(BotTokenError::Expired)
    );
    let early = sign(&with(|c| c["nbf"] = json!(NOW + 600)));
    assert_eq!(verify(&early), Err(BotTokenError::NotYetValid));
    assert!(verify_at(&early, &teams_jwks(), NOW + 300).is_ok());
}

#[test]
fn a_key_not_endorsed_for_the_channel_is_refused_and_one_without_endorsements_is_not() {
    let skype_only = jwks(json!(["skype"]));
    assert_eq!(
        verify_at(&sign(&claims()), &skype_only, NOW),
        Err(BotTokenError::NotEndorsed("msteams".into()))
    );
    let none = jwks(Value::Null);
    assert!(verify_at(&sign(&claims()), &none, NOW).is_ok());
}

#[test]
fn a_token_minted_for_another_service_url_is_refused() {
    let token = sign(&with(|c| c["serviceurl"] = json!("https://evil.example/")));
    assert_eq!(verify(&token), Err(BotTokenError::ServiceUrlMismatch));
}

#[test]
fn garbage_and_other_algorithms_are_refused() {
    assert_eq!(verify("not.a.jwt"), Err(BotTokenError::Malformed));
    assert_eq!(verify(""), Err(BotTokenError::Malformed));
    let hs = jsonwebtoken::encode(
        &Header {
            kid: Some("k1".into()),
            ..Header::new(Algorithm::HS256)
        },
        &claims(),
        &EncodingKey::from_secret(keys()[0].n.as_bytes()),
    )
    .unwrap();
    assert_eq!(verify(&hs), Err(BotTokenError::Algorithm));
    // The claims of one token under the signature of another.
    let (genuine, other) = (
        sign(&claims()),
        sign(&with(|c| c["exp"] = json!(NOW + 7200))),
    );
    let parts: Vec<&str> = genuine.split('.').collect();
    let other_claims = other.split('.').nth(1).unwrap();
    let spliced = format!("{}.{}.{}", parts[0], other_claims, parts[2]);
    assert_eq!(verify(&spliced), Err(BotTokenError::BadSignature));
}
