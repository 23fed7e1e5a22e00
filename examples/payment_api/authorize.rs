//! What the payment API decides, without any I/O: whether a bearer token is an access
//! token of the issuer (RFC 9068 §4: signature with the key its `kid` names, `typ:
//! at+jwt`, `iss`, `exp`), and whether its `authorization_details` (RFC 9396 §9.1)
//! authorize exactly the payment asked for. A refusal says which answer to give: 401
//! `invalid_token` (RFC 6750 §3.1) or 403 `insufficient_authorization_details`
//! (draft-zehavi-oauth-rar-metadata). The [`Ledger`] keeps one approval from paying
//! twice.
//!
//! Kept apart from the HTTP server so the integration tests include this file and
//! check it against real tokens (tests/api/ciba/examples.rs).

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{json, Number, Value};

/// A payment as `POST /payments` receives it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Payment {
    /// The amount, a JSON number (`4500` and `4500.0` are the same amount).
    pub amount: Number,
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: String,
    /// Who is paid.
    pub creditor: String,
}

impl Payment {
    /// The `authorization_details` a client would ask for to be allowed this payment
    /// (the remediation the 403 body offers).
    pub fn as_details(&self) -> Value {
        json!([{
            "type": "payment",
            "amount": self.amount,
            "currency": self.currency,
            "creditor": self.creditor,
        }])
    }
}

/// Why a token does not authorize a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not a usable access token of this issuer: 401 `invalid_token`.
    InvalidToken(String),
    /// A valid token whose `authorization_details` do not cover this payment: 403.
    InsufficientDetails(String),
}

impl Refusal {
    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::InvalidToken(_) => 401,
            Refusal::InsufficientDetails(_) => 403,
        }
    }

    /// The OAuth error code (RFC 6750 §3.1; draft-zehavi-oauth-rar-metadata).
    pub fn error(&self) -> &'static str {
        match self {
            Refusal::InvalidToken(_) => "invalid_token",
            Refusal::InsufficientDetails(_) => "insufficient_authorization_details",
        }
    }

    /// The human-readable reason (`error_description`).
    pub fn description(&self) -> &str {
        match self {
            Refusal::InvalidToken(why) | Refusal::InsufficientDetails(why) => why,
        }
    }

    /// The `WWW-Authenticate` challenge (RFC 6750 §3). The description is ours and
    /// never holds a quote, but is escaped anyway as a quoted-string (RFC 9110 §5.6.4).
    pub fn challenge(&self) -> String {
        let description = self
            .description()
            .replace('\\', "\\\\")
            .replace('"', "\\\"");
        format!(
            r#"Bearer error="{}", error_description="{description}""#,
            self.error()
        )
    }
}

fn invalid(why: impl Into<String>) -> Refusal {
    Refusal::InvalidToken(why.into())
}

/// The `kid` a token's header names, if the header parses and names one.
pub fn key_id(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).ok()?.kid
}

/// Verifies `token` as an RFC 9068 access token of `issuer` signed by a key of `jwks`,
/// unexpired at `now` (unix seconds), and returns its claims.
pub fn verify(token: &str, jwks: &JwkSet, issuer: &str, now: i64) -> Result<Value, Refusal> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("not a JWT"))?;
    // RFC 9068 §4: an ID token or any other JWT of the issuer is not an access token.
    if !header
        .typ
        .as_deref()
        .is_some_and(|typ| typ.eq_ignore_ascii_case("at+jwt"))
    {
        return Err(invalid("not an access token (typ is not at+jwt)"));
    }
    let kid = header
        .kid
        .ok_or_else(|| invalid("the token names no key"))?;
    let jwk = jwks
        .find(&kid)
        .ok_or_else(|| invalid("the token's key is not in the issuer's JWKS"))?;
    // The algorithm comes from the published key, never from the token (RFC 8725 §3.1).
    let alg = jwk
        .common
        .key_algorithm
        .and_then(|alg| Algorithm::try_from(alg).ok())
        .ok_or_else(|| invalid("the issuer's key has no usable alg"))?;
    if header.alg != alg {
        return Err(invalid("the token's alg is not its key's"));
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|_| invalid("unusable key"))?;
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    // countersign names the client as `aud` (no resource indicators, RFC 8707), so
    // there is no audience of ours to check; what binds the token to this API's
    // action is `authorization_details`, checked in [`authorizes`].
    validation.validate_aud = false;
    // `exp` is compared below with the caller's `now`, so tests can run on the
    // provider's clock rather than the system's.
    validation.validate_exp = false;
    validation.leeway = 0;
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map_err(|error| invalid(format!("the token does not verify: {error}")))?
        .claims;
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| invalid("exp is not a number"))?;
    if exp <= now {
        return Err(invalid("the token has expired"));
    }
    Ok(claims)
}

