//! Notification settings in the console (DESIGN.md §5.4), through the CLI's own
//! `manage` calls (checked, audited):
//! - `POST /admin/groups/{name}/notify`: where a group is told of the requests it may
//!   decide (`group set-notify`). The form gives the whole list (an empty form clears
//!   it); webhook URLs, which carry secrets in their query, are listed redacted.
//! - `POST /admin/users/{name}/chat`: which Slack and Teams accounts are the user's
//!   (`user link-chat`), so their clicks in chat count as theirs; an empty field
//!   unlinks.

use super::users::{act, notice};
use crate::manage::{self, NotifyChanges};
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
        let changes = NotifyChanges {
            clear: true,
            slack_channel: field("slack_channel"),
            slack_dm: form.get("slack_dm") == Some("yes"),
            teams_webhook: field("teams_webhook"),
            teams_conversation,
            webhook: field("webhook"),
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
