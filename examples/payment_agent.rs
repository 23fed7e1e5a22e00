//! An agent that asks an approver before it pays: a CIBA client in poll mode (OpenID
//! CIBA Core 1.0 §7.1, §7.3, §10.1, §11) asking for one payment as RFC 9396
//! `authorization_details`. It reads the issuer's discovery document, sends the
//! backchannel request (client_secret_basic), shows the binding message the approver
//! will see, then polls the token endpoint every `interval` seconds (5 more after each
//! `slow_down`, §11) until the tokens come, the request is denied (`access_denied`) or
//! expires (`expired_token`, or `expires_in` has passed): both exit non-zero. With the
//! tokens it prints the approved `authorization_details` and, from the verified ID token
//! (a client does not look inside access tokens, RFC 9068 §6), who approved; with
//! `--api` it then pays through the example payment API (`payment_api.rs`).
//!
//! Run it against `serve --demo` once the README walkthrough's setup is done (group
//! `finance` with fiona, action type `payment`, the agent client AGENT_ID):
//!
//! ```sh
//! cargo run --example payment_agent -- --issuer http://127.0.0.1:8080 \
//!     --client-id AGENT_ID --client-secret AGENT_SECRET --login-hint alice \
//!     --amount 4500 --currency EUR --creditor "ACME GmbH" \
//!     --binding-message "Pay ACME 4500 EUR - W4SP" \
//!     --api http://127.0.0.1:8090   # optional: pay through `--example payment_api`
//! ```
//!
//! fiona approves at <http://127.0.0.1:8080/approvals>; the agent prints the payment
//! and `approvers: ["<fiona's id>"]`. The secret may come from `AGENT_SECRET` instead.
//! Exit status: 0 approved (and paid, with `--api`), 2 denied, 3 expired, 1 any other
//! failure.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use clap::Parser;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{json, Number, Value};
use tokio::time::Instant;

/// The agent's options.
#[derive(Debug, Parser)]
#[command(about = "Asks for approval of one payment (CIBA), then pays it")]
struct Args {
    /// The issuer (its discovery document names the endpoints).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    issuer: String,
    /// The agent's client_id (a confidential client with the CIBA grant).
    #[arg(long)]
    client_id: String,
    /// The agent's client_secret.
    #[arg(long, env = "AGENT_SECRET", hide_env_values = true)]
    client_secret: String,
    /// Whom the agent acts for (CIBA Core §7.1 `login_hint`).
    #[arg(long)]
    login_hint: String,
    /// The amount, a JSON number (e.g. 4500 or 12.50).
    #[arg(long)]
    amount: Number,
    /// ISO 4217 currency code.
    #[arg(long)]
    currency: String,
    /// Who is paid.
    #[arg(long)]
    creditor: String,
    /// What the approver sees to match the request with this agent (CIBA Core §7.1).
    #[arg(long)]
    binding_message: String,
    /// The scope asked for beside the payment (CIBA needs `openid`).
    #[arg(long, default_value = "openid")]
    scope: String,
    /// The payment API to pay through once approved (`--example payment_api`).
    #[arg(long)]
    api: Option<String>,
    /// Print the access token (to try the payment API by hand; it pays the payment).
    #[arg(long)]
    show_token: bool,
}

/// The part of the discovery document the agent reads (CIBA Core §4).
#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    token_endpoint: String,
    backchannel_authentication_endpoint: String,
    jwks_uri: String,
}

/// The acknowledgement of a backchannel request (CIBA Core §7.3).
#[derive(Debug, Deserialize)]
struct Acknowledgement {
    auth_req_id: String,
    expires_in: u64,
    /// CIBA Core §7.3: 5 seconds when absent.
    #[serde(default = "five")]
    interval: u64,
}

fn five() -> u64 {
    5
}

