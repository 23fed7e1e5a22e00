//! The `[notify]` settings (DESIGN.md §5.4): how to reach Slack, Microsoft Teams,
//! webhook consumers and mail, and how the outbox retries. Secrets (bot token, signing
//! secret, webhook secret, SMTP password) come from the file or the environment
//! (`COUNTERSIGN_NOTIFY__SLACK_BOT_TOKEN`, …), are held as `SecretString` and never
//! printed. The base URLs of Slack's API and of the Bot Framework's metadata are
//! settings, so tests point them at local receivers.

use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::{bad, parse_duration, ConfigError};

/// `[notify]` as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawNotify {
    pub slack_bot_token: Option<String>,
    pub slack_signing_secret: Option<String>,
    pub slack_api_url: Option<String>,
    pub teams_app_id: Option<String>,
    pub teams_app_password: Option<String>,
    pub teams_token_url: Option<String>,
    pub teams_metadata_url: Option<String>,
    pub teams_issuers: Option<String>,
    pub webhook_secret: Option<String>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_tls: Option<String>,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    pub smtp_from: Option<String>,
    pub max_attempts: Option<u32>,
    pub reminder_before: Option<String>,
    pub poll_interval: Option<String>,
    pub rate_per_minute: Option<u32>,
}

/// Slack: the bot token posts and updates messages; the signing secret checks the
/// interactions Slack sends back.
#[derive(Debug, Clone)]
pub struct SlackSettings {
    /// `xoxb-…` bot token.
    pub bot_token: SecretString,
    /// Signing secret of the app (needed for the Approve/Deny buttons).
    pub signing_secret: Option<SecretString>,
    /// Base URL of the Web API (`https://slack.com/api`).
    pub api_url: String,
}

/// The Teams bot that receives `Action.Execute` (Workflows webhooks need nothing).
#[derive(Debug, Clone)]
pub struct TeamsSettings {
    /// The bot's Microsoft app id (the tokens' audience).
    pub app_id: Option<String>,
    /// The bot's client secret, to post cards into conversations.
    pub app_password: Option<SecretString>,
    /// Where the bot gets its token for the Bot Connector (client credentials).
    pub token_url: String,
    /// The Bot Framework OpenID metadata URL (its `jwks_uri` gives the keys).
    pub metadata_url: String,
    /// Accepted token issuers.
    pub issuers: Vec<String>,
}

/// How mail is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP (a local relay or a test sink).
    None,
    /// STARTTLS on the submission port.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// An SMTP relay.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// Host name.
    pub host: String,
    /// Port (default 587, 465 for `tls`, 25 for `none`).
    pub port: u16,
    /// Transport security.
    pub tls: SmtpTls,
    /// Login, if the relay wants one.
    pub username: Option<String>,
    /// Password for `username`.
    pub password: Option<SecretString>,
    /// The `From:` address.
    pub from: String,
}

/// Validated `[notify]` settings.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// Slack, when a bot token is set.
    pub slack: Option<SlackSettings>,
    /// The Teams bot.
    pub teams: TeamsSettings,
    /// Secret of the Standard Webhooks signatures (`whsec_…`).
    pub webhook_secret: Option<SecretString>,
    /// Mail, when an SMTP host is set.
    pub smtp: Option<SmtpSettings>,
    /// Attempts before a notification is dead-lettered.
    pub max_attempts: u32,
    /// How long before expiry approvers are reminded of a waiting request.
    pub reminder_before: Option<Duration>,
    /// How often the worker looks for due notifications.
    pub poll_interval: Duration,
    /// Messages per minute to one destination, new requests aside (they are never
    /// held back); the rest wait for the next minute.
    pub rate_per_minute: u32,
}

fn secret(value: Option<String>) -> Option<SecretString> {
    value.filter(|v| !v.is_empty()).map(SecretString::from)
}

impl NotifySettings {
    /// Validates `[notify]`, filling defaults.
    pub fn from_raw(raw: RawNotify) -> Result<Self, ConfigError> {
        let url = |key: &str, value: Option<String>, default: &str| {
            let text = value.unwrap_or_else(|| default.into());
            match url::Url::parse(&text) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {
                    Ok(text.trim_end_matches('/').to_owned())
                }
                _ => Err(bad(key, format!("{text:?} is not an http(s) URL"))),
            }
        };
        let slack = match secret(raw.slack_bot_token) {
            Some(bot_token) => Some(SlackSettings {
                bot_token,
                signing_secret: secret(raw.slack_signing_secret),
                api_url: url(
                    "notify.slack_api_url",
                    raw.slack_api_url,
                    "https://slack.com/api",
                )?,
            }),
            None => None,
        };
        let teams = TeamsSettings {
            app_id: raw.teams_app_id.filter(|v| !v.is_empty()),
            app_password: secret(raw.teams_app_password),
            token_url: url(
                "notify.teams_token_url",
                raw.teams_token_url,
                "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token",
            )?,
            metadata_url: url(
                "notify.teams_metadata_url",
                raw.teams_metadata_url,
                "https://login.botframework.com/v1/.well-known/openidconfiguration",
            )?,
            issuers: raw
                .teams_issuers
                .unwrap_or_else(|| "https://api.botframework.com".into())
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        let smtp = match raw.smtp_host.filter(|h| !h.is_empty()) {
            Some(host) => {
                let tls = match raw.smtp_tls.as_deref().unwrap_or("starttls") {
                    "none" => SmtpTls::None,
                    "starttls" => SmtpTls::StartTls,
                    "tls" => SmtpTls::Tls,
                    other => {
                        return Err(bad(
                            "notify.smtp_tls",
                            format!("{other:?} is not none, starttls or tls"),
                        ))
                    }
                };
                let port = raw.smtp_port.unwrap_or(match tls {
                    SmtpTls::None => 25,
                    SmtpTls::StartTls => 587,
                    SmtpTls::Tls => 465,
                });
                let from = raw
                    .smtp_from
                    .ok_or_else(|| bad("notify.smtp_from", "is required with smtp_host"))?;
                if from.parse::<lettre::message::Mailbox>().is_err() {
                    return Err(bad(
                        "notify.smtp_from",
                        format!("{from:?} is not an address"),
                    ));
                }
                Some(SmtpSettings {
                    host,
                    port,
                    tls,
                    username: raw.smtp_username.filter(|v| !v.is_empty()),
                    password: secret(raw.smtp_password),
                    from,
                })
            }
            None => None,
        };
        let max_attempts = raw.max_attempts.unwrap_or(10);
        if max_attempts == 0 {
            return Err(bad("notify.max_attempts", "must be at least 1"));
        }
        let reminder_before = match raw.reminder_before.as_deref() {
            Some("off") => None,
            other => Some(
                parse_duration(other.unwrap_or("5m"))
                    .map_err(|p| bad("notify.reminder_before", p))?,
            ),
        };
        let poll_interval = parse_duration(raw.poll_interval.as_deref().unwrap_or("250ms"))
            .map_err(|p| bad("notify.poll_interval", p))?;
        Ok(NotifySettings {
            slack,
            teams,
            webhook_secret: secret(raw.webhook_secret),
            smtp,
            max_attempts,
            reminder_before,
            poll_interval,
            rate_per_minute: match raw.rate_per_minute.unwrap_or(20) {
                0 => return Err(bad("notify.rate_per_minute", "must be at least 1")),
                n => n,
            },
        })
    }
}
