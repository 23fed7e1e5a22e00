//! Deciding from Slack or Teams (DESIGN.md §5.4): the desk's call for a vote whose
//! approver is known by a linked chat account rather than a session. It runs exactly
//! the page's rules ([`service::decide`]: group, never one's own request, one vote,
//! quorum, any deny denies with a reason) plus the chat rule of
//! [`may_decide`](super::approver::may_decide): only where the policy lets chat decide.

use super::approver::NOT_AN_APPROVER;
use super::desk::{Desk, DeskError};
use super::factor::Proof;
use super::service::{self, ApprovalError, Approver, Via};
use super::state::Decision;
use crate::ids::{ApprovalId, UserId};
use crate::store::{self, ApprovalRow, UserRow};

/// Who clicked, as the chat platform proved it.
#[derive(Debug, Clone, Copy)]
pub enum ChatAccount<'a> {
    /// A Slack user id.
    Slack(&'a str),
    /// A Teams (Entra) object id.
    Teams(&'a str),
}

/// Why a chat decision was not recorded, in words for the chat user.
#[derive(Debug, thiserror::Error)]
pub enum ChatRefusal {
    /// The chat account is linked to no (enabled) user.
    #[error("your chat account is not linked to a countersign account")]
    Unlinked,
    /// The domain refused (not a member, own request, already decided, …).
    #[error("{0}")]
    Desk(#[from] DeskError),
}

impl From<store::StoreError> for ChatRefusal {
    fn from(error: store::StoreError) -> Self {
        ChatRefusal::Desk(error.into())
    }
}

impl Desk {
    /// The enabled user linked to a chat account.
    pub fn chat_user(&self, account: ChatAccount<'_>) -> Result<Option<UserRow>, ChatRefusal> {
        let found = self.store.read(|c| match account {
            ChatAccount::Slack(id) => store::user_by_slack_id(c, id),
            ChatAccount::Teams(id) => store::user_by_teams_id(c, id),
        })?;
        Ok(found.filter(|u| !u.disabled))
    }

    /// A vote cast from chat by the user linked to `account`.
    pub fn decide_from_chat(
        &self,
        id: &str,
        account: ChatAccount<'_>,
        decision: Decision,
        comment: Option<&str>,
        now: i64,
    ) -> Result<(UserRow, ApprovalRow), ChatRefusal> {
        let user = self.chat_user(account)?.ok_or(ChatRefusal::Unlinked)?;
        // From chat nothing else hides an id, so an unknown one is refused like a
        // request the user may not decide: the answer never says whether it exists.
        let hidden = || DeskError::from(ApprovalError::Forbidden(NOT_AN_APPROVER));
        let id = ApprovalId::parse(id).map_err(|_| hidden())?;
        let via = match account {
            ChatAccount::Slack(_) => Via::Slack,
            ChatAccount::Teams(_) => Via::Teams,
        };
        let user_id: UserId = user.id.clone();
        let row = self
            .store
            .write(|c| {
                let approver = Approver {
                    groups: store::groups_of_user(c, &user_id)?,
                    user_id: user_id.clone(),
                    via,
                    // Chat presents no factor: a policy that asks for one keeps its
                    // requests off chat (`Requirements::chat_decisions`).
                    proof: Proof::None,
                    signed_in_with: Vec::new(),
                };
                service::decide(c, &id, &approver, decision, comment, now)
            })
            .map_err(|e| match e {
                ApprovalError::NotFound => hidden(),
                other => DeskError::from(other),
            })?;
        self.signal.fire();
        Ok((user, row))
    }
}
