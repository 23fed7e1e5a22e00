//! A payment API that pays only what an approver approved: a resource server for the
//! access tokens countersign issues after a CIBA approval (README "Just-in-time action
//! approval"). `POST /payments` takes a JSON payment `{"amount", "currency",
//! "creditor"}` and `Authorization: Bearer <access token>` (RFC 6750 §2.1); the token
//! must be an RFC 9068 access token of the issuer whose `authorization_details`
//! (RFC 9396 §9.1) hold a `payment` with exactly that amount, currency and creditor.
//! Else it answers 401 `invalid_token` or 403 `insufficient_authorization_details`
//! (draft-zehavi-oauth-rar-metadata), whose body offers the `authorization_details` to
//! ask for. An approval pays once: the same token, or another token of that approval,
//! is refused the second time. The decision itself is in `payment_api/authorize.rs`;
//! tests/api/ciba/examples.rs runs both against the test app's real tokens.
//!
//! Keys come from the issuer's discovery document (`jwks_uri`, OIDC Discovery §3), and
//! are fetched again when a token names a key not yet seen (key rotation).
//!
//! Run it against `serve --demo` once the README walkthrough's setup is done (group
//! `finance`, action type `payment`, the agent client):
//!
//! ```sh
//! cargo run --example payment_api -- --issuer http://127.0.0.1:8080 --listen 127.0.0.1:8090
//! # then, in another terminal, the agent asks, waits for fiona, and pays:
//! cargo run --example payment_agent -- --issuer http://127.0.0.1:8080 \
//!     --client-id AGENT_ID --client-secret AGENT_SECRET --login-hint alice \
//!     --amount 4500 --currency EUR --creditor "ACME GmbH" \
//!     --binding-message "Pay ACME 4500 EUR - W4SP" --api http://127.0.0.1:8090
//! # or by hand, with the access token the agent printed with --show-token:
//! curl -i http://127.0.0.1:8090/payments -H "Authorization: Bearer $TOKEN" \
//!     -H 'Content-Type: application/json' \
//!     -d '{"amount":4500,"currency":"EUR","creditor":"ACME GmbH"}'   # 201
//! # the same token for 4501 EUR, or for the same payment again: 403,
//! #   WWW-Authenticate: Bearer error="insufficient_authorization_details"
//! ```

#[path = "payment_api/authorize.rs"]
pub mod authorize;

use std::sync::{Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::header::{self, HeaderMap};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use anyhow::{bail, Context};
use authorize::{Ledger, Payment, Refusal};
use clap::Parser;
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use serde_json::{json, Value};

/// The payment API's options.
#[derive(Debug, Parser)]
#[command(about = "A resource server that pays only approved payments")]
struct Args {
    /// The issuer whose access tokens are accepted (its discovery names the JWKS).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    issuer: String,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: String,
}

/// The part of the discovery document this API reads (OIDC Discovery §3).
#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// What every request shares: the issuer, its keys, and how to fetch them again.
pub struct Api {
    issuer: String,
    jwks_uri: String,
    http: reqwest::Client,
    keys: RwLock<JwkSet>,
    /// What was paid already (in memory: a real API keeps it with its payments).
    ledger: Mutex<Ledger>,
}

impl Api {
    /// Reads the issuer's discovery document and its JWKS.
    pub async fn discover(issuer: &str) -> anyhow::Result<Api> {
        let http = reqwest::Client::new();
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let discovery: Discovery = http
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("fetching {url}"))?
            .json()
            .await
            .with_context(|| format!("reading {url}"))?;
        // OIDC Discovery §4.3: the document must be the issuer's own.
        if discovery.issuer != issuer {
            bail!("{url} names issuer {}, not {issuer}", discovery.issuer);
        }
        let keys = fetch_keys(&http, &discovery.jwks_uri).await?;
        Ok(Api {
            issuer: discovery.issuer,
            jwks_uri: discovery.jwks_uri,
            http,
            keys: RwLock::new(keys),
            ledger: Mutex::new(Ledger::default()),
        })
    }

    /// Verifies `token`, fetching the JWKS again first when it names an unknown key.
    async fn verify(&self, token: &str) -> Result<Value, Refusal> {
        let kid = authorize::key_id(token);
        let known = |keys: &JwkSet| kid.as_deref().is_some_and(|kid| keys.find(kid).is_some());
        if kid.is_some() && !self.with_keys(known) {
            match fetch_keys(&self.http, &self.jwks_uri).await {
                Ok(keys) => {
                    if let Ok(mut current) = self.keys.write() {
                        *current = keys;
                    }
                }
                Err(error) => eprintln!("payment_api: refreshing the JWKS failed: {error:#}"),
            }
        }
        let now = unix_now();
        self.with_keys(|keys| authorize::verify(token, keys, &self.issuer, now))
    }

    /// Decides whether the verified `claims` authorize `payment` and, if so, records it
    /// as paid in the same step (so two concurrent requests cannot both pay).
    fn spend(&self, claims: &Value, payment: &Payment) -> Result<(), Refusal> {
        let entry = authorize::authorizes(claims, payment)?;
        let mut ledger = self
            .ledger
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        ledger.spend(claims, entry, unix_now())
    }

    fn with_keys<T>(&self, f: impl FnOnce(&JwkSet) -> T) -> T {
        // A poisoned lock still holds a whole JwkSet (it is only ever replaced).
        let keys = self
            .keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&keys)
    }
}