/// How the wait ended without tokens.
#[derive(Debug, Deserialize)]
struct OAuthError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// How a request ended without tokens, each with its own exit status.
#[derive(Debug)]
enum Ended {
    /// `access_denied` (CIBA Core §11).
    Denied(String),
    /// `expired_token`, or `expires_in` passed without a decision.
    Expired(String),
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Denied(why) => write!(f, "the payment was denied: {why}"),
            Ended::Expired(why) => write!(f, "the request expired: {why}"),
        }
    }
}

impl std::error::Error for Ended {}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("payment_agent: {error:#}");
            match error.downcast_ref::<Ended>() {
                Some(Ended::Denied(_)) => ExitCode::from(2),
                Some(Ended::Expired(_)) => ExitCode::from(3),
                None => ExitCode::FAILURE,
            }
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    // reqwest is built without a rustls provider: an https issuer needs one installed.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let http = reqwest::Client::new();
    let discovery = discover(&http, &args.issuer).await?;
    let details = json!([{
        "type": "payment",
        "amount": args.amount,
        "currency": args.currency,
        "creditor": args.creditor,
    }]);
    let ack = ask(&http, &discovery, &args, &details).await?;
    println!("auth_req_id:     {}", ack.auth_req_id);
    println!("binding message: {}", args.binding_message);
    println!("  (the approver sees it beside the payment: compare before approving)");
    let tokens = wait(&http, &discovery, &args, &ack).await?;
    report(&http, &discovery, &args, &tokens).await?;
    if let Some(api) = &args.api {
        pay(&http, api, &args, &tokens).await?;
    }
    Ok(())
}

/// Reads the issuer's discovery document, checking it is the issuer's own.
async fn discover(http: &reqwest::Client, issuer: &str) -> anyhow::Result<Discovery> {
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
        .with_context(|| format!("reading {url} (does the issuer support CIBA?)"))?;
    if discovery.issuer != issuer {
        bail!("{url} names issuer {}, not {issuer}", discovery.issuer);
    }
    Ok(discovery)
}

/// `POST /bc-authorize` (CIBA Core §7.1), client_secret_basic.
async fn ask(
    http: &reqwest::Client,
    discovery: &Discovery,
    args: &Args,
    details: &Value,
) -> anyhow::Result<Acknowledgement> {
    let details = details.to_string();
    let response = http
        .post(&discovery.backchannel_authentication_endpoint)
        .basic_auth(&args.client_id, Some(&args.client_secret))
        .form(&[
            ("scope", args.scope.as_str()),
            ("login_hint", args.login_hint.as_str()),
            ("authorization_details", details.as_str()),
            ("binding_message", args.binding_message.as_str()),
        ])
        .send()
        .await
        .context("sending the backchannel request")?;
    if !response.status().is_success() {
        let status = response.status();
        let error: OAuthError = response
            .json()
            .await
            .with_context(|| format!("the backchannel request failed ({status})"))?;
        bail!("the backchannel request was refused: {}", describe(&error));
    }
    response
        .json()
        .await
        .context("reading the backchannel acknowledgement")
}

/// Polls the token endpoint (CIBA Core §7.3, §11) until tokens, a final error, or
/// `expires_in` has passed.
async fn wait(
    http: &reqwest::Client,
    discovery: &Discovery,
    args: &Args,
    ack: &Acknowledgement,
) -> anyhow::Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(ack.expires_in);
    let mut interval = ack.interval;
    loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        let response = http
            .post(&discovery.token_endpoint)
            .basic_auth(&args.client_id, Some(&args.client_secret))
            .form(&[
                ("grant_type", "urn:openid:params:grant-type:ciba"),
                ("auth_req_id", ack.auth_req_id.as_str()),
            ])
            .send()
            .await
            .context("polling the token endpoint")?;
        if response.status().is_success() {
            return response.json().await.context("reading the tokens");
        }
        let status = response.status();
        let error: OAuthError = response
            .json()
            .await
            .with_context(|| format!("the token endpoint failed ({status})"))?;
        match error.error.as_str() {
            "authorization_pending" => println!("waiting for the approvers…"),
            "slow_down" => {
                // CIBA Core §11: the interval grows by 5 s for the rest of the wait.
                interval += 5;
                println!("slowing down: polling every {interval} s");
            }
            "access_denied" => return Err(Ended::Denied(describe(&error)).into()),
            "expired_token" => return Err(Ended::Expired(describe(&error)).into()),
            _ => bail!("the token endpoint refused: {}", describe(&error)),
        }
        // Checked after a poll, so a decision made just before the deadline is still
        // fetched, and the provider usually answers `expired_token` itself.
        if Instant::now() >= deadline {
            let why = format!("nobody decided within {} s", ack.expires_in);
            return Err(Ended::Expired(why).into());
        }
    }
}

