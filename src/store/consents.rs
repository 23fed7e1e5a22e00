//! Remembered consent per user and client (OIDC Core §3.1.2.4).

use diesel::prelude::*;

use super::schema::consents;
use super::{DbConn, StoreError};
use crate::ids::{ClientId, UserId};
use crate::scope_set::ScopeSet;

/// The scopes a user has consented to for a client.
pub fn consented_scopes(
    c: &mut DbConn,
    user_id: &UserId,
    client_id: &ClientId,
) -> Result<Option<ScopeSet>, StoreError> {
    Ok(consents::table
        .find((user_id, client_id))
        .select(consents::scopes)
        .get_result(c)
        .optional()?)
}

/// Records consent, replacing what was remembered.
pub fn save_consent(
    c: &mut DbConn,
    user_id: &UserId,
    client_id: &ClientId,
    scopes: &ScopeSet,
    now: i64,
) -> Result<(), StoreError> {
    diesel::delete(consents::table.find((user_id, client_id))).execute(c)?;
    diesel::insert_into(consents::table)
        .values((
            consents::user_id.eq(user_id),
            consents::client_id.eq(client_id),
            consents::scopes.eq(scopes),
            consents::granted_at.eq(now),
        ))
        .execute(c)?;
    Ok(())
}
