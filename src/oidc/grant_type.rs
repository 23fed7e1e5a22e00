//! The grant types this provider implements (RFC 6749 §4.1, §4.4, §6; CIBA Core §10.1), by their wire
//! names: what a client is registered for, and what `/token` dispatches on.

use crate::named::named_enum;

named_enum! {
    /// A `grant_type` (RFC 6749 §4.1.3, §4.4.2, §6).
    pub enum GrantType {
        /// The code flow (RFC 6749 §4.1).
        AuthorizationCode = "authorization_code",
        /// Refreshing (RFC 6749 §6).
        RefreshToken = "refresh_token",
        /// A client acting on its own behalf (RFC 6749 §4.4).
        ClientCredentials = "client_credentials",
        /// A client polling for the outcome of a backchannel request (CIBA Core §10.1).
        Ciba = "urn:openid:params:grant-type:ciba",
    }
}
