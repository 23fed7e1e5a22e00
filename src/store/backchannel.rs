//! CIBA backchannel requests (CIBA Core §7-§11): what the token endpoint needs to
//! answer a poll (the `auth_req_id` as its SHA-256, the interval and when the next
//! poll may come) and what a ping needs (sealed). State changes are compare-and-swap.

use diesel::prelude::*;

use super::schema::backchannel_requests;
use super::{DbConn, StoreError};
use crate::ids::{ApprovalId, ClientId, RequestId, UserId};
use crate::oidc::ciba::{BackchannelState, DeliveryMode};

/// A row of `backchannel_requests`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = backchannel_requests)]
#[diesel(treat_none_as_default_value = false)]
#[allow(missing_docs)]
pub struct BackchannelRow {
    pub request_id: RequestId,
    pub auth_req_hash: String,
    pub client_id: ClientId,
    pub user_id: UserId,
    pub approval_id: ApprovalId,
    pub delivery_mode: DeliveryMode,
    /// For ping clients: `auth_req_id` and `client_notification_token`, sealed.
    pub ping_sealed: Option<String>,
    pub poll_interval: i64,
    pub next_poll_at: i64,
    pub state: BackchannelState,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Inserts a backchannel request.
pub fn insert_backchannel(c: &mut DbConn, row: &BackchannelRow) -> Result<(), StoreError> {
    diesel::insert_into(backchannel_requests::table)
        .values(row)
        .execute(c)?;
    Ok(())
}

/// The backchannel request whose `auth_req_id` hashes to `hash`.
pub fn backchannel_by_hash(
    c: &mut DbConn,
    hash: &str,
) -> Result<Option<BackchannelRow>, StoreError> {
    Ok(backchannel_requests::table
        .filter(backchannel_requests::auth_req_hash.eq(hash))
        .select(BackchannelRow::as_select())
        .get_result(c)
        .optional()?)
}

/// The backchannel request an approval was made for, if it was made for one.
pub fn backchannel_of_approval(
    c: &mut DbConn,
    approval_id: &ApprovalId,
) -> Result<Option<BackchannelRow>, StoreError> {
    Ok(backchannel_requests::table
        .filter(backchannel_requests::approval_id.eq(approval_id))
        .select(BackchannelRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Records a poll: the next one may come at `next_poll_at`, with `interval`.
pub fn note_backchannel_poll(
    c: &mut DbConn,
    request_id: &RequestId,
    interval: i64,
    next_poll_at: i64,
) -> Result<(), StoreError> {
    diesel::update(backchannel_requests::table.find(request_id))
        .set((
            backchannel_requests::poll_interval.eq(interval),
            backchannel_requests::next_poll_at.eq(next_poll_at),
        ))
        .execute(c)?;
    Ok(())
}

/// Moves a request from `Waiting` to `to` (compare-and-swap): `Conflict` when another
/// poll got there first.
pub fn finish_backchannel(
    c: &mut DbConn,
    request_id: &RequestId,
    to: BackchannelState,
) -> Result<(), StoreError> {
    let changed = diesel::update(
        backchannel_requests::table
            .find(request_id)
            .filter(backchannel_requests::state.eq(BackchannelState::Waiting)),
    )
    .set(backchannel_requests::state.eq(to))
    .execute(c)?;
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}
