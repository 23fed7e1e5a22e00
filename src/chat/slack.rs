//! Slack's inbound side (DESIGN.md §5.4): interactions are accepted only with a valid
//! `X-Slack-Signature` (v0 HMAC-SHA256, five-minute window, constant-time; see
//! [`notify::slack_verify`](crate::notify::slack_verify)) that was not seen before;
//! the clicking Slack user must be linked to an account, and the vote goes through
//! the desk with the page's rules. A Deny opens a modal asking the reason, since a
//! denial needs one. An unlinked user is sent a signed, single-use, ten-minute link
//! to confirm the link while signed in (a POST on that page: never a GET that binds).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use super::Chat;
use crate::approval::{ChatAccount, ChatRefusal, Decision, Desk};
use crate::crypto;
use crate::notify::slack::{self, SlackInteraction};
use crate::store::{self, StoreError};

/// How long a link token is good for.
const LINK_TTL: i64 = 600;

/// Why Slack's call is refused before anything is read.
#[derive(Debug, thiserror::Error)]
pub enum SlackRefused {
    /// No signing secret is configured: the integration is off (404).
    #[error("Slack interactions are not configured")]
    Off,
    /// Bad, stale or replayed signature (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Not an interaction payload (400).
    #[error("{0}")]
    BadRequest(String),
    /// Storage failed (503).
    // Not `transparent`: the store error must stay in the chain of causes, where the
    // pages look for an unavailable database.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// What to answer Slack, and what to do after answering.
#[derive(Debug)]
pub enum SlackReply {
    /// 200 with no body; then, maybe, tell the clicker something privately.
    Ack {
        /// `(response_url, ephemeral message)`.
        tell: Option<(String, Value)>,
    },
    /// Open the deny-reason modal with this `trigger_id` (must happen within 3 s).
    OpenModal {
        /// From the click.
        trigger_id: String,
        /// The modal.
        view: Value,
    },
    /// 200 with this JSON (the answer to a modal submission).
    Json(Value),
}

impl Chat {
    /// Checks the signature and freshness of a call, refuses replays, and parses it.
    pub fn slack_interaction(
        &self,
        timestamp: &str,
        signature: &str,
        body: &[u8],
        now: i64,
    ) -> Result<SlackInteraction, SlackRefused> {
        let secret = self
            .settings
            .slack
            .as_ref()
            .and_then(|s| s.signing_secret.as_ref())
            .ok_or(SlackRefused::Off)?;
        let sent_at = crate::notify::slack_verify(
            secret.expose_secret().as_bytes(),
            timestamp,
            signature,
            body,
            now,
        )
        .map_err(|e| SlackRefused::Unauthorized(e.to_string()))?;
        let digest = crypto::sha256_hex(signature.as_bytes());
        let expires = sent_at + slack::inbound::MAX_SKEW_SECONDS + 60;
        if !self
            .store
            .write(|c| store::first_sighting(c, &format!("slack:{digest}"), expires, now))?
        {
            return Err(SlackRefused::Unauthorized(
                "this request was already received (replay)".into(),
            ));
        }
        crate::notify::parse_interaction(body).map_err(|e| SlackRefused::BadRequest(e.to_string()))
    }

    /// Acts on a verified interaction.
    pub fn slack_act(&self, desk: &Desk, interaction: SlackInteraction, now: i64) -> SlackReply {
        match interaction {
            SlackInteraction::Ignored => SlackReply::Ack { tell: None },
            SlackInteraction::Decide(click) => {
                let tell = |text: String| SlackReply::Ack {
                    tell: click
                        .response_url
                        .clone()
                        .filter(|url| self.may_answer_at(url))
                        .map(|url| (url, slack::ephemeral(&text))),
                };
                let account = ChatAccount::Slack(&click.user_id);
                if click.decision == Decision::Deny {
                    return match desk.chat_user(account) {
                        Ok(Some(_)) => SlackReply::OpenModal {
                            trigger_id: click.trigger_id.clone(),
                            view: crate::notify::deny_modal(&click.approval_id),
                        },
                        Ok(None) => tell(self.link_invitation(&click.user_id, now)),
                        Err(error) => tell(format!("Not recorded: {error}")),
                    };
                }
                match desk.decide_from_chat(
                    click.approval_id.as_str(),
                    account,
                    Decision::Approve,
                    None,
                    now,
                ) {
                    Ok(_) => tell("You approved this request.".into()),
                    Err(ChatRefusal::Unlinked) => tell(self.link_invitation(&click.user_id, now)),
                    Err(refusal) => tell(format!("Not recorded: {refusal}")),
                }
            }
            SlackInteraction::DenyReason(submitted) => {
                match desk.decide_from_chat(
                    submitted.approval_id.as_str(),
                    ChatAccount::Slack(&submitted.user_id),
                    Decision::Deny,
                    Some(&submitted.reason),
                    now,
                ) {
                    Ok(_) => SlackReply::Json(json!({"response_action": "clear"})),
                    Err(refusal) => SlackReply::Json(slack::deny_modal_error(&format!(
                        "Not recorded: {refusal}"
                    ))),
                }
            }
        }
    }

