//! RFC 9396 `authorization_details` as an approval holds them: a non-empty JSON array
//! of objects with a string `type` (§2), stored in their RFC 8785 canonical form and
//! bound to the approval by the SHA-256 of that form, so what the approvers saw is
//! exactly what the tokens carry, byte for byte (a changed object has another digest).

use serde_json::Value;

use crate::crypto;

/// Most entries one request may hold.
pub const MAX_ENTRIES: usize = 10;

/// Validated `authorization_details`: each entry an object with a non-empty `type`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationDetails(Vec<Value>);

/// Why `authorization_details` are malformed (RFC 9396 §5: `invalid_authorization_details`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetailsError {
    /// Not JSON, not an array, empty, or an entry without a string `type`.
    #[error("{0}")]
    Malformed(&'static str),
}

/// One entry as a page or a chat message shows it: its type and its fields by name,
/// nested objects flattened to dotted names (`instructedAmount.currency`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DetailLines {
    /// The entry's `type`.
    pub kind: String,
    /// `(field, value)` pairs.
    pub fields: Vec<(String, String)>,
}

impl AuthorizationDetails {
    /// Parses the request parameter (a JSON array, RFC 9396 §2).
    pub fn parse(text: &str) -> Result<Self, DetailsError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|_| DetailsError::Malformed("authorization_details is not valid JSON"))?;
        Self::from_value(value)
    }

    /// Checks a parsed value.
    pub fn from_value(value: Value) -> Result<Self, DetailsError> {
        let Value::Array(entries) = value else {
            return Err(DetailsError::Malformed(
                "authorization_details must be a JSON array",
            ));
        };
        if entries.is_empty() {
            return Err(DetailsError::Malformed(
                "authorization_details must not be empty",
            ));
        }
        // Each entry is shown field by field, may call a hook, and fills chat cards,
        // which have limits: one action per request is the norm, ten is plenty.
        if entries.len() > MAX_ENTRIES {
            return Err(DetailsError::Malformed(
                "authorization_details may hold at most 10 entries",
            ));
        }
        for entry in &entries {
            let kind = entry.get("type").and_then(Value::as_str);
            if !entry.is_object() || kind.is_none_or(str::is_empty) {
                return Err(DetailsError::Malformed(
                    "each authorization_details entry must be an object with a type",
                ));
            }
        }
        Ok(AuthorizationDetails(entries))
    }

    /// The entries.
    pub fn entries(&self) -> &[Value] {
        &self.0
    }

    /// The `type` of each entry, in order, each once.
    pub fn types(&self) -> Vec<&str> {
        let mut types: Vec<&str> = Vec::new();
        for kind in self
            .0
            .iter()
            .filter_map(|e| e.get("type").and_then(Value::as_str))
        {
            if !types.contains(&kind) {
                types.push(kind);
            }
        }
        types
    }

    /// The RFC 8785 canonical JSON of the array: how it is stored and digested.
    pub fn canonical(&self) -> Result<String, serde_json::Error> {
        serde_json_canonicalizer::to_string(&self.0)
    }

    /// Hex SHA-256 of the canonical JSON: what the approval is bound to.
    pub fn digest(&self) -> Result<String, serde_json::Error> {
        Ok(crypto::sha256_hex(self.canonical()?.as_bytes()))
    }

    /// Reads stored details back, checking them against the digest they were approved
    /// under; `None` when they no longer match (altered after approval).
    pub fn verified(stored: &str, digest: &str) -> Option<Self> {
        let details = Self::parse(stored).ok()?;
        let same = details.digest().ok()?;
        crypto::constant_time_eq(same.as_bytes(), digest.as_bytes()).then_some(details)
    }

    /// The JSON array (for token responses, access tokens and introspection).
    pub fn to_value(&self) -> Value {
        Value::Array(self.0.clone())
    }

    /// Each entry as lines for people.
    pub fn lines(&self) -> Vec<DetailLines> {
        self.0
            .iter()
            .map(|entry| {
                let mut fields = Vec::new();
                if let Value::Object(map) = entry {
                    for (name, value) in sorted(map).filter(|(name, _)| *name != "type") {
                        flatten(name, value, &mut fields);
                    }
                }
                DetailLines {
                    kind: entry
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    fields,
                }
            })
            .collect()
    }
}

