//! Slack's inbound side. To be completed.
