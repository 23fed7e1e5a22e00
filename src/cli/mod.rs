//! The command line: `serve`, `migrate` and the admin commands. Results go to stdout
//! (with `--json`, exactly one JSON document); logs and errors go to stderr.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;

use crate::config::{parse_duration, Config, RawSettings};

mod action_types;
mod approval;
mod audit;
mod keys;
mod notify;
mod rules;
mod run;
mod upstream;

pub use run::run;

/// countersign: an OpenID Connect Provider where sensitive scopes need a countersignature.
#[derive(Debug, Parser)]
#[command(name = "countersign", version, about, propagate_version = true)]
pub struct Cli {
    /// Configuration file (default: ./countersign.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL: postgres://…, sqlite:///abs/path, sqlite://rel/path or a file path.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (migrates the database and creates a signing key when needed).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage groups (approvers are chosen by group).
    #[command(subcommand)]
    Group(GroupCommand),
    /// Manage scopes and their approval policies.
    #[command(subcommand)]
    Scope(ScopeCommand),
    /// Manage OAuth clients (relying parties).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage action types for authorization_details (RFC 9396) and their schemas.
    #[command(subcommand)]
    ActionType(action_types::ActionTypeCommand),
    /// Manage the approval rules (Cedar policies evaluated over every request).
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Read and check the audit trail.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Inspect and revoke approvals (countersignatures).
    #[command(subcommand)]
    Approval(approval::ApprovalCommand),
    /// Inspect and retry notifications (Slack, Teams, webhooks, email).
    #[command(subcommand)]
    Outbox(notify::OutboxCommand),
    /// Manage upstream OpenID Connect providers users sign in through.
    #[command(subcommand)]
    Upstream(upstream::UpstreamCommand),
}

/// `serve` flags (override file and environment).
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Seed demo users, groups, a sensitive scope and a client, and serve the demo
    /// relying party at /demo.
    #[arg(long)]
    pub demo: bool,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long)]
    pub bind: Option<String>,
    /// Issuer URL, exactly as relying parties will see it.
    #[arg(long)]
    pub issuer: Option<String>,
    /// Log format: text or json.
    #[arg(long, value_name = "text|json")]
    pub log_format: Option<String>,
}

