//! The ping callback (CIBA Core §10.2): once a ping client's request is decided, the
//! OP POSTs `{"auth_req_id": …}` to the client's registered notification endpoint with
//! `Authorization: Bearer <client_notification_token>`, and the client then fetches
//! the outcome at the token endpoint. The ping is an outbox row written in the
//! transaction of the decision (never lost, retried like any notification); its two
//! secrets are sealed at rest and opened only by the worker that sends it.

use serde_json::{json, Value};

use super::request::PingSecrets;
use super::DeliveryMode;
use crate::crypto::Sealer;
use crate::ids::ApprovalId;
use crate::store::{self, DbConn, StoreError};

/// The notification endpoint to ping about this approval, when it was made for a
/// ping-mode backchannel request.
pub fn endpoint_for(c: &mut DbConn, approval: &ApprovalId) -> Result<Option<String>, StoreError> {
    let Some(request) = store::backchannel_of_approval(c, approval)? else {
        return Ok(None);
    };
    if request.delivery_mode != DeliveryMode::Ping {
        return Ok(None);
    }
    Ok(store::client_by_id(c, &request.client_id)?
        .and_then(|client| client.backchannel_client_notification_endpoint))
}

/// What to send for this approval's ping: the bearer token and the JSON body.
pub fn message(
    c: &mut DbConn,
    sealer: &Sealer,
    approval: &ApprovalId,
) -> Result<Result<(String, Value), String>, StoreError> {
    let sealed = store::backchannel_of_approval(c, approval)?.and_then(|r| r.ping_sealed);
    let Some(sealed) = sealed else {
        return Ok(Err("the request has no ping secrets".into()));
    };
    Ok(sealer
        .open(&sealed)
        .and_then(|text| serde_json::from_str::<PingSecrets>(&text).map_err(|e| e.to_string()))
        .map(|secrets| {
            (
                secrets.client_notification_token,
                json!({"auth_req_id": secrets.auth_req_id}),
            )
        }))
}
