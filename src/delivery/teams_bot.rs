//! Posting and updating the Teams bot's card in a conversation (Bot Connector v3:
//! `POST {serviceUrl}/v3/conversations/{id}/activities`, then `PUT …/activities/{id}`),
//! with a token from the bot's client credentials (scope
//! `https://api.botframework.com/.default`), kept until a minute before it expires.

use secrecy::ExposeSecret;
use serde_json::{json, Value};
use tokio::sync::Mutex;

use super::channels::{Failed, Sent};
use crate::config::TeamsSettings;
use crate::notify::{self, ApprovalSnapshot};

/// The bot's Bot Connector token and when (app clock) it stops being used.
#[derive(Default)]
pub struct BotToken {
    cached: Mutex<Option<(String, i64)>>,
}

impl BotToken {
    async fn get(
        &self,
        http: &reqwest::Client,
        teams: &TeamsSettings,
        now: i64,
    ) -> Result<String, Failed> {
        let mut cached = self.cached.lock().await;
        if let Some((token, until)) = cached.as_ref() {
            if *until > now {
                return Ok(token.clone());
            }
        }
        let (Some(app_id), Some(password)) = (&teams.app_id, &teams.app_password) else {
            return Err(Failed::fatal(
                "notify.teams_app_id and notify.teams_app_password are needed to post to Teams",
            ));
        };
        let response = http
            .post(&teams.token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", app_id.as_str()),
                ("client_secret", password.expose_secret()),
                ("scope", "https://api.botframework.com/.default"),
            ])
            .send()
            .await
            .map_err(|_| Failed::retry("Teams token: request failed"))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|_| Failed::retry(format!("Teams token: unreadable answer ({status})")))?;
        let (Some(token), Some(lifetime)) =
            (body["access_token"].as_str(), body["expires_in"].as_i64())
        else {
            // A refused secret will not fix itself; anything else may.
            return Err(Failed::new(
                format!(
                    "Teams token: {status} {}",
                    body["error"].as_str().unwrap_or("")
                ),
                !status.is_client_error(),
            ));
        };
        *cached = Some((token.to_owned(), now + lifetime - 60));
        Ok(token.to_owned())
    }

    /// Posts the card for `s` into `destination` (`serviceUrl conversationId`), or
    /// replaces the activity `existing` posted before.
    pub async fn send(
        &self,
        http: &reqwest::Client,
        teams: &TeamsSettings,
        destination: &str,
        existing: Option<&str>,
        s: &ApprovalSnapshot,
    ) -> Result<Sent, Failed> {
        let Some((service_url, conversation)) = destination.split_once(' ') else {
            return Err(Failed::fatal("the Teams destination is unreadable"));
        };
        let token = self.get(http, teams, s.now).await?;
        let base = format!(
            "{}/v3/conversations/{conversation}/activities",
            service_url.trim_end_matches('/')
        );
        let mut activity = json!({"type": "message", "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": notify::teams_bot_card(s),
        }]});
        let request = match existing {
            Some(id) => {
                activity["id"] = id.into();
                http.put(format!("{base}/{id}"))
            }
            None => http.post(&base),
        };
        let response = request
            .bearer_auth(token)
            .json(&activity)
            .send()
            .await
            .map_err(|_| Failed::retry("Teams: request failed"))?;
        let status = response.status();
        if !status.is_success() {
            let retry = status.is_server_error() || matches!(status.as_u16(), 401 | 408 | 429);
            if status.as_u16() == 401 {
                *self.cached.lock().await = None;
            }
            return Err(Failed::new(format!("Teams answered {status}"), retry));
        }
        if existing.is_some() {
            return Ok(Sent::Done);
        }
        let answer: Value = response.json().await.unwrap_or_default();
        match answer["id"].as_str() {
            Some(id) => Ok(Sent::Posted(id.to_owned())),
            None => Ok(Sent::Done),
        }
    }
}
