//! The Teams bot's inbound side (DESIGN.md §5.4; research/notifications-and-chat.md §3
//! "Bot Framework → bot"): a click on the bot card's `Action.Execute` arrives as an
//! `adaptiveCard/action` invoke whose `Authorization: Bearer` token the Bot Framework
//! signed. [`Chat::teams_click`] checks that token against the keys named by the
//! configured OpenID metadata ([`KeyCache`]), then [`decide`] votes through
//! [`Desk::decide_from_chat`] as the user linked to the clicker's Entra object id and
//! answers with the card as it is after the vote, or with an error Teams shows the
//! clicker.
//!
//! Keys are refetched once a day, and on a token signed by an unknown `kid` at most
//! once an hour (botbuilder-js `openIdMetadata.ts`). Times are the app clock's.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use tokio::sync::RwLock;

use super::Chat;
use crate::approval::sentence;
use crate::approval::{views, ApprovalError, ChatAccount, ChatRefusal, Desk, DeskError};
use crate::notify::teams::{
    invoke_error, invoke_response, parse_invoke, teams_bot_card, TeamsInvoke, TeamsInvokeError,
};
use crate::notify::teams::{verify_bot_token, BotJwks, BotTokenError};
use crate::store::StoreError;

/// Keys older than this are refetched (Bot Framework rotates them without notice).
const KEYS_MAX_AGE: i64 = 24 * 3600;
/// A token with an unknown `kid` refetches keys at most this often.
const UNKNOWN_KID_REFRESH: i64 = 3600;
/// After a failed fetch, no new attempt for this long (each would hold callers for
/// up to the client's timeout).
const RETRY_AFTER_FAILURE: i64 = 60;

/// What the refusal to an unlinked clicker says.
const UNLINKED: &str = "Your Teams account is not linked to countersign; ask an \
    administrator (countersign user link-teams).";
/// What a click on a button countersign never rendered is told.
const UNKNOWN_ACTION: &str = "This button is not one countersign knows; open the request \
    in countersign instead.";
/// The domain's refusal of a non-member, also given for an approval that does not
/// exist, so a click never reveals whether an approval exists.
const NOT_AN_APPROVER: &str = "You are not in a group that approves this request.";

/// The Bot Framework keys last fetched, and when (app clock).
#[derive(Default)]
pub struct KeyCache {
    state: RwLock<Cached>,
}

#[derive(Default)]
struct Cached {
    keys: Option<(Arc<BotJwks>, i64)>,
    failed_at: Option<i64>,
}

impl KeyCache {
    /// The keys, fetched first when there are none or they are older than a day. When
    /// that refetch fails, keys already held are still used (rotation is rare; the
    /// next refetch comes after [`RETRY_AFTER_FAILURE`]).
    async fn current(&self, chat: &Chat, now: i64) -> Result<Arc<BotJwks>, String> {
        if let Some((keys, at)) = &self.state.read().await.keys {
            if now - at < KEYS_MAX_AGE {
                return Ok(keys.clone());
            }
        }
        match self.refresh(chat, now, KEYS_MAX_AGE).await {
            Ok(keys) => Ok(keys),
            Err(error) => match &self.state.read().await.keys {
                Some((keys, _)) => {
                    tracing::warn!(%error, "using Bot Framework keys older than a day");
                    Ok(keys.clone())
                }
                None => Err(error),
            },
        }
    }

    /// Refetches the keys unless those held are younger than `max_age` (another caller
    /// may have just refetched them) or a fetch failed less than a minute ago.
    async fn refresh(&self, chat: &Chat, now: i64, max_age: i64) -> Result<Arc<BotJwks>, String> {
        let mut state = self.state.write().await;
        if let Some((keys, at)) = &state.keys {
            if now - at < max_age {
                return Ok(keys.clone());
            }
        }
        if state
            .failed_at
            .is_some_and(|at| now - at < RETRY_AFTER_FAILURE)
        {
            return Err("the last fetch failed less than a minute ago".into());
        }
        match fetch(&chat.http, &chat.settings.teams.metadata_url).await {
            Ok(keys) => {
                let keys = Arc::new(keys);
                state.keys = Some((keys.clone(), now));
                state.failed_at = None;
                Ok(keys)
            }
            Err(error) => {
                state.failed_at = Some(now);
                Err(error)
            }
        }
    }
}

#[derive(Deserialize)]
struct Metadata {
    jwks_uri: String,
}

/// The metadata document, then the JWKS it names.
async fn fetch(http: &reqwest::Client, metadata_url: &str) -> Result<BotJwks, String> {
    let metadata: Metadata = serde_json::from_slice(&get(http, metadata_url).await?)
        .map_err(|e| format!("the OpenID metadata has no jwks_uri: {e}"))?;
    BotJwks::from_json(&get(http, &metadata.jwks_uri).await?)
        .map_err(|e| format!("the JWKS does not parse: {e}"))
}

async fn get(http: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let response = http
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("GET {url}: {e}"))?;
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    Ok(body.to_vec())
}

/// Why a call to the bot endpoint was not acted on.
#[derive(Debug, thiserror::Error)]
pub enum BotCallError {
    /// No `notify.teams_app_id`: the bot is off.
    #[error("the Teams bot is not configured")]
    Off,
    /// No `Authorization: Bearer` token.
    #[error("no bearer token")]
    NoToken,
    /// The body is not a Bot Framework activity.
    #[error("not a Bot Framework activity")]
    BadActivity,
    /// The token was refused.
    #[error("Bot Framework token refused: {0}")]
    Token(BotTokenError),
    /// The keys could not be fetched.
    #[error("the Bot Framework keys are unavailable: {0}")]
    Keys(String),
}

