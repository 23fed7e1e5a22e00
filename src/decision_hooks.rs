//! Calls decision hooks (issue 20; [`crate::approval::hooks`]): one signed POST per
//! `authorization_details` entry whose action type has a hook, each bounded by the
//! type's timeout, made before the transaction that creates the approval (never while
//! holding the database). Bodies are signed like the notification webhooks (Standard
//! Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` with
//! `notify.webhook_secret`), so a hook checks them with the same code. Redirects are
//! not followed: the signed question goes only where the admin registered.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::approval::hooks::{HookCall, HookVerdict};
use crate::crypto;
use crate::notify::webhook;

/// The HTTP client of the decision hooks, with the secret it signs with.
#[derive(Clone)]
pub struct HookClient {
    http: reqwest::Client,
    secret: Option<SecretString>,
}

impl HookClient {
    /// A client signing with `secret` (`notify.webhook_secret`); without one, every
    /// hook fails and its degraded mode applies.
    pub fn new(secret: Option<SecretString>) -> Result<Self, String> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("countersign/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(HookClient { http, secret })
    }

    /// Asks every hook in turn; a hook that fails gets its degraded mode.
    pub async fn consult(&self, calls: Vec<HookCall>, now: i64) -> Vec<HookVerdict> {
        let mut verdicts = Vec::with_capacity(calls.len());
        for call in calls {
            let verdict = self.ask(&call, now).await;
            if verdict.degraded.is_some() {
                tracing::warn!(action_type = %call.action_type, reason = ?verdict.reason, "decision hook failed; its degraded mode applies");
            }
            verdicts.push(verdict);
        }
        verdicts
    }

    async fn ask(&self, call: &HookCall, now: i64) -> HookVerdict {
        let Some(secret) = &self.secret else {
            return HookVerdict::failed(
                call,
                "notify.webhook_secret is not set, so the hook cannot be signed",
            );
        };
        let body = call.body.to_string();
        let msg_id = format!("hook_{}", crypto::random_token(16));
        let Ok(signature) = webhook::sign(secret.expose_secret(), &msg_id, now, body.as_bytes())
        else {
            return HookVerdict::failed(call, "the hook could not be signed");
        };
        let sent = self
            .http
            .post(&call.url)
            .timeout(Duration::from_millis(call.timeout_ms))
            .header("content-type", "application/json")
            .header("webhook-id", &msg_id)
            .header("webhook-timestamp", now.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) if error.is_timeout() => {
                return HookVerdict::failed(
                    call,
                    format!("no answer within {} ms", call.timeout_ms),
                )
            }
            Err(_) => return HookVerdict::failed(call, "the hook could not be reached"),
        };
        let status = response.status();
        if !status.is_success() {
            return HookVerdict::failed(call, format!("the hook answered {}", status.as_u16()));
        }
        match response.json::<Value>().await {
            Ok(answer) => HookVerdict::from_answer(call, &answer),
            Err(error) if error.is_timeout() => {
                HookVerdict::failed(call, format!("no answer within {} ms", call.timeout_ms))
            }
            Err(_) => HookVerdict::failed(call, "the answer is not JSON"),
        }
    }
}
