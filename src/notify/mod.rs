//! Notifying approvers and pushing outcomes (DESIGN.md §5.4;
//! research/notifications-and-chat.md): what each channel shows and how each channel's
//! inbound calls are checked. Everything here is a pure function: renderers take an
//! [`ApprovalSnapshot`] (loaded by the caller in the transaction that wrote the outbox
//! row) and return the payload; verifiers take the bytes, the keys and `now`. Delivery,
//! retries, replay stores and key fetching are the outbox worker's, elsewhere.
//!
//! - [`slack`]: Block Kit messages, the deny-reason modal, request signatures and
//!   interaction payloads.
//! - [`teams`]: Adaptive Cards for Workflows webhooks (link only) and for the bot
//!   (`Action.Execute`), `adaptiveCard/action` invokes and Bot Framework tokens.
//! - [`webhook`]: Standard Webhooks events, signatures and the retry schedule.
//! - [`email`]: subject, text and HTML bodies.
//!
//! Chat never bypasses step-up: unless the snapshot says the policy lets chat decide
//! ([`ApprovalSnapshot::chat_decisions`]), every channel shows only a link to the page.

pub mod digest;
pub mod email;
pub mod slack;
pub mod snapshot;
pub mod target;
pub mod teams;
pub mod webhook;

pub use email::{email_message, EmailContent};
pub use slack::{deny_modal, parse_interaction, slack_message, slack_verify};
pub use snapshot::{ApprovalSnapshot, Event, ScopeLine, VoteLine};
pub use target::{ChannelKind, Target};
pub use teams::{
    invoke_error, invoke_response, parse_invoke, teams_bot_card, teams_workflow_message,
    verify_bot_token, BotJwks,
};
