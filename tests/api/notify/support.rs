//! An approval app whose `approvers` group is notified on every channel, each channel
//! served by a local receiver.

use countersign::audit::Actor;
use countersign::config::RawNotify;
use countersign::manage::{self, NotifyChanges};

use crate::approval::support::ApprovalSeed;
use crate::helpers::{HttpReceiver, SmtpSink, TestApp};

/// The webhook secret the app signs with.
pub const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The Slack channel of `approvers`.
pub const CHANNEL: &str = "C0APPROVE";

/// The app and its receivers.
pub struct Notified {
    pub app: TestApp<ApprovalSeed>,
    pub slack: HttpReceiver,
    pub teams: HttpReceiver,
    pub hooks: HttpReceiver,
    pub mail: SmtpSink,
}

/// Receivers for every channel, and an app pointed at them; `approvers` is notified on
/// all four, with at most `max_attempts` attempts per notification.
pub async fn notified_app(max_attempts: u32) -> Notified {
    notified_app_with(max_attempts, "off").await
}

/// Like [`notified_app`], reminding approvers `reminder_before` expiry ("off": never).
pub async fn notified_app_with(max_attempts: u32, reminder_before: &str) -> Notified {
    notified_app_tuned(|raw| {
        raw.max_attempts = Some(max_attempts);
        raw.reminder_before = Some(reminder_before.into());
    })
    .await
}

/// Like [`notified_app`], with `[notify]` settings changed by `tune`.
pub async fn notified_app_tuned(tune: impl FnOnce(&mut RawNotify)) -> Notified {
    let (slack, teams, hooks, mail) = (
        HttpReceiver::start(),
        HttpReceiver::start(),
        HttpReceiver::start(),
        SmtpSink::start(),
    );
    let mut notify = RawNotify {
        slack_bot_token: Some("xoxb-test-token".into()),
        slack_signing_secret: Some("slack-signing-secret".into()),
        slack_api_url: Some(slack.url.clone()),
        webhook_secret: Some(WEBHOOK_SECRET.into()),
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: Some(mail.port),
        smtp_tls: Some("none".into()),
        smtp_from: Some("countersign@example.com".into()),
        max_attempts: Some(10),
        reminder_before: Some("off".into()),
        poll_interval: Some("20ms".into()),
        ..RawNotify::default()
    };
    tune(&mut notify);
    let app = TestApp::builder()
        .notify(notify)
        .spawn()
        .await
        .seeded(ApprovalSeed::seed);
    let changes = NotifyChanges {
        slack_channel: Some(CHANNEL.into()),
        teams_webhook: Some(format!("{}/workflows/run?sig=TEAMS-SECRET", teams.url)),
        webhook: Some(format!("{}/hooks", hooks.url)),
        email: Some("approvers@example.com".into()),
        ..NotifyChanges::default()
    };
    manage::set_group_notify(&app.store, "approvers", changes, &Actor::System, app.now())
        .expect("channels set");
    Notified {
        app,
        slack,
        teams,
        hooks,
        mail,
    }
}
