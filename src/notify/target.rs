//! Where one notification goes: a channel kind and its destination (a Slack channel or
//! user id, a Teams Workflows webhook URL, a webhook URL, an email address), written
//! `kind:destination` in outbox rows. URLs carry their secret in the query (Teams'
//! `sig=`), so a target is only ever shown [`redacted`](Target::redacted).

use crate::named::named_enum;

named_enum! {
    /// A kind of notification channel (`group set-notify --slack-channel …`).
    pub enum ChannelKind {
        /// Slack: a channel id (`C…`) or, for a direct message, a user id (`U…`).
        Slack = "slack",
        /// A Microsoft Teams Workflows webhook (posts an Adaptive Card).
        Teams = "teams",
        /// A Teams conversation the bot posts to (`serviceUrl conversationId`): its
        /// card can decide (`Action.Execute`) and is updated in place.
        TeamsBot = "teams-bot",
        /// A Standard Webhooks endpoint.
        Webhook = "webhook",
        /// An email address.
        Email = "email",
        /// A CIBA ping client's notification endpoint (CIBA Core §10.2): told, with
        /// its bearer token, that its backchannel request was decided.
        CibaPing = "ciba-ping",
    }
}

/// The Slack destination meaning "each linked member of the group, by DM".
pub const SLACK_MEMBERS: &str = "@members";

/// One destination of one channel kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// The channel kind.
    pub kind: ChannelKind,
    /// Channel id, URL or address.
    pub destination: String,
}

impl Target {
    /// A target.
    pub fn new(kind: ChannelKind, destination: impl Into<String>) -> Self {
        Target {
            kind,
            destination: destination.into(),
        }
    }

    /// Parses `kind:destination`.
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, destination) = text.split_once(':')?;
        let kind = ChannelKind::parse(kind)?;
        (!destination.is_empty()).then(|| Target::new(kind, destination))
    }

    /// `kind:destination`, as stored.
    pub fn stored(&self) -> String {
        format!("{}:{}", self.kind, self.destination)
    }

    /// For logs and listings: URLs lose their query and fragment (where webhook
    /// secrets live); channel ids and addresses are shown as they are.
    pub fn redacted(&self) -> String {
        match self.kind {
            ChannelKind::Slack | ChannelKind::Email | ChannelKind::TeamsBot => self.stored(),
            ChannelKind::Teams | ChannelKind::Webhook | ChannelKind::CibaPing => {
                let shown = match url::Url::parse(&self.destination) {
                    Ok(mut url) => {
                        let hidden = url.query().is_some() || url.fragment().is_some();
                        url.set_query(None);
                        url.set_fragment(None);
                        let _ = url.set_password(None);
                        format!("{url}{}", if hidden { "?…" } else { "" })
                    }
                    Err(_) => "(not a URL)".into(),
                };
                format!("{}:{shown}", self.kind)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_round_trip_and_urls_are_redacted() {
        let teams = Target::parse("teams:https://x.logic.azure.com/wf/1?sig=SECRET").unwrap();
        assert_eq!(teams.kind, ChannelKind::Teams);
        assert_eq!(Target::parse(&teams.stored()), Some(teams.clone()));
        assert_eq!(teams.redacted(), "teams:https://x.logic.azure.com/wf/1?…");
        assert!(!teams.redacted().contains("SECRET"));
        assert_eq!(
            Target::parse("slack:C123").unwrap().redacted(),
            "slack:C123"
        );
        assert_eq!(Target::parse("fax:123"), None);
        assert_eq!(Target::parse("email:"), None);
    }
}
