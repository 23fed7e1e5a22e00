//! RFC 9396 Rich Authorization Requests at `/bc-authorize` (and the checks any
//! endpoint taking `authorization_details` shares): every entry's `type` must be an
//! action type an admin registered, the client must be allowed the sensitive scope
//! whose policy approves that type, and the entry must satisfy the type's JSON Schema.
//! Anything else is `invalid_authorization_details` (§5), whose description names the
//! entry and the schema keyword, never the request's values.

use serde_json::Value;

use super::clients::Client;
use super::error::{ErrorCode, OAuthError};
use crate::approval::details::AuthorizationDetails;
use crate::approval::hooks::{self, HookCall};
use crate::approval::{self, Requirements};
use crate::store::{self, ActionTypeRow, DbConn};

/// `authorization_details` that passed every check, with the action types they use.
#[derive(Debug, Clone)]
pub struct RequestedDetails {
    /// The details.
    pub details: AuthorizationDetails,
    /// The action type of each distinct `type`, in order.
    pub action_types: Vec<ActionTypeRow>,
}

fn refused(description: impl Into<std::borrow::Cow<'static, str>>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidAuthorizationDetails, description)
}

/// Checks the `authorization_details` parameter, if sent.
pub fn requested_details(
    c: &mut DbConn,
    client: &Client,
    raw: Option<&str>,
) -> Result<Option<RequestedDetails>, OAuthError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let details = AuthorizationDetails::parse(raw).map_err(|e| refused(e.to_string()))?;
    let mut action_types: Vec<ActionTypeRow> = Vec::new();
    for (index, entry) in details.entries().iter().enumerate() {
        let position = index + 1;
        let kind = entry
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let action_type = match action_types.iter().find(|t| t.name == kind) {
            Some(known) => known.clone(),
            None => {
                let found = store::action_type(c, kind)?.ok_or_else(|| {
                    refused(format!(
                        "authorization_details entry {position} has a type this server does not know"
                    ))
                })?;
                if !client.allowed_scopes.contains(&found.policy_scope) {
                    return Err(refused(format!(
                        "the client may not request the type of authorization_details entry {position}"
                    )));
                }
                action_types.push(found.clone());
                found
            }
        };
        check_schema(&action_type, entry, position)?;
    }
    Ok(Some(RequestedDetails {
        details,
        action_types,
    }))
}

/// Validates one entry against its type's schema.
fn check_schema(
    action_type: &ActionTypeRow,
    entry: &Value,
    position: usize,
) -> Result<(), OAuthError> {
    let schema: Value = serde_json::from_str(&action_type.schema)
        .map_err(|e| OAuthError::server_error(&format!("action type schema: {e}")))?;
    let validator = jsonschema::validator_for(&schema)
        .map_err(|e| OAuthError::server_error(&format!("action type schema: {e}")))?;
    let first = validator
        .iter_errors(entry)
        .next()
        .map(|error| printable(&error.schema_path().to_string()));
    match first {
        None => Ok(()),
        Some(at) => Err(refused(format!(
            "authorization_details entry {position} does not satisfy the schema of its type at {at}"
        ))),
    }
}

/// The schema path as plain ASCII without quotes or backslashes (RFC 6749 §5.2).
fn printable(path: &str) -> String {
    let kept: String = path
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\')
        .take(120)
        .collect();
    if kept.is_empty() {
        "/".into()
    } else {
        kept
    }
}

/// The approval a request needs: the policies of its sensitive scopes and of the
/// scopes that govern its action types (each once), with the action types' versions;
/// `None` when nothing in it is sensitive.
pub fn requirements_for(
    c: &mut DbConn,
    scopes: &crate::scope_set::ScopeSet,
    details: Option<&RequestedDetails>,
) -> Result<(Vec<store::ScopeRow>, Option<Requirements>), OAuthError> {
    let governing = details
        .into_iter()
        .flat_map(|d| d.action_types.iter().map(|t| t.policy_scope.as_str()));
    // scopes_by_names reads each name once, in the order named.
    let names: Vec<&str> = scopes.iter().chain(governing).collect();
    let rows = store::scopes_by_names(c, &names)?;
    let mut requirements = approval::requirements(&rows);
    if let (Some(requirements), Some(details)) = (requirements.as_mut(), details) {
        requirements.action_types = details
            .action_types
            .iter()
            .map(|t| (t.name.clone(), t.version))
            .collect();
    }
    if details.is_some() && requirements.is_none() {
        return Err(refused(
            "the types of authorization_details are no longer approved by anyone; ask an admin",
        ));
    }
    Ok((rows, requirements))
}

/// The decision hooks to ask about `details`: one call per entry whose action type
/// has a hook, with what the hook is told (the entry, the requester and their groups,
/// the client, the channel, the binding message).
pub fn hook_calls(
    c: &mut DbConn,
    details: &RequestedDetails,
    requester: &crate::ids::UserId,
    client_id: &str,
    (channel, binding_message): (&str, Option<&str>),
) -> Result<Vec<HookCall>, OAuthError> {
    let hooked = details.action_types.iter().any(|t| t.hook_url.is_some());
    if !hooked {
        return Ok(Vec::new());
    }
    let username = store::user_by_id(c, requester)?
        .map(|u| u.username)
        .unwrap_or_default();
    let groups = store::groups_of_user(c, requester)?;
    let mut calls = Vec::new();
    for (entry, value) in details.details.entries().iter().enumerate() {
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(action_type) = details.action_types.iter().find(|t| t.name == kind) else {
            continue;
        };
        let Some(url) = &action_type.hook_url else {
            continue;
        };
        calls.push(HookCall {
            action_type: action_type.name.clone(),
            entry,
            url: url.clone(),
            timeout_ms: u64::try_from(action_type.hook_timeout_ms).unwrap_or(2000),
            failure: action_type.hook_failure,
            body: hooks::question(
                kind,
                value,
                (&username, &groups),
                client_id,
                channel,
                binding_message,
            ),
        });
    }
    Ok(calls)
}

/// Checks a JSON Schema an admin registers: valid JSON, a valid schema, and one that
/// requires the `type` member an entry of this type carries.
pub fn check_action_schema(schema: &str) -> Result<Value, String> {
    let value: Value =
        serde_json::from_str(schema).map_err(|e| format!("the schema is not JSON: {e}"))?;
    jsonschema::validator_for(&value)
        .map_err(|e| format!("the schema is not a JSON Schema: {e}"))?;
    Ok(value)
}
