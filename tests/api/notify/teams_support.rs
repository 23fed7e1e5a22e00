//! A Teams bot app: `notify.teams_app_id` set, the Bot Framework's OpenID metadata and
//! JWKS served by a local receiver, approvers linked to Teams (Entra) ids, and tokens
//! signed the way the Bot Framework signs them, timed by the app's clock.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use countersign::approval::ApprovalState;
use countersign::audit::Actor;
use countersign::config::RawNotify;
use countersign::ids::ApprovalId;
use countersign::manage::{self, ScopeChanges};
use countersign::store;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

use crate::approval::support::ApprovalSeed;
use crate::helpers::{HttpReceiver, TestApp};

/// The bot's Microsoft app id (the tokens' audience).
pub const APP_ID: &str = "6d5e2a90-0c1e-4c4e-9a55-2b1c3d4e5f60";
/// The Bot Framework's issuer.
pub const ISSUER: &str = "https://api.botframework.com";
/// The activity's `serviceUrl`.
pub const SERVICE_URL: &str = "https://smba.trafficmanager.net/emea/";
/// Entra object ids: bob and carol (approvers), alice (the requester), dave (no
/// approver group); nobody is linked to `STRANGER`.
pub const BOB: &str = "00000000-0000-4000-8000-0000000000b0";
pub const CAROL: &str = "00000000-0000-4000-8000-0000000000c0";
pub const ALICE: &str = "00000000-0000-4000-8000-0000000000a0";
pub const DAVE: &str = "00000000-0000-4000-8000-0000000000d0";
pub const STRANGER: &str = "00000000-0000-4000-8000-0000000000ff";
/// The verbs of the card's buttons.
pub const APPROVE: &str = "countersign.approve";
pub const DENY: &str = "countersign.deny";

/// An RSA signing key: PEM for signing, `n` and `e` for the JWKS.
pub struct TestKey {
    pem: String,
    n: String,
    e: String,
}

/// Two keys, generated once per run: the Bot Framework's and somebody else's.
pub fn signing_keys() -> &'static [TestKey; 2] {
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

/// A JWKS entry for `key` named `kid`, endorsed for `endorsements`.
pub fn jwk(key: &TestKey, kid: &str, endorsements: &[&str]) -> Value {
    json!({"kty": "RSA", "use": "sig", "kid": kid, "n": key.n, "e": key.e,
           "endorsements": endorsements})
}

/// The app, and the receiver serving `/metadata` and `/keys`.
pub struct Bot {
    pub app: TestApp<ApprovalSeed>,
    pub keys: HttpReceiver,
}

/// A Teams bot app. The JWKS holds `k1` (endorsed for msteams) and `skype-only`
/// (endorsed for another channel), both the Bot Framework's key; `payments:write`
/// lets chat decide when `chat_decisions`.
pub async fn bot_app(chat_decisions: bool) -> Bot {
    let keys = HttpReceiver::start();
    let metadata = json!({"issuer": ISSUER, "jwks_uri": format!("{}/keys", keys.url),
                          "id_token_signing_alg_values_supported": ["RS256"]});
    keys.answer_path("/metadata", 200, metadata);
    serve_keys(
        &keys,
        &[
            jwk(&signing_keys()[0], "k1", &["msteams"]),
            jwk(&signing_keys()[0], "skype-only", &["skype"]),
        ],
    );
    let notify = RawNotify {
        teams_app_id: Some(APP_ID.into()),
        teams_metadata_url: Some(format!("{}/metadata", keys.url)),
        reminder_before: Some("off".into()),
        ..RawNotify::default()
    };
    let app = TestApp::builder()
        .notify(notify)
        .spawn()
        .await
        .seeded(ApprovalSeed::seed);
    app.set_policy(ScopeChanges {
        allow_chat_decisions: Some(chat_decisions),
        ..ScopeChanges::default()
    });
    for (user, id) in [
        ("bob", BOB),
        ("carol", CAROL),
        ("alice", ALICE),
        ("dave", DAVE),
    ] {
        manage::link_chat(&app.store, user, None, Some(id), &Actor::System, app.now())
            .expect("linked");
    }
    Bot { app, keys }
}

/// Serves these JWKS entries from now on.
pub fn serve_keys(keys: &HttpReceiver, entries: &[Value]) {
    keys.answer_path("/keys", 200, json!({ "keys": entries }));
}

impl Bot {
    /// Claims as the Bot Framework sends them, valid for an hour from the app's now.
    pub fn claims(&self) -> Value {
        let now = self.app.now();
        json!({"iss": ISSUER, "aud": APP_ID, "serviceurl": SERVICE_URL,
               "nbf": now - 60, "exp": now + 3600})
    }

    /// A token for `claims`, signed by `key` and naming `kid`.
    pub fn sign(&self, key: &TestKey, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.into());
        let encoding = EncodingKey::from_rsa_pem(key.pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, claims, &encoding).unwrap()
    }

    /// A good token.
    pub fn token(&self) -> String {
        self.sign(&signing_keys()[0], "k1", &self.claims())
    }

    /// Posts `activity` to the bot endpoint with this `Authorization` header.
    pub async fn post(&self, authorization: Option<&str>, activity: &Value) -> reqwest::Response {
        let mut request = self
            .app
            .http
            .post(self.app.url("/integrations/teams/messages"))
            .json(activity);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request.send().await.unwrap()
    }

    /// Posts `activity` with a good token; asserts HTTP 200 and returns the invoke
    /// answer.
    pub async fn click(&self, activity: &Value) -> Value {
        let response = self
            .post(Some(&format!("Bearer {}", self.token())), activity)
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// The approval's state as stored.
    pub fn state(&self, approval_id: &str) -> ApprovalState {
        let id = ApprovalId::parse(approval_id).unwrap();
        let row = self.app.store.read(|c| store::approval_by_id(c, &id));
        row.unwrap().expect("the approval").state
    }
}

/// A click by `aad_object_id` on `verb` of the card of `approval_id`.
pub fn click(aad_object_id: &str, verb: &str, approval_id: &str, comment: Option<&str>) -> Value {
    let mut data = json!({"approval_id": approval_id});
    if let Some(comment) = comment {
        data["comment"] = json!(comment);
    }
    json!({
        "type": "invoke", "name": "adaptiveCard/action", "id": "f:8641",
        "channelId": "msteams", "serviceUrl": SERVICE_URL,
        "from": {"id": "29:1teams-user", "name": "Someone", "aadObjectId": aad_object_id},
        "conversation": {"id": "a:1conversation"}, "recipient": {"id": format!("28:{APP_ID}")},
        "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data},
                  "trigger": "manual"},
    })
}

/// An invoke error answer's status code and message.
pub fn refusal(answer: &Value) -> (u64, String) {
    assert_eq!(
        answer["type"], "application/vnd.microsoft.error",
        "{answer}"
    );
    (
        answer["statusCode"].as_u64().unwrap(),
        answer["value"]["message"].as_str().unwrap().to_owned(),
    )
}