/// Whether the verified `claims` authorize `payment`: one `authorization_details` entry
/// of type `payment` with exactly its amount, currency and creditor. Returns that
/// entry's index, for the [`Ledger`].
pub fn authorizes(claims: &Value, payment: &Payment) -> Result<usize, Refusal> {
    let Some(details) = claims
        .get("authorization_details")
        .and_then(Value::as_array)
    else {
        return Err(Refusal::InsufficientDetails(
            "the token carries no authorization_details".into(),
        ));
    };
    let is_payment = |entry: &Value| entry.get("type").and_then(Value::as_str) == Some("payment");
    if !details.iter().any(is_payment) {
        return Err(Refusal::InsufficientDetails(
            "the token approves no payment".into(),
        ));
    }
    details
        .iter()
        .position(|entry| is_payment(entry) && covers(entry, payment))
        .ok_or_else(|| {
            Refusal::InsufficientDetails(
                "the token approves another payment (amount, currency or creditor differ)".into(),
            )
        })
}

/// The approved payments already made. An approval is for one action: without this, the
/// same token (or a refreshed one) would pay the approved payment again and again.
#[derive(Debug, Default)]
pub struct Ledger {
    /// `approval id#entry index` → until when a token of that approval may be presented.
    spent: HashMap<String, i64>,
}

impl Ledger {
    /// Records that entry `entry` of the approval in `claims` is paid, unless it already
    /// was. Entries are kept until the approval's `access_until` (no token of it is
    /// valid later), or the token's `exp` when it names none.
    pub fn spend(&mut self, claims: &Value, entry: usize, now: i64) -> Result<(), Refusal> {
        self.spent.retain(|_, until| *until > now);
        let approval = claims
            .pointer("/approval/id")
            .or_else(|| claims.get("jti"))
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("the token names neither an approval nor a jti"))?;
        let until = claims
            .pointer("/approval/access_until")
            .or_else(|| claims.get("exp"))
            .and_then(Value::as_i64)
            .unwrap_or(now);
        match self.spent.entry(format!("{approval}#{entry}")) {
            Entry::Occupied(_) => Err(Refusal::InsufficientDetails(
                "this approval has already paid this payment".into(),
            )),
            Entry::Vacant(vacant) => {
                vacant.insert(until);
                Ok(())
            }
        }
    }
}

/// One approved `payment` entry is exactly this payment.
fn covers(entry: &Value, payment: &Payment) -> bool {
    let text = |name: &str| entry.get(name).and_then(Value::as_str);
    let amount = entry.get("amount").and_then(Value::as_number);
    amount.is_some_and(|amount| same_amount(amount, &payment.amount))
        && text("currency") == Some(payment.currency.as_str())
        && text("creditor") == Some(payment.creditor.as_str())
}

/// Two JSON numbers are the same amount: exactly, when both are integers; else as
/// binary floating point (RFC 8259 §6 leaves precision to the parser).
fn same_amount(a: &Number, b: &Number) -> bool {
    if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
        return a == b;
    }
    if let (Some(a), Some(b)) = (a.as_u64(), b.as_u64()) {
        return a == b;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(a), Some(b)) => a.is_finite() && a == b,
        _ => false,
    }
}
