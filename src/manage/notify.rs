//! Notification settings that administrators change (DESIGN.md §5.4): where each group
//! is told of requests (`group set-notify`), which chat accounts are whose (`user
//! link-chat`), and reviving dead notifications (`outbox retry`). Each change is
//! audited; webhook URLs are recorded redacted, since their query carries a secret.

use serde_json::json;

use super::groups::require_group;
use super::users::require_user;
use super::{conflict, ManageError};
use crate::audit::{self, Actor, AuditAction};
use crate::notify::target::SLACK_MEMBERS;
use crate::notify::{ChannelKind, Target};
use crate::store::{self, OutboxFilter, OutboxRow, Store, StoreError};

/// The channels to set on a group; `clear` first removes every channel it has.
#[derive(Debug, Default, Clone)]
pub struct NotifyChanges {
    /// Remove every channel before setting the given ones.
    pub clear: bool,
    /// Slack channel id (`C…`/`G…`).
    pub slack_channel: Option<String>,
    /// Instead of a channel: a Slack DM to each linked member.
    pub slack_dm: bool,
    /// Teams Workflows webhook URL.
    pub teams_webhook: Option<String>,
    /// A Teams conversation for the bot: `(serviceUrl, conversation id)`.
    pub teams_conversation: Option<(String, String)>,
    /// Standard Webhooks endpoint URL.
    pub webhook: Option<String>,
    /// Email address.
    pub email: Option<String>,
}

/// True for a Slack id: an upper-case letter then upper-case letters and digits.
pub fn is_slack_id(id: &str, kinds: &[char]) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| kinds.contains(&c))
        && id.len() >= 3
        && id.len() <= 32
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// An https URL, or http to a loopback host (a local receiver, as tests use).
fn check_url(flag: &str, text: &str) -> Result<(), ManageError> {
    let invalid = || ManageError::Invalid(format!("{flag} must be an https URL"));
    let url = url::Url::parse(text).map_err(|_| invalid())?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(invalid()),
    }
}

impl NotifyChanges {
    fn targets(&self) -> Result<Vec<Target>, ManageError> {
        let mut targets = Vec::new();
        if let Some(channel) = &self.slack_channel {
            if !is_slack_id(channel, &['C', 'G']) {
                return Err(ManageError::Invalid(format!(
                    "--slack-channel {channel:?} is not a Slack channel id like C0123456789"
                )));
            }
            targets.push(Target::new(ChannelKind::Slack, channel));
        }
        if self.slack_dm {
            if self.slack_channel.is_some() {
                return Err(ManageError::Invalid(
                    "give --slack-channel or --slack-dm, not both".into(),
                ));
            }
            targets.push(Target::new(ChannelKind::Slack, SLACK_MEMBERS));
        }
        if let Some(url) = &self.teams_webhook {
            check_url("--teams-webhook", url)?;
            targets.push(Target::new(ChannelKind::Teams, url));
        }
        if let Some((service_url, conversation)) = &self.teams_conversation {
            check_url("--teams-service-url", service_url)?;
            if conversation.is_empty() || conversation.contains(char::is_whitespace) {
                return Err(ManageError::Invalid(format!(
                    "--teams-conversation {conversation:?} is not a Teams conversation id"
                )));
            }
            targets.push(Target::new(
                ChannelKind::TeamsBot,
                format!("{} {conversation}", service_url.trim_end_matches('/')),
            ));
        }
        if let Some(url) = &self.webhook {
            check_url("--webhook", url)?;
            targets.push(Target::new(ChannelKind::Webhook, url));
        }
        if let Some(address) = &self.email {
            if address.parse::<lettre::Address>().is_err() {
                return Err(ManageError::Invalid(format!(
                    "--email {address:?} is not an email address"
                )));
            }
            targets.push(Target::new(ChannelKind::Email, address));
        }
        if targets.is_empty() && !self.clear {
            return Err(ManageError::Invalid(
                "give --slack-channel, --slack-dm, --teams-webhook, --teams-conversation, --webhook, --email or --clear"
                    .into(),
            ));
        }
        Ok(targets)
    }
}