    /// A `response_url` is only called back at Slack (or at the configured API's
    /// host), never wherever a payload says.
    fn may_answer_at(&self, url: &str) -> bool {
        let Ok(url) = url::Url::parse(url) else {
            return false;
        };
        let api_host = self
            .settings
            .slack
            .as_ref()
            .and_then(|s| url::Url::parse(&s.api_url).ok())
            .and_then(|u| u.host_str().map(str::to_owned));
        match url.host_str() {
            Some("hooks.slack.com") => url.scheme() == "https",
            Some(host) => api_host.as_deref() == Some(host),
            None => false,
        }
    }

    /// The private message inviting an unlinked Slack user to link their account.
    fn link_invitation(&self, slack_user_id: &str, now: i64) -> String {
        format!(
            "Your Slack account is not linked to countersign yet. Sign in and link it here (the link works once, for 10 minutes): {}/integrations/slack/link?token={}",
            self.issuer,
            self.link_token(slack_user_id, now)
        )
    }

    /// A signed token naming `slack_user_id`, good for ten minutes.
    pub fn link_token(&self, slack_user_id: &str, now: i64) -> String {
        let body = URL_SAFE_NO_PAD.encode(format!("{slack_user_id}.{}", now + LINK_TTL));
        let mac = crypto::mac_hex(&self.link_key, &body);
        format!("{body}.{mac}")
    }

    /// The Slack user id a link token names, if it is genuine and unexpired.
    pub fn read_link_token(&self, token: &str, now: i64) -> Option<String> {
        let (body, mac) = token.split_once('.')?;
        let expected = crypto::mac_hex(&self.link_key, body);
        if !crypto::constant_time_eq(expected.as_bytes(), mac.as_bytes()) {
            return None;
        }
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(body).ok()?).ok()?;
        let (slack_user_id, expires) = text.split_once('.')?;
        (expires.parse::<i64>().ok()? > now).then(|| slack_user_id.to_owned())
    }

    /// Uses up a link token (single use); false when it was used before.
    pub fn spend_link_token(&self, token: &str, now: i64) -> Result<bool, StoreError> {
        let digest = crypto::sha256_hex(token.as_bytes());
        self.store.write(|c| {
            store::first_sighting(c, &format!("slack-link:{digest}"), now + LINK_TTL, now)
        })
    }

    /// Links the signed-in `user` to the Slack account a link token names, using the
    /// token up. `Ok(None)`: the token is invalid, expired or already used.
    pub fn link_slack(
        &self,
        user: &crate::store::UserRow,
        token: &str,
        now: i64,
    ) -> Result<Option<String>, crate::manage::ManageError> {
        let Some(slack_user_id) = self.read_link_token(token, now) else {
            return Ok(None);
        };
        if !self.spend_link_token(token, now)? {
            return Ok(None);
        }
        let actor = crate::audit::Actor::User(user.id.clone());
        crate::manage::link_chat(
            &self.store,
            &user.username,
            Some(&slack_user_id),
            None,
            &actor,
            now,
        )?;
        Ok(Some(slack_user_id))
    }

    /// Sends what a reply asks for after the HTTP answer: the modal, or the private
    /// message. Failures are logged (Slack shows its own error for a late modal).
    pub async fn slack_follow_up(&self, reply: &SlackReply) {
        let Some(slack) = &self.settings.slack else {
            return;
        };
        let result = match reply {
            SlackReply::OpenModal { trigger_id, view } => self
                .http
                .post(format!("{}/views.open", slack.api_url))
                .bearer_auth(slack.bot_token.expose_secret())
                .json(&json!({"trigger_id": trigger_id, "view": view}))
                .send()
                .await
                .map(|_| ()),
            SlackReply::Ack {
                tell: Some((url, message)),
            } => self.http.post(url).json(message).send().await.map(|_| ()),
            _ => Ok(()),
        };
        if let Err(error) = result {
            tracing::warn!(error = %error.without_url(), "Slack follow-up failed");
        }
    }
}
