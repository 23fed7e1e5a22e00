//! Sending one rendered notification over its channel: Slack's Web API
//! (`chat.postMessage`, then `chat.update` in place), a Teams Workflows webhook, a
//! Standard Webhooks endpoint (signed; the outbox row id is the `webhook-id`, so a
//! receiver can drop a repeat), and SMTP. Each answers [`Sent`] or [`Failed`], and a
//! failure says whether trying again can help.

use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::config::{NotifySettings, SmtpTls};
use crate::notify::{self, webhook, ApprovalSnapshot, Event};

/// What a sent Slack message is known by (to update it later).
#[derive(Debug)]
pub enum Sent {
    /// Delivered.
    Done,
    /// Delivered; the chat message's reference (`channel ts`) to update in place.
    Posted(String),
}

/// A failed attempt.
#[derive(Debug)]
pub struct Failed {
    /// What went wrong (no secrets).
    pub error: String,
    /// Trying again may help (else the row is dead-lettered at once).
    pub retry: bool,
    /// The receiver asked to wait this long (seconds).
    pub retry_after: Option<i64>,
}

impl Failed {
    /// A failure, worth another attempt or not.
    pub(super) fn new(error: impl Into<String>, retry: bool) -> Self {
        Failed {
            error: error.into(),
            retry,
            retry_after: None,
        }
    }

    /// A failure worth another attempt.
    pub(super) fn retry(error: impl Into<String>) -> Self {
        Failed::new(error, true)
    }

    /// A failure no retry can fix (the row is dead-lettered).
    pub(super) fn fatal(error: impl Into<String>) -> Self {
        Failed::new(error, false)
    }
}

/// The HTTP and SMTP clients of the worker.
pub struct Channels {
    http: reqwest::Client,
    teams_bot: super::teams_bot::BotToken,
    mailer: Option<AsyncSmtpTransport<Tokio1Executor>>,
    settings: NotifySettings,
}

/// Slack errors that no retry fixes (an administrator must act, then `outbox retry`).
const SLACK_FATAL: &[&str] = &[
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "missing_scope",
    "invalid_blocks",
    "msg_too_long",
];

fn retry_after(response: &reqwest::Response) -> Option<i64> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

fn http_failure(status: reqwest::StatusCode, after: Option<i64>) -> Failed {
    let retry = match webhook::classify_status(status.as_u16()) {
        webhook::DeliveryOutcome::DisableEndpoint => false,
        _ => status.is_server_error() || matches!(status.as_u16(), 408 | 425 | 429),
    };
    Failed {
        error: format!("the receiver answered {status}"),
        retry,
        retry_after: after,
    }
}