/// The channels of `group` (or of every group), redacted for display:
/// `(group, target)`.
pub fn group_channels(
    store: &Store,
    group: Option<&str>,
) -> Result<Vec<(String, Target)>, ManageError> {
    store.read(|c| {
        let groups = match group {
            Some(name) => Some(vec![require_group(c, name)?.name]),
            None => None,
        };
        Ok(store::group_channels_of(c, groups.as_deref())?
            .into_iter()
            .filter_map(|(group, kind, destination)| {
                ChannelKind::parse(&kind).map(|kind| (group, Target::new(kind, destination)))
            })
            .collect())
    })
}

/// Sets where `group` is notified.
pub fn set_group_notify(
    store: &Store,
    group: &str,
    changes: NotifyChanges,
    actor: &Actor,
    now: i64,
) -> Result<Vec<Target>, ManageError> {
    let targets = changes.targets()?;
    store.write(|c| {
        let row = require_group(c, group)?;
        let redacted = |list: &[(String, String, String)]| -> Vec<String> {
            list.iter()
                .filter_map(|(_, k, d)| ChannelKind::parse(k).map(|k| Target::new(k, d.clone())))
                .map(|t| t.redacted())
                .collect()
        };
        let before = store::group_channels_of(c, Some(std::slice::from_ref(&row.name)))?;
        if changes.clear {
            store::clear_group_channels(c, &row.name)?;
        }
        for target in &targets {
            store::set_group_channel(c, &row.name, target.kind.as_str(), &target.destination, now)?;
        }
        let after = store::group_channels_of(c, Some(std::slice::from_ref(&row.name)))?;
        audit::record(
            c,
            actor,
            AuditAction::GroupNotifyChanged,
            &format!("group:{}", row.name),
            json!({"before": redacted(&before), "after": redacted(&after)}),
            now,
        )?;
        Ok(targets.clone())
    })
}

/// Links `username` to a Slack user id and/or a Teams (Entra object) id; an empty
/// value unlinks. A chat account belongs to at most one user.
pub fn link_chat(
    store: &Store,
    username: &str,
    slack: Option<&str>,
    teams: Option<&str>,
    actor: &Actor,
    now: i64,
) -> Result<(), ManageError> {
    if let Some(id) = slack.filter(|id| !id.is_empty() && !is_slack_id(id, &['U', 'W'])) {
        return Err(ManageError::Invalid(format!(
            "{id:?} is not a Slack user id like U0123456789"
        )));
    }
    if let Some(id) = teams.filter(|id| !id.is_empty() && uuid::Uuid::parse_str(id).is_err()) {
        return Err(ManageError::Invalid(format!(
            "{id:?} is not a Teams (Entra) object id"
        )));
    }
    store.write(|c| {
        let user = require_user(c, username)?;
        let keep = |new: Option<&str>, old: &Option<String>| match new {
            Some("") => None,
            Some(id) => Some(id.to_owned()),
            None => old.clone(),
        };
        let slack_id = keep(slack, &user.slack_user_id);
        // Entra object ids are GUIDs; Teams may send them in either case.
        let teams_id = keep(teams, &user.teams_user_id).map(|id| id.to_ascii_lowercase());
        store::set_chat_ids(c, &user.id, slack_id.as_deref(), teams_id.as_deref()).map_err(
            conflict("that chat account is already linked to another user".into()),
        )?;
        let details = json!({"before": {"slack": user.slack_user_id, "teams": user.teams_user_id},
            "after": {"slack": slack_id, "teams": teams_id}});
        audit::record(
            c,
            actor,
            AuditAction::UserChatLinked,
            &format!("user:{username}"),
            details,
            now,
        )?;
        Ok(())
    })
}

/// Outbox rows for `outbox list`.
pub fn list_outbox(
    store: &Store,
    filter: OutboxFilter,
    limit: i64,
) -> Result<Vec<OutboxRow>, ManageError> {
    Ok(store.read(|c| store::list_outbox(c, filter, limit))?)
}

/// Puts an undelivered notification back to be sent now.
pub fn retry_outbox(store: &Store, id: &str, actor: &Actor, now: i64) -> Result<(), ManageError> {
    store.write(|c| {
        store::retry_outbox(c, id, now).map_err(|e| match e {
            StoreError::NotFound => {
                ManageError::NotFound(format!("no undelivered notification {id:?}"))
            }
            other => other.into(),
        })?;
        audit::record(
            c,
            actor,
            AuditAction::OutboxRetried,
            &format!("outbox:{id}"),
            json!({}),
            now,
        )?;
        Ok(())
    })
}