/// An authenticated activity.
#[derive(Debug)]
pub enum Click {
    /// A click on Approve or Deny.
    Action(TeamsInvoke),
    /// Not a card action (a message, an install): acknowledged, nothing else.
    Ignored,
    /// A card action that cannot be acted on; the invoke answer saying why.
    Invalid(Value),
}

/// The two fields the token is checked against, read before anything else.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    channel_id: String,
    service_url: String,
}

impl Chat {
    /// Authenticates a call to the bot endpoint (`authorization` is the header's
    /// value) and reads the click it carries. The body is acted on only once the token
    /// proves the Bot Framework sent it for this activity.
    #[tracing::instrument(skip_all)]
    pub async fn teams_click(
        &self,
        authorization: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<Click, BotCallError> {
        let app_id = self
            .settings
            .teams
            .app_id
            .as_deref()
            .ok_or(BotCallError::Off)?;
        let token = authorization
            .and_then(bearer)
            .ok_or(BotCallError::NoToken)?;
        let envelope: Envelope =
            serde_json::from_slice(body).map_err(|_| BotCallError::BadActivity)?;
        let verify = |keys: &BotJwks| {
            let issuers = &self.settings.teams.issuers;
            let (channel, service) = (&envelope.channel_id, &envelope.service_url);
            verify_bot_token(token, keys, app_id, issuers, channel, service, now)
        };
        let keys = self.teams_keys.current(self, now).await;
        let verified = match verify(keys.map_err(BotCallError::Keys)?.as_ref()) {
            // Maybe a key rolled over since the last fetch.
            Err(BotTokenError::UnknownKid(_)) => {
                let keys = self
                    .teams_keys
                    .refresh(self, now, UNKNOWN_KID_REFRESH)
                    .await;
                verify(keys.map_err(BotCallError::Keys)?.as_ref())
            }
            other => other,
        };
        verified.map_err(BotCallError::Token)?;
        Ok(match parse_invoke(body) {
            Ok(click) => Click::Action(click),
            Err(TeamsInvokeError::NotCardAction) => Click::Ignored,
            Err(TeamsInvokeError::Json(_)) => return Err(BotCallError::BadActivity),
            Err(TeamsInvokeError::DenyWithoutComment) => Click::Invalid(invoke_error(
                400,
                "bad_request",
                "Say why you deny the request.",
            )),
            // An unknown verb or approval id: not a button countersign rendered.
            Err(_) => Click::Invalid(invoke_error(400, "bad_request", UNKNOWN_ACTION)),
        })
    }
}

/// The token of an `Authorization: Bearer` header (the scheme is case-insensitive,
/// RFC 9110 §11.1).
fn bearer(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Votes as the user linked to the clicker and answers with the approval's card as it
/// is after the vote (it replaces the clicked card for the clicker), or with the
/// refusal Teams shows them. Only a storage failure is an error.
#[tracing::instrument(skip_all, fields(approval_id = %click.approval_id))]
pub fn decide(
    desk: &Desk,
    issuer: &str,
    click: &TeamsInvoke,
    now: i64,
) -> Result<Value, StoreError> {
    let Some(account) = click.from_aad_object_id.as_deref() else {
        return Ok(invoke_error(403, "unlinked", UNLINKED));
    };
    let comment = click.comment.as_deref();
    let decided = desk.decide_from_chat(
        click.approval_id.as_str(),
        ChatAccount::Teams(account),
        click.verb,
        comment,
        now,
    );
    let row = match decided {
        Ok((_, row)) => row,
        Err(refusal) => return refused(refusal),
    };
    let snapshot = desk.store.read(|c| views::snapshot(c, row, issuer, now))?;
    Ok(invoke_response(teams_bot_card(&snapshot)))
}

/// The invoke answer for a refused vote: 403 for who may not, 409 for a request that
/// cannot take the vote any more, 400 for incomplete input.
fn refused(refusal: ChatRefusal) -> Result<Value, StoreError> {
    let error = match refusal {
        ChatRefusal::Unlinked | ChatRefusal::Desk(DeskError::SignIn) => {
            tracing::info!("Teams decision refused: the clicker is not linked");
            return Ok(invoke_error(403, "unlinked", UNLINKED));
        }
        ChatRefusal::Desk(DeskError::Approval(error)) => error,
    };
    if let ApprovalError::Store(error) = error {
        return Err(error);
    }
    tracing::info!(%error, "Teams decision refused");
    Ok(match error {
        ApprovalError::Store(error) => return Err(error),
        ApprovalError::NotFound => invoke_error(403, "forbidden", NOT_AN_APPROVER),
        ApprovalError::Forbidden(why) => invoke_error(403, "forbidden", &sentence(why)),
        ApprovalError::NeedsFreshLogin => invoke_error(
            403,
            "forbidden",
            "Decide this request on its approval page.",
        ),
        ApprovalError::Conflict(why) => invoke_error(409, "conflict", &sentence(&why)),
        ApprovalError::Unprocessable(why) => invoke_error(400, "bad_request", &sentence(why)),
        ApprovalError::StepUp(why) => invoke_error(403, "forbidden", &sentence(&why.to_string())),
    })
}
