//! Notifications (DESIGN.md §5.4), against local receivers standing in for Slack's Web
//! API, a Teams Workflows webhook, a webhook consumer and an SMTP relay: what reaches
//! each channel, the Slack message updated in place, retries, dead letters and
//! resumption after a restart; and approvers deciding from Slack and from the Teams bot.

mod claims;
mod delivery;
mod outcomes;
mod slack;
pub(crate) mod support;
mod teams_bot;
mod teams_post;
mod teams_support;