/// `user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (prompts for the password without echo unless --password-stdin).
    Add {
        /// Login name.
        username: String,
        /// Email address.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Disable a user: sessions end and grants are revoked.
    Disable {
        /// Login name.
        username: String,
    },
    /// Set a user's password.
    SetPassword {
        /// Login name.
        username: String,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Link a user to their Slack account (to decide from Slack and get DMs).
    LinkSlack {
        /// Login name.
        username: String,
        /// Slack user id, e.g. U0123456789.
        slack_user_id: String,
    },
    /// Link a user to their Microsoft Teams account (to decide inside Teams).
    LinkTeams {
        /// Login name.
        username: String,
        /// Entra object id (`aadObjectId`).
        object_id: String,
    },
    /// Set a custom attribute, released as a claim by the scopes that name it
    /// (`scope add --claims department`).
    SetAttr {
        /// Login name.
        username: String,
        /// Attribute (and claim) name, e.g. department.
        name: String,
        /// Its value.
        value: String,
    },
    /// Remove a custom attribute.
    UnsetAttr {
        /// Login name.
        username: String,
        /// Attribute name.
        name: String,
    },
    /// Remove all of a user's second factors (authenticator app, recovery codes) when
    /// they lost them; they enrol again from their account page.
    ResetFactors {
        /// Login name.
        username: String,
    },
    /// Unlink a user's Slack and Teams accounts.
    UnlinkChat {
        /// Login name.
        username: String,
    },
}

/// `group …`
#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a group.
    Add {
        /// Group name.
        name: String,
    },
    /// Add a user to a group.
    AddMember {
        /// Group name.
        group: String,
        /// Login name.
        username: String,
    },
    /// Remove a user from a group.
    RemoveMember {
        /// Group name.
        group: String,
        /// Login name.
        username: String,
    },
    /// Set where a group is told of requests (Slack, Teams, webhook, email).
    SetNotify(notify::SetNotifyArgs),
    /// List groups and their members.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Scope flags shared by `scope add` and `scope update`.
#[derive(Debug, Args, Clone)]
pub struct ScopeFlags {
    /// Shown to users on the consent page.
    #[arg(long)]
    pub description: Option<String>,
    /// Claims released with this scope, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub claims: Option<Vec<String>>,
    /// The scope needs a countersignature.
    #[arg(long, conflicts_with = "not_sensitive")]
    pub sensitive: bool,
    /// (update) The scope no longer needs a countersignature.
    #[arg(long)]
    pub not_sensitive: bool,
    /// Approver groups, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "GROUP[:N][,GROUP[:N]]")]
    pub approvers: Option<Vec<String>>,
    /// Approvals needed from each approver group (GROUP:N in --approvers overrides it).
    #[arg(long)]
    pub quorum: Option<i64>,
    /// How long a request may wait for approval (e.g. 15m).
    #[arg(long, value_parser = parse_seconds)]
    pub pending_ttl: Option<i64>,
    /// How long access lasts once approved (e.g. 1h).
    #[arg(long, value_parser = parse_seconds)]
    pub access_duration: Option<i64>,
    /// The requester must give a justification.
    #[arg(long, conflicts_with = "no_require_justification")]
    pub require_justification: bool,
    /// (update) No justification needed.
    #[arg(long)]
    pub no_require_justification: bool,
    /// Approvers must have logged in within this time (e.g. 10m).
    #[arg(long, value_parser = parse_seconds)]
    pub approver_max_age: Option<i64>,
    /// Approvers may decide from Slack or Teams (no step-up: only for scopes whose
    /// policy needs none). Without it chat messages only link to the page.
    #[arg(long, conflicts_with = "no_chat_decisions")]
    pub chat_decisions: bool,
    /// (update) Chat messages only link to the page again.
    #[arg(long)]
    pub no_chat_decisions: bool,
    /// The second factor every approver presents at the decision, on the approval
    /// page: none, totp, passkey or any (totp or passkey).
    #[arg(long, value_parser = parse_factor)]
    pub approver_factor: Option<crate::approval::ApproverFactor>,
    /// The subject (the user a request is for; with CIBA, the user an agent acts for)
    /// must confirm too, on their approval page, besides the approver groups.
    #[arg(long, conflicts_with = "no_subject_confirms")]
    pub subject_confirms: bool,
    /// (update) The subject need not confirm.
    #[arg(long)]
    pub no_subject_confirms: bool,
}

fn parse_factor(text: &str) -> Result<crate::approval::ApproverFactor, String> {
    crate::approval::ApproverFactor::parse(text)
        .ok_or_else(|| format!("{text:?} is not none, totp, passkey or any"))
}

fn parse_alg(text: &str) -> Result<crate::crypto::KeyAlg, String> {
    crate::crypto::KeyAlg::parse(text)
        .ok_or_else(|| format!("{text:?} is not RS256, ES256 or EdDSA"))
}

fn parse_seconds(text: &str) -> Result<i64, String> {
    parse_duration(text).and_then(|d| i64::try_from(d.as_secs()).map_err(|_| "too long".into()))
}

/// `scope …`
#[derive(Debug, Subcommand)]
pub enum ScopeCommand {
    /// Create a scope.
    Add {
        /// Scope name.
        name: String,
        /// Policy and description.
        #[command(flatten)]
        flags: ScopeFlags,
    },
    /// Change a scope (only the flags given).
    Update {
        /// Scope name.
        name: String,
        /// Policy and description.
        #[command(flatten)]
        flags: ScopeFlags,
    },
    /// List scopes and their policies.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `client …`
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints the client_id and, once, the secret.
    Add {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Exact redirect URI (repeat for more).
        #[arg(long = "redirect-uri", value_name = "URI")]
        redirect_uris: Vec<String>,
        /// Allowed scopes, space-separated ("openid profile email").
        #[arg(long)]
        scope: String,
        /// A public client (no secret; PKCE required).
        #[arg(long)]
        public: bool,
        /// Exact post-logout redirect URI (repeat for more).
        #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
        post_logout_redirect_uris: Vec<String>,
        /// Grant type (repeat for more): authorization_code, refresh_token,
        /// client_credentials, urn:openid:params:grant-type:ciba.
        #[arg(long = "grant-type", value_name = "GRANT")]
        grant_types: Vec<String>,
        /// CIBA token delivery mode: poll (default for CIBA clients) or ping.
        #[arg(long, value_name = "MODE", value_parser = parse_delivery_mode)]
        backchannel_delivery_mode: Option<crate::oidc::ciba::DeliveryMode>,
        /// Where a ping-mode CIBA client is called when its request is decided.
        #[arg(long, value_name = "URL")]
        backchannel_notification_endpoint: Option<String>,
        /// ID token signing algorithm: RS256 (default), ES256 or EdDSA.
        #[arg(long, value_name = "ALG", value_parser = parse_alg, default_value = "RS256")]
        id_token_alg: crate::crypto::KeyAlg,
        /// JWT access token signing algorithm: RS256 (default), ES256 or EdDSA.
        #[arg(long, value_name = "ALG", value_parser = parse_alg, default_value = "RS256")]
        access_token_alg: crate::crypto::KeyAlg,
        /// Print {"client_id":…,"client_secret":…}.
        #[arg(long)]
        json: bool,
    },
    /// List clients.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a client with its grants and tokens.
    Remove {
        /// The client_id.
        client_id: String,
    },
    /// Issue a new secret (the old one stops working).
    RotateSecret {
        /// The client_id.
        client_id: String,
        /// Print {"client_id":…,"client_secret":…}.
        #[arg(long)]
        json: bool,
    },
}

fn parse_delivery_mode(text: &str) -> Result<crate::oidc::ciba::DeliveryMode, String> {
    crate::oidc::ciba::DeliveryMode::parse(text).ok_or_else(|| "must be poll or ping".into())
}

/// `keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List signing keys and their states.
    List,
    /// Make a new key active; the previous one stays published until its tokens expire.
    Rotate,
}

/// Loads the configuration with the global flags (and serve flags) on top.
pub fn load_config(cli: &Cli) -> Result<Config, crate::config::ConfigError> {
    let mut flags = RawSettings {
        database_url: cli.database_url.clone(),
        ..RawSettings::default()
    };
    if let Command::Serve(serve) = &cli.command {
        flags.bind = serve.bind.clone();
        flags.issuer = serve.issuer.clone();
        flags.log_format = serve.log_format.clone();
        flags.demo = serve.demo.then_some(true);
    }
    Config::load(cli.config.as_deref(), flags)
}

/// Reads a password: the first line of stdin (newline stripped), or a no-echo prompt.
pub fn read_password(from_stdin: bool) -> anyhow::Result<SecretString> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let line = line.strip_suffix('\n').unwrap_or(&line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        return Ok(SecretString::from(line.to_owned()));
    }
    let first = rpassword::prompt_password("Password: ")
        .map_err(|e| anyhow::anyhow!("cannot prompt for a password ({e}); use --password-stdin"))?;
    let second = rpassword::prompt_password("Repeat password: ")?;
    if first != second {
        anyhow::bail!("the passwords do not match");
    }
    let _ = std::io::stderr().flush();
    Ok(SecretString::from(first))
}