async fn fetch_keys(http: &reqwest::Client, jwks_uri: &str) -> anyhow::Result<JwkSet> {
    http.get(jwks_uri)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .with_context(|| format!("fetching {jwks_uri}"))?
        .json()
        .await
        .with_context(|| format!("reading the JWKS at {jwks_uri}"))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// The bearer token of `Authorization` (RFC 6750 §2.1), if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The API's one route (an `App` adds it with `.configure(routes)` beside its
/// `web::Data<Api>`).
pub fn routes(config: &mut web::ServiceConfig) {
    config.route("/payments", web::post().to(pay));
}

/// `POST /payments`: pays `payment` if the bearer token approves exactly it.
async fn pay(
    api: web::Data<Api>,
    request: HttpRequest,
    payment: web::Json<Payment>,
) -> HttpResponse {
    let Some(token) = bearer(request.headers()) else {
        // RFC 6750 §3.1: no credentials at all, so no error code.
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, r#"Bearer realm="payments""#))
            .finish();
    };
    let payment = payment.into_inner();
    let decided = api.verify(token).await;
    match decided.and_then(|claims| api.spend(&claims, &payment).map(|()| claims)) {
        Ok(claims) => {
            let approval = claims.get("approval").cloned().unwrap_or(Value::Null);
            println!(
                "paid {} {} to {} (approval {}, approvers {})",
                payment.amount,
                payment.currency,
                payment.creditor,
                approval["id"],
                approval["approvers"]
            );
            HttpResponse::Created().json(json!({
                "status": "paid",
                "payment": payment,
                "approval": approval["id"],
                "approvers": approval["approvers"],
            }))
        }
        Err(refusal) => refuse(&refusal, &payment),
    }
}

fn refuse(refusal: &Refusal, payment: &Payment) -> HttpResponse {
    println!("refused: {}", refusal.description());
    let mut body = json!({
        "error": refusal.error(),
        "error_description": refusal.description(),
    });
    // draft-zehavi-oauth-rar-metadata: the 403 body may say what to ask for instead.
    if let Refusal::InsufficientDetails(_) = refusal {
        body["authorization_details"] = payment.as_details();
    }
    let status = actix_web::http::StatusCode::from_u16(refusal.status())
        .unwrap_or(actix_web::http::StatusCode::FORBIDDEN);
    HttpResponse::build(status)
        .insert_header((header::WWW_AUTHENTICATE, refusal.challenge()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // reqwest is built without a rustls provider: an https issuer needs one installed.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let api = web::Data::new(Api::discover(&args.issuer).await?);
    println!(
        "payment API on http://{}/payments, trusting {}",
        args.listen, args.issuer
    );
    HttpServer::new(move || App::new().app_data(api.clone()).configure(routes))
        .bind(&args.listen)
        .with_context(|| format!("listening on {}", args.listen))?
        .run()
        .await
        .context("serving")
}
