//! Registered OAuth clients (relying parties).

use diesel::prelude::*;

use super::schema::clients;
use super::{DbConn, StoreError};
use crate::crypto::KeyAlg;
use crate::ids::ClientId;
use crate::oidc::ciba::DeliveryMode;
use crate::scope_set::ScopeSet;

/// A row of `clients`. List columns hold JSON arrays (see [`super::decode_list`]).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clients)]
#[allow(missing_docs)]
pub struct ClientRow {
    pub client_id: ClientId,
    pub name: String,
    pub secret_hash: Option<String>,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub grant_types: String,
    pub allowed_scopes: ScopeSet,
    pub token_endpoint_auth_method: String,
    pub id_token_alg: KeyAlg,
    pub require_pkce: bool,
    pub created_at: i64,
    pub access_token_alg: KeyAlg,
    pub backchannel_token_delivery_mode: Option<DeliveryMode>,
    pub backchannel_client_notification_endpoint: Option<String>,
}

/// Inserts a client.
pub fn insert_client(c: &mut DbConn, row: &ClientRow) -> Result<(), StoreError> {
    diesel::insert_into(clients::table).values(row).execute(c)?;
    Ok(())
}

/// The client with this client_id.
pub fn client_by_id(c: &mut DbConn, client_id: &ClientId) -> Result<Option<ClientRow>, StoreError> {
    Ok(clients::table
        .find(client_id)
        .select(ClientRow::as_select())
        .get_result(c)
        .optional()?)
}

/// Every client, by name.
pub fn list_clients(c: &mut DbConn) -> Result<Vec<ClientRow>, StoreError> {
    Ok(clients::table
        .order((clients::name.asc(), clients::client_id.asc()))
        .select(ClientRow::as_select())
        .load(c)?)
}

/// Deletes a client and, by cascade, its grants, codes, tokens and consents.
pub fn delete_client(c: &mut DbConn, client_id: &ClientId) -> Result<(), StoreError> {
    match diesel::delete(clients::table.find(client_id)).execute(c)? {
        1 => Ok(()),
        _ => Err(StoreError::NotFound),
    }
}

/// Replaces the secret hash.
pub fn set_client_secret_hash(
    c: &mut DbConn,
    client_id: &ClientId,
    hash: &str,
) -> Result<(), StoreError> {
    diesel::update(clients::table.find(client_id))
        .set(clients::secret_hash.eq(hash))
        .execute(c)?;
    Ok(())
}

/// Writes a client's registration back (its id, secret and type stay).
pub fn update_client(c: &mut DbConn, row: &ClientRow) -> Result<(), StoreError> {
    let changed = diesel::update(clients::table.find(&row.client_id))
        .set((
            clients::name.eq(&row.name),
            clients::redirect_uris.eq(&row.redirect_uris),
            clients::post_logout_redirect_uris.eq(&row.post_logout_redirect_uris),
            clients::allowed_scopes.eq(&row.allowed_scopes),
            clients::grant_types.eq(&row.grant_types),
            clients::id_token_alg.eq(&row.id_token_alg),
            clients::access_token_alg.eq(&row.access_token_alg),
            clients::backchannel_token_delivery_mode.eq(&row.backchannel_token_delivery_mode),
            clients::backchannel_client_notification_endpoint
                .eq(&row.backchannel_client_notification_endpoint),
        ))
        .execute(c)?;
    match changed {
        1 => Ok(()),
        _ => Err(StoreError::NotFound),
    }
}