impl Channels {
    /// The clients for `settings`.
    pub fn new(settings: NotifySettings) -> Result<Self, String> {
        // reqwest is built without a default crypto provider; use aws-lc-rs, like
        // the rest of the server (a second install is harmless and ignored).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            // A receiver that redirects does not get the signed body (or a CIBA
            // client's bearer token) sent somewhere else: a redirect is a failure.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("countersign/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let mailer = match &settings.smtp {
            None => None,
            Some(smtp) => {
                let builder = match smtp.tls {
                    SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                        &smtp.host,
                    )),
                    SmtpTls::StartTls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                    }
                    SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host),
                }
                .map_err(|e| format!("SMTP relay {}: {e}", smtp.host))?;
                let mut builder = builder
                    .port(smtp.port)
                    .timeout(Some(Duration::from_secs(15)));
                if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
                    builder = builder.credentials(
                        lettre::transport::smtp::authentication::Credentials::new(
                            user.clone(),
                            password.expose_secret().to_owned(),
                        ),
                    );
                }
                Some(builder.build())
            }
        };
        Ok(Channels {
            http,
            teams_bot: super::teams_bot::BotToken::default(),
            mailer,
            settings,
        })
    }

    /// Posts (no `existing` message) or updates the Slack message for `s`.
    pub async fn slack(
        &self,
        channel: &str,
        existing: Option<&str>,
        s: &ApprovalSnapshot,
    ) -> Result<Sent, Failed> {
        let mut body = notify::slack_message(s);
        match existing.and_then(|r| r.split_once(' ')) {
            Some((posted_channel, ts)) => {
                body["channel"] = posted_channel.into();
                body["ts"] = ts.into();
                match self.slack_call("chat.update", &body).await {
                    // The message was deleted: post it again next time.
                    Err(failed) if failed.error.ends_with("message_not_found") => {
                        Err(Failed::retry(failed.error))
                    }
                    other => other.map(|_| Sent::Done),
                }
            }
            None => {
                body["channel"] = channel.into();
                let answer = self.slack_call("chat.postMessage", &body).await?;
                match (answer["channel"].as_str(), answer["ts"].as_str()) {
                    (Some(channel), Some(ts)) => Ok(Sent::Posted(format!("{channel} {ts}"))),
                    _ => Ok(Sent::Done),
                }
            }
        }
    }

    /// Posts `body` as a new Slack message in `channel` (reminders, digests).
    pub async fn slack_new(&self, channel: &str, mut body: Value) -> Result<Sent, Failed> {
        body["channel"] = channel.into();
        self.slack_call("chat.postMessage", &body)
            .await
            .map(|_| Sent::Done)
    }

    /// Calls a Slack Web API method with the bot token; its answer when `ok`.
    async fn slack_call(&self, method: &str, body: &Value) -> Result<Value, Failed> {
        let Some(slack) = &self.settings.slack else {
            return Err(Failed::fatal("notify.slack_bot_token is not set"));
        };
        let response = self
            .http
            .post(format!("{}/{method}", slack.api_url))
            .bearer_auth(slack.bot_token.expose_secret())
            .json(body)
            .send()
            .await
            .map_err(|e| Failed::retry(format!("Slack {method}: {}", without_url(&e))))?;
        let status = response.status();
        let after = retry_after(&response);
        if !status.is_success() {
            return Err(http_failure(status, after));
        }
        let answer: Value = response
            .json()
            .await
            .map_err(|e| Failed::retry(format!("Slack {method}: unreadable answer: {e}")))?;
        if answer["ok"] != true {
            let error = answer["error"].as_str().unwrap_or("unknown_error");
            return Err(Failed {
                error: format!("Slack {method}: {error}"),
                retry: !SLACK_FATAL.contains(&error),
                retry_after: after,
            });
        }
        Ok(answer)
    }

    /// Posts (or updates) the Teams bot's card in a conversation.
    pub async fn teams_bot(
        &self,
        destination: &str,
        existing: Option<&str>,
        s: &ApprovalSnapshot,
    ) -> Result<Sent, Failed> {
        self.teams_bot
            .send(&self.http, &self.settings.teams, destination, existing, s)
            .await
    }

    /// Posts an Adaptive Card to a Teams Workflows webhook.
    pub async fn teams(&self, url: &str, s: &ApprovalSnapshot) -> Result<Sent, Failed> {
        let response = self
            .http
            .post(url)
            .json(&notify::teams_workflow_message(s))
            .send()
            .await
            .map_err(|e| Failed::retry(format!("Teams webhook: {}", without_url(&e))))?;
        match response.status() {
            status if status.is_success() => Ok(Sent::Done),
            status => Err(http_failure(status, retry_after(&response))),
        }
    }

    /// Pings a CIBA client (CIBA Core §10.2): `body` to its endpoint with its bearer
    /// token; any 2xx is accepted (the spec expects 204 but a 200 is no failure).
    pub async fn ciba_ping(&self, url: &str, token: &str, body: &Value) -> Result<Sent, Failed> {
        let response = self
            .http
            .post(url)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .map_err(|e| Failed::retry(format!("CIBA ping: {}", without_url(&e))))?;
        match response.status() {
            status if status.is_success() => Ok(Sent::Done),
            status => Err(http_failure(status, retry_after(&response))),
        }
    }

    /// Sends a signed Standard Webhooks event; `msg_id` is its idempotency key.
    pub async fn webhook(
        &self,
        url: &str,
        msg_id: &str,
        event: Event,
        s: &ApprovalSnapshot,
    ) -> Result<Sent, Failed> {
        let Some(secret) = &self.settings.webhook_secret else {
            return Err(Failed::fatal("notify.webhook_secret is not set"));
        };
        let body = webhook::event_body(s, event).to_string();
        let signature = webhook::sign(secret.expose_secret(), msg_id, s.now, body.as_bytes())
            .map_err(|e| Failed::fatal(format!("webhook signature: {e}")))?;
        let response = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", msg_id)
            .header("webhook-timestamp", s.now.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| Failed::retry(format!("webhook: {}", without_url(&e))))?;
        match response.status() {
            status if status.is_success() => Ok(Sent::Done),
            status => Err(http_failure(status, retry_after(&response))),
        }
    }

    /// Mails `s` to `to`; `msg_id` becomes the `Message-ID`.
    pub async fn email(
        &self,
        to: &str,
        msg_id: &str,
        event: Event,
        s: &ApprovalSnapshot,
    ) -> Result<Sent, Failed> {
        let content = notify::email_message(s, event).map_err(|e| Failed::fatal(e.to_string()))?;
        self.mail(to, msg_id, content).await
    }

    /// Mails `content` to `to`; `msg_id` becomes the `Message-ID`.
    pub async fn mail(
        &self,
        to: &str,
        msg_id: &str,
        content: notify::EmailContent,
    ) -> Result<Sent, Failed> {
        let (Some(mailer), Some(smtp)) = (&self.mailer, &self.settings.smtp) else {
            return Err(Failed::fatal("notify.smtp_host is not set"));
        };
        let from: Mailbox = smtp
            .from
            .parse()
            .map_err(|_| Failed::fatal("notify.smtp_from is not an address"))?;
        let to: Mailbox = to
            .parse()
            .map_err(|_| Failed::fatal(format!("{to:?} is not an address")))?;
        let domain = smtp.from.rsplit('@').next().unwrap_or("countersign");
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(content.subject)
            .message_id(Some(format!("<{msg_id}@{domain}>")))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(content.text),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(content.html),
                    ),
            )
            .map_err(|e| Failed::fatal(format!("email: {e}")))?;
        match mailer.send(message).await {
            Ok(_) => Ok(Sent::Done),
            Err(e) if e.is_permanent() => Err(Failed::fatal(format!("SMTP: {e}"))),
            Err(e) => Err(Failed::retry(format!("SMTP: {e}"))),
        }
    }
}

/// A reqwest error without its URL (a webhook URL may carry a secret).
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    kind.to_owned()
}
