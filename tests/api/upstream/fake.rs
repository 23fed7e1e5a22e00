//! A tiny fake upstream (std `TcpListener`, one thread) serving discovery, a JWKS and a
//! token endpoint that answers with whatever ID token the test crafted: wrong
//! audience, wrong nonce, another key. A valid one first, so a refusal is the check's.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

use super::support::{add_upstream, callback_url, location};
use crate::helpers::{browser, TestApp};

const CLIENT_ID: &str = "downstream-at-fake";

/// `(pem, n, e)` of the fake's key and of another one.
fn keys() -> &'static [(String, String, String); 2] {
    static KEYS: OnceLock<[(String, String, String); 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let generate = || {
            let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
            (
                key.to_pkcs1_pem(LineEnding::LF).unwrap().to_string(),
                URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
                URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
            )
        };
        [generate(), generate()]
    })
}

/// The fake upstream: its issuer and the ID token its token endpoint returns next.
struct Fake {
    issuer: String,
    id_token: Arc<Mutex<String>>,
}

impl Fake {
    fn start() -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let id_token = Arc::new(Mutex::new(String::new()));
        let (served, token) = (issuer.clone(), id_token.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                serve(stream, &served, &token.lock().unwrap());
            }
        });
        Fake { issuer, id_token }
    }

    /// Signs `claims` with key `key` (0: the published one) under kid `k1`.
    fn answer_with(&self, claims: &Value, key: usize) {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("k1".into());
        let encoding = EncodingKey::from_rsa_pem(keys()[key].0.as_bytes()).unwrap();
        *self.id_token.lock().unwrap() = jsonwebtoken::encode(&header, claims, &encoding).unwrap();
    }
}

/// One HTTP/1.1 exchange, then the connection closes.
fn serve(stream: std::net::TcpStream, issuer: &str, id_token: &str) {
    let mut reader = BufReader::new(stream);
    let (mut request_line, mut length) = (String::new(), 0usize);
    reader.read_line(&mut request_line).unwrap();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let (_, n, e) = &keys()[0];
    let answer = match request_line.split(' ').nth(1).unwrap_or_default() {
        "/.well-known/openid-configuration" => json!({
            "issuer": issuer, "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"), "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }),
        "/jwks" => json!({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
            "n": n, "e": e}]}),
        _ => json!({"access_token": "fake-access-token", "token_type": "Bearer",
            "expires_in": 300, "id_token": id_token}),
    };
    let body = answer.to_string();
    let mut stream = reader.into_inner();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
}

/// Starts a sign-in at the fake, lets `craft` shape the ID token from the valid
/// claims, and returns the callback's answer.
async fn sign_in_with(craft: impl FnOnce(&mut Value) -> usize) -> (TestApp, reqwest::Response) {
    let down = TestApp::builder().spawn().await;
    let fake = Fake::start();
    add_upstream(&down, "fake", &fake.issuer, CLIENT_ID, "fake-secret", &[]);
    let browser = browser();
    let to_fake = location(&down.get(&browser, "/login/upstream/fake").await);
    let query: std::collections::HashMap<String, String> = url::Url::parse(&to_fake)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let mut claims = json!({
        "iss": fake.issuer, "sub": "fake-user-1", "aud": CLIENT_ID, "nonce": query["nonce"],
        "iat": down.now(), "exp": down.now() + 300, "preferred_username": "frank",
    });
    let key = craft(&mut claims);
    fake.answer_with(&claims, key);
    let callback = format!(
        "{}?code=fake-code&state={}",
        callback_url(&down, "fake"),
        query["state"]
    );
    let response = browser.get(callback).send().await.unwrap();
    (down, response)
}

fn frank_exists(down: &TestApp) -> bool {
    countersign::manage::list_users(&down.store)
        .unwrap()
        .iter()
        .any(|u| u.username == "frank")
}

async fn assert_unverified(down: &TestApp, response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let page = response.text().await.unwrap();
    assert!(page.contains("could not be verified"), "{page}");
    assert!(!frank_exists(down), "nobody was created");
}

#[tokio::test]
async fn the_fake_upstream_signs_in_with_a_valid_id_token() {
    let (down, response) = sign_in_with(|_| 0).await;
    assert_eq!(location(&response), "/approvals");
    assert!(frank_exists(&down));
}

#[tokio::test]
async fn an_id_token_for_another_audience_is_refused() {
    let (down, response) = sign_in_with(|claims| {
        claims["aud"] = json!("another-client");
        0
    })
    .await;
    assert_unverified(&down, response).await;
}

#[tokio::test]
async fn an_id_token_with_another_nonce_is_refused() {
    let (down, response) = sign_in_with(|claims| {
        claims["nonce"] = json!("not-the-nonce-we-sent");
        0
    })
    .await;
    assert_unverified(&down, response).await;
}

#[tokio::test]
async fn an_id_token_signed_with_a_key_not_in_the_upstreams_jwks_is_refused() {
    let (down, response) = sign_in_with(|_| 1).await;
    assert_unverified(&down, response).await;
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    let (down, response) = sign_in_with(|claims| {
        claims["exp"] = json!(claims["iat"].as_i64().unwrap() - 60);
        0
    })
    .await;
    assert_unverified(&down, response).await;
}

#[tokio::test]
async fn the_factors_an_upstream_reports_never_pass_for_ones_checked_here() {
    // Arrange: the upstream says it checked a code and a hardware key.
    let (down, response) = sign_in_with(|claims| {
        claims["amr"] = json!(["pwd", "otp", "hwk", "mfa"]);
        0
    })
    .await;
    // Assert: the session says "federated" and keeps pwd and mfa, but otp and hwk
    // mean factors this server checked (the console and the account page trust them).
    assert_eq!(location(&response), "/approvals");
    let mut conn = down.store.conn().unwrap();
    let logins: Vec<Value> = countersign::store::audit_rows_after(&mut conn, 0, 1000)
        .unwrap()
        .into_iter()
        .filter(|row| row.action == "login.succeeded")
        .map(|row| serde_json::from_str(&row.details).unwrap())
        .collect();
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0]["amr"], json!(["fed", "pwd", "mfa"]));
}
