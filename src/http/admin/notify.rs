//! Notification settings in the console (DESIGN.md §5.4), through the CLI's own
//! `manage` calls (checked, audited):
//! - `POST /admin/groups/{name}/notify`: where a group is told of the requests it may
//!   decide (`group set-notify`). The form shows what is set and gives the whole list;
//!   webhook URLs, which carry secrets in their query, are listed redacted and never
//!   shown back: an empty webhook field keeps the one set unless "remove" is chosen.
//! - `POST /admin/users/{name}/chat`: which Slack and Teams accounts are the user's
//!   (`user link-chat`), so their clicks in chat count as theirs; an empty field
//!   unlinks.

use super::users::{act, notice};
use crate::manage::{self, NotifyChanges};
use crate::notify::target::SLACK_MEMBERS;
use crate::notify::{ChannelKind, Target};

/// A group's channel form, filled with what is set (never a webhook URL: its query is
/// a secret; the page says one is set, and it is kept unless replaced or removed).
#[derive(Debug, Default)]
pub(super) struct ChannelForm {
    pub(super) slack_channel: String,
    pub(super) slack_dm: bool,
    pub(super) teams_service_url: String,
    pub(super) teams_conversation: String,
    pub(super) email: String,
    /// Redacted, when one is set.
    pub(super) teams_webhook: Option<String>,
    /// Redacted, when one is set.
    pub(super) webhook: Option<String>,
}

impl ChannelForm {
    pub(super) fn of(targets: &[&Target]) -> Self {
        let mut form = ChannelForm::default();
        for target in targets {
            let destination = target.destination.clone();
            match target.kind {
                ChannelKind::Slack if destination == SLACK_MEMBERS => form.slack_dm = true,
                ChannelKind::Slack => form.slack_channel = destination,
                ChannelKind::TeamsBot => {
                    let (url, conversation) = destination.split_once(' ').unwrap_or_default();
                    form.teams_service_url = url.to_owned();
                    form.teams_conversation = conversation.to_owned();
                }
                ChannelKind::Email => form.email = destination,
                ChannelKind::Teams => form.teams_webhook = Some(target.redacted()),
                ChannelKind::Webhook => form.webhook = Some(target.redacted()),
                // Never a group's channel: written for one CIBA client's request.
                ChannelKind::CibaPing => {}
            }
        }
        form
    }
}
use actix_web::{web, HttpRequest, HttpResponse};

/// `POST /admin/groups/{name}/notify`: `slack_channel`, `slack_dm` (`yes`),
/// `teams_webhook`, `teams_service_url` with `teams_conversation`, `webhook`, `email`.
pub async fn set_notify(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let group = name.into_inner();
    act(state, req, body, move |store, form, actor, now| {
        let field = |name: &str| {
            form.get(name)
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let teams_conversation = match (field("teams_service_url"), field("teams_conversation")) {
            (Some(service_url), Some(conversation)) => Some((service_url, conversation)),
            (None, None) => None,
            _ => {
                return Err(manage::ManageError::Invalid(
                    "a Teams conversation needs both its service URL and its id".into(),
                ))
            }
        };
        // Webhook URLs are never shown back (their query is a secret): an empty field
        // keeps the one set, unless the form says to remove it.
        let existing = manage::group_channels(store, Some(&group))?;
        let kept = |kind: ChannelKind, remove: &str| {
            (form.get(remove) != Some("yes"))
                .then(|| {
                    existing
                        .iter()
                        .find(|(_, target)| target.kind == kind)
                        .map(|(_, target)| target.destination.clone())
                })
                .flatten()
        };
        let changes = NotifyChanges {
            clear: true,
            slack_channel: field("slack_channel"),
            slack_dm: form.get("slack_dm") == Some("yes"),
            teams_webhook: field("teams_webhook")
                .or_else(|| kept(ChannelKind::Teams, "remove_teams_webhook")),
            teams_conversation,
            webhook: field("webhook").or_else(|| kept(ChannelKind::Webhook, "remove_webhook")),
            email: field("email"),
        };
        let targets = manage::set_group_notify(store, &group, changes, actor, now)?;
        Ok(notice(match targets.len() {
            0 => format!("The group {group} is no longer notified."),
            n => format!("The group {group} is notified on {n} channel(s)."),
        }))
    })
    .await
}

use super::super::AppState;

/// `POST /admin/users/{name}/chat`: `slack_user_id`, `teams_user_id` (empty: unlink).
pub async fn link_chat(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let username = name.into_inner();
    act(state, req, body, move |store, form, actor, now| {
        // The form holds both ids: an empty (or absent) one unlinks that account.
        let slack = Some(form.get("slack_user_id").unwrap_or_default().trim());
        let teams = Some(form.get("teams_user_id").unwrap_or_default().trim());
        manage::link_chat(store, &username, slack, teams, actor, now)?;
        Ok(notice(format!(
            "The chat accounts of {username} were saved."
        )))
    })
    .await
}