fn describe(error: &OAuthError) -> String {
    match &error.error_description {
        Some(description) => format!("{} ({description})", error.error),
        None => error.error.clone(),
    }
}

/// Prints what was approved, and who approved it from the verified ID token.
async fn report(
    http: &reqwest::Client,
    discovery: &Discovery,
    args: &Args,
    tokens: &Value,
) -> anyhow::Result<()> {
    println!(
        "approved authorization_details: {}",
        tokens["authorization_details"]
    );
    let id_token = tokens["id_token"]
        .as_str()
        .ok_or_else(|| anyhow!("the token response has no id_token"))?;
    let jwks: JwkSet = http
        .get(&discovery.jwks_uri)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .context("fetching the JWKS")?
        .json()
        .await
        .context("reading the JWKS")?;
    let claims = verify_id_token(id_token, &jwks, &discovery.issuer, &args.client_id)?;
    println!("approval:  {}", claims["approval"]["id"]);
    println!("approvers: {}", claims["approval"]["approvers"]);
    if args.show_token {
        println!(
            "access_token: {}",
            tokens["access_token"].as_str().unwrap_or("")
        );
    }
    Ok(())
}

/// OIDC Core §3.1.3.7: signature by the key its `kid` names (with that key's `alg`),
/// `iss`, `aud` = this client, `exp`.
fn verify_id_token(
    token: &str,
    jwks: &JwkSet,
    issuer: &str,
    client_id: &str,
) -> anyhow::Result<Value> {
    let header = jsonwebtoken::decode_header(token).context("the ID token is not a JWT")?;
    let kid = header
        .kid
        .ok_or_else(|| anyhow!("the ID token names no key"))?;
    let jwk = jwks
        .find(&kid)
        .ok_or_else(|| anyhow!("the ID token's key {kid} is not in the JWKS"))?;
    let alg = jwk
        .common
        .key_algorithm
        .and_then(|alg| Algorithm::try_from(alg).ok())
        .ok_or_else(|| anyhow!("the key {kid} has no usable alg"))?;
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[client_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let key = DecodingKey::from_jwk(jwk).context("the key does not parse")?;
    Ok(jsonwebtoken::decode::<Value>(token, &key, &validation)
        .context("the ID token does not verify")?
        .claims)
}

/// Pays through the payment API with the access token.
async fn pay(http: &reqwest::Client, api: &str, args: &Args, tokens: &Value) -> anyhow::Result<()> {
    let access_token = tokens["access_token"]
        .as_str()
        .ok_or_else(|| anyhow!("the token response has no access_token"))?;
    let url = format!("{}/payments", api.trim_end_matches('/'));
    let response = http
        .post(&url)
        .bearer_auth(access_token)
        .json(&json!({
            "amount": args.amount,
            "currency": args.currency,
            "creditor": args.creditor,
        }))
        .send()
        .await
        .with_context(|| format!("calling {url}"))?;
    let status = response.status();
    let challenge = response
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!(
            "the payment API refused ({status}, {}): {body}",
            challenge.unwrap_or_default()
        );
    }
    println!("payment API: {status} {body}");
    Ok(())
}
