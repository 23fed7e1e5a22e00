//! Stored authorization requests: validated `/authorize` parameters waiting for login,
//! consent or the countersignature; state changes are compare-and-swap on `state`.

use diesel::prelude::*;

use super::{DbConn, StoreError};
use crate::ids::{ClientId, RequestId, UserId};
use crate::oidc::authorize::RequestState;

/// A row of `authorization_requests`: a validated authorization request waiting for
/// login, consent or approval.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::store::schema::authorization_requests)]
#[diesel(treat_none_as_default_value = false)]
#[allow(missing_docs)]
pub struct RequestRow {
    pub id: RequestId,
    pub client_id: ClientId,
    pub user_id: Option<UserId>,
    pub params: String,
    pub state: RequestState,
    /// When the user signed in on the login page of this very request.
    pub login_at: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl RequestRow {
    /// True for a CIBA request (its params are `{"flow": "ciba", …}`): no browser
    /// continues it; its client is told.
    pub fn is_backchannel(&self) -> bool {
        serde_json::from_str::<serde_json::Value>(&self.params)
            .is_ok_and(|p| p["flow"] == BACKCHANNEL_FLOW)
    }
}

/// The `flow` of a stored CIBA request's params.
pub const BACKCHANNEL_FLOW: &str = "ciba";

/// Inserts an authorization request.
pub fn insert_request(c: &mut DbConn, row: &RequestRow) -> Result<(), StoreError> {
    use crate::store::schema::authorization_requests as t;
    diesel::insert_into(t::table).values(row).execute(c)?;
    Ok(())
}

/// The authorization request with this id.
pub fn request_by_id(c: &mut DbConn, id: &RequestId) -> Result<Option<RequestRow>, StoreError> {
    use crate::store::schema::authorization_requests as t;
    Ok(t::table
        .find(id)
        .select(RequestRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Moves a request from `from` to `to` (compare-and-swap on the state), binding it to
/// `user_id` on its first move. A request never changes owner: a move by anyone else
/// than the user it is bound to is a `Conflict`.
pub fn transition_request(
    c: &mut DbConn,
    id: &RequestId,
    from: RequestState,
    to: RequestState,
    user_id: &UserId,
) -> Result<(), StoreError> {
    let changed = MoveRequest {
        to: to.as_str(),
        user_id: user_id.as_str(),
        id: id.as_str(),
        from: from.as_str(),
        owner: user_id.as_str(),
    }
    .execute(c)?;
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}

super::cached::cached_statement! {
    /// A request's compare-and-swap move, at every authorization (cached: cached.rs).
    MoveRequest<'a> = "UPDATE authorization_requests SET state = " {
        to: &'a str as diesel::sql_types::Text => ", user_id = ",
        user_id: &'a str as diesel::sql_types::Text => " WHERE id = ",
        id: &'a str as diesel::sql_types::Text => " AND state = ",
        from: &'a str as diesel::sql_types::Text => " AND (user_id IS NULL OR user_id = ",
        owner: &'a str as diesel::sql_types::Text => ")",
    }
}

/// Deletes requests that expired before `now`, except those an approval was made for:
/// the approval (the record of who approved what) keeps its request.
pub fn delete_expired_requests(c: &mut DbConn, now: i64) -> Result<usize, StoreError> {
    use crate::store::schema::{approvals, authorization_requests as t};
    let has_approval =
        diesel::dsl::exists(approvals::table.filter(approvals::request_id.eq(t::id)));
    Ok(diesel::delete(
        t::table
            .filter(t::expires_at.le(now))
            .filter(diesel::dsl::not(has_approval)),
    )
    .execute(c)?)
}

/// Records that the user signed in for this request (`prompt=login` is then satisfied),
/// unless the request is past the states that accept a login.
pub fn note_request_login(c: &mut DbConn, id: &RequestId, at: i64) -> Result<(), StoreError> {
    let [first, second] = ACCEPTING_LOGIN.map(RequestState::as_str);
    NoteRequestLogin {
        at,
        id: id.as_str(),
        first,
        second,
    }
    .execute(c)?;
    Ok(())
}

/// The states whose requests a login still counts for ([`RequestState::accepts_login`];
/// a test holds the two together), bound one by one so the statement is cached.
const ACCEPTING_LOGIN: [RequestState; 2] = [RequestState::Open, RequestState::Consented];

super::cached::cached_statement! {
    /// Notes a login on a request, once per login (cached: cached.rs).
    NoteRequestLogin<'a> = "UPDATE authorization_requests SET login_at = " {
        at: i64 as diesel::sql_types::BigInt => " WHERE id = ",
        id: &'a str as diesel::sql_types::Text => " AND state IN (",
        first: &'a str as diesel::sql_types::Text => ", ",
        second: &'a str as diesel::sql_types::Text => ")",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_states_bound_are_those_that_accept_a_login() {
        let accepting: Vec<RequestState> = RequestState::ALL
            .iter()
            .copied()
            .filter(|state| state.accepts_login())
            .collect();
        assert_eq!(accepting, ACCEPTING_LOGIN);
    }
}
