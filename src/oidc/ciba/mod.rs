//! OpenID Connect Client-Initiated Backchannel Authentication (CIBA Core 1.0), poll
//! and ping modes, with the countersignature twist of DESIGN.md §5.2: `login_hint`
//! names the *subject* the client acts for, and the approval policy of the requested
//! sensitive scopes and `authorization_details` types (RFC 9396) picks the *approvers*.
//!
//! - [`request`]: `POST /bc-authorize` (CIBA §7): validates, stores the request and
//!   its approval in one transaction, and acknowledges with `auth_req_id` (§7.3).
//! - [`poll`]: the `urn:openid:params:grant-type:ciba` token request (§10.1, §11).
//! - [`ping`]: the ping callback's payload (§10.2), sent by the outbox worker.

pub mod ping;
pub mod poll;
pub mod request;

use crate::named::named_enum;

/// The grant type of the CIBA token request (CIBA §10.1).
pub const CIBA_GRANT_TYPE: &str = "urn:openid:params:grant-type:ciba";

/// Seconds between two polls unless the client is told to slow down (CIBA §7.3).
pub const POLL_INTERVAL: i64 = 5;

/// What `slow_down` adds to the interval, for this and every later poll (CIBA §11,
/// RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: i64 = 5;

named_enum! {
    /// How a client learns that a backchannel request was decided (CIBA §5).
    pub enum DeliveryMode {
        /// The client polls the token endpoint.
        Poll = "poll",
        /// The OP calls the client's notification endpoint, then the client fetches
        /// the tokens at the token endpoint.
        Ping = "ping",
    }
}

named_enum! {
    /// Where a backchannel request stands for the client polling it.
    pub enum BackchannelState {
        /// Waiting for the approvers (or decided, not yet fetched).
        Waiting = "waiting",
        /// Its tokens were issued: the `auth_req_id` is used up.
        Issued = "issued",
        /// It ended without tokens and the client was told so.
        Ended = "ended",
    }
}