/// The lines of stored or shown details (`None`, or a value that is not valid
/// details, shows nothing).
pub fn lines_of(value: Option<&Value>) -> Vec<DetailLines> {
    value
        .cloned()
        .and_then(|v| AuthorizationDetails::from_value(v).ok())
        .map(|d| d.lines())
        .unwrap_or_default()
}

/// Appends `value` under `name`: scalars as text, arrays of scalars joined, nested
/// objects and arrays of objects under dotted and indexed names.
fn flatten(name: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in sorted(map) {
                flatten(&format!("{name}.{key}"), inner, out);
            }
        }
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            let joined: Vec<String> = items.iter().map(scalar).collect();
            out.push((name.to_owned(), joined.join(", ")));
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                flatten(&format!("{name}[{index}]"), inner, out);
            }
        }
        other => out.push((name.to_owned(), scalar(other))),
    }
}

/// An object's members by name, as the canonical form orders them, whether or not
/// serde_json keeps insertion order (`preserve_order`, which a dependency enables).
fn sorted(map: &serde_json::Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries.into_iter()
}

fn scalar(value: &Value) -> String {
    match value {
        // Control characters (a newline, say) could fake another line of the action in
        // a message; they are shown as spaces (the stored details keep them).
        Value::String(text) => text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect(),
        Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_of_the_canonical_form_whatever_the_spelling() {
        let a = AuthorizationDetails::parse(
            r#"[{"type":"payment","amount":4500,"currency":"EUR","creditor":{"name":"ACME"}}]"#,
        )
        .unwrap();
        let b = AuthorizationDetails::parse(
            r#"[ { "currency" : "EUR", "creditor": {"name": "ACME"}, "amount": 4.5e3, "type": "payment" } ]"#,
        )
        .unwrap();
        assert_eq!(a.digest().unwrap(), b.digest().unwrap());
        assert_eq!(
            a.canonical().unwrap(),
            r#"[{"amount":4500,"creditor":{"name":"ACME"},"currency":"EUR","type":"payment"}]"#
        );
        let c = AuthorizationDetails::parse(r#"[{"type":"payment","amount":4501}]"#).unwrap();
        assert_ne!(a.digest().unwrap(), c.digest().unwrap());
        let stored = a.canonical().unwrap();
        let digest = a.digest().unwrap();
        assert_eq!(AuthorizationDetails::verified(&stored, &digest), Some(a));
        let altered = stored.replace("4500", "45000");
        assert_eq!(AuthorizationDetails::verified(&altered, &digest), None);
    }

    #[test]
    fn malformed_details_are_refused() {
        for text in [
            "nope",
            "{}",
            "[]",
            "[1]",
            r#"[{"amount":1}]"#,
            r#"[{"type":""}]"#,
            r#"[{"type":3}]"#,
        ] {
            assert!(AuthorizationDetails::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn lines_flatten_nested_fields() {
        let details = AuthorizationDetails::parse(
            r#"[{"type":"payment","instructedAmount":{"currency":"EUR","amount":"4500"},"actions":["initiate","status"],"locations":[{"uri":"https://bank"}]}]"#,
        )
        .unwrap();
        let lines = details.lines();
        assert_eq!(lines[0].kind, "payment");
        assert_eq!(
            lines[0].fields,
            vec![
                ("actions".into(), "initiate, status".into()),
                ("instructedAmount.amount".into(), "4500".into()),
                ("instructedAmount.currency".into(), "EUR".into()),
                ("locations[0].uri".into(), "https://bank".into()),
            ]
        );
        assert_eq!(details.types(), vec!["payment"]);
    }
}
