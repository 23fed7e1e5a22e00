//! Configuration: built-in defaults, then an optional `countersign.toml`, then
//! `COUNTERSIGN_*` environment variables, then command-line flags; validated once into
//! [`Config`]. A bad value stops startup with one line naming the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::store::DatabaseUrl;

mod notify;

pub use notify::{NotifySettings, RawNotify, SlackSettings, SmtpSettings, SmtpTls, TeamsSettings};

/// The configuration file read when no `--config` is given (if it exists).
pub const DEFAULT_CONFIG_FILE: &str = "countersign.toml";

/// Settings as written by people: every key optional, durations as text ("15m").
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RawSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_ttl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_ttl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_ttl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_idle_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_absolute_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_max_failures: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_lockout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_anchor_interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demo: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_proxies: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_request_ttl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continue_after_approval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_passwords: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_factor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<RawNotify>,
}

/// How logs are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The issuer identifier, exactly as configured (no trailing slash added).
    pub issuer: String,
    /// Address the HTTP server binds.
    pub bind: SocketAddr,
    /// Where the data lives.
    pub database_url: DatabaseUrl,
    /// Directory for the SQLite file and the generated secret key.
    pub data_dir: PathBuf,
    /// The configured secret key, if any (else one is generated in `data_dir`).
    pub secret_key: Option<SecretString>,
    /// Lifetime of access tokens.
    pub access_token_ttl: Duration,
    /// Lifetime of ID tokens.
    pub id_token_ttl: Duration,
    /// Lifetime of refresh tokens (and of the grant behind them).
    pub refresh_token_ttl: Duration,
    /// Lifetime of authorization codes.
    pub code_ttl: Duration,
    /// A session ends after this long without activity.
    pub session_idle_timeout: Duration,
    /// A session ends this long after login, whatever the activity.
    pub session_absolute_timeout: Duration,
    /// Failed logins (per account, and per client IP) before throttling.
    pub login_max_failures: u32,
    /// How long a throttled account or IP waits.
    pub login_lockout: Duration,
    /// How often `serve` logs the audit chain head; `None` to never.
    pub audit_anchor_interval: Option<Duration>,
    /// Log format.
    pub log_format: LogFormat,
    /// Seed the demo data and serve the demo relying party at `/demo`.
    pub demo: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed (for the client IP that login
    /// throttling and approvals record); empty: the TCP peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long a stored authorization request waits for login and consent.
    pub authorization_request_ttl: Duration,
    /// How long after its approval's waiting time a countersigned request may still be
    /// continued (the requester comes back to an approved request).
    pub continue_after_approval: Duration,
    /// How long a client may take to send a request (head and body); a slower one gets
    /// 408 and its connection is closed.
    pub request_timeout: Duration,
    /// Users may sign in with a local password; false: only through upstream
    /// providers (`countersign upstream add`).
    pub local_passwords: bool,
    /// The group whose members use the admin console and may revoke any approval.
    pub admin_group: String,
    /// The second factor an admin's session must have proven to change anything in
    /// the console (`any` by default; `none` leaves only the recent sign-in).
    pub admin_factor: crate::approval::ApproverFactor,
    /// Notifications: Slack, Teams, webhooks, mail and the outbox.
    pub notify: NotifySettings,
}

/// A configuration error: the key and what is wrong with its value.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {key}: {problem}")]
pub struct ConfigError {
    /// The offending key.
    pub key: String,
    /// What is wrong.
    pub problem: String,
}

fn bad(key: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        problem: problem.into(),
    }
}

impl Config {
    /// Layers defaults, the file (`file`, or `countersign.toml` when present), the
    /// environment and `flags`, then validates.
    pub fn load(file: Option<&Path>, flags: RawSettings) -> Result<Config, ConfigError> {
        let mut figment = Figment::new();
        match file {
            Some(path) if !path.exists() => {
                return Err(bad(
                    "--config",
                    format!("{} does not exist", path.display()),
                ))
            }
            Some(path) => figment = figment.merge(Toml::file(path)),
            None => figment = figment.merge(Toml::file(DEFAULT_CONFIG_FILE)),
        }
        let raw: RawSettings = figment
            .merge(Env::prefixed("COUNTERSIGN_").split("__"))
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(|e| {
                let key = e.path.join(".");
                let key = if key.is_empty() {
                    "settings".into()
                } else {
                    key
                };
                bad(&key, e.kind.to_string())
            })?;
        Config::from_raw(raw)
    }

    /// Validates raw settings, filling defaults.
    pub fn from_raw(raw: RawSettings) -> Result<Config, ConfigError> {
        let data_dir = PathBuf::from(raw.data_dir.unwrap_or_else(|| "countersign-data".into()));
        let database_url = match raw.database_url {
            Some(url) => DatabaseUrl::parse(&url).map_err(|p| bad("database_url", p))?,
            None => DatabaseUrl::Sqlite(
                data_dir
                    .join("countersign.sqlite3")
                    .to_string_lossy()
                    .into(),
            ),
        };
        let issuer = raw.issuer.unwrap_or_else(|| "http://127.0.0.1:8080".into());
        check_issuer(&issuer)?;
        let bind_text = raw.bind.unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind = bind_text.parse().map_err(|_| {
            bad(
                "bind",
                format!("{bind_text:?} is not an address like 127.0.0.1:8080"),
            )
        })?;
        let secret_key = match raw.secret_key {
            Some(key) if key.len() < 32 => {
                return Err(bad("secret_key", "must be at least 32 characters"))
            }
            other => other.map(SecretString::from),
        };
        let log_format = match raw.log_format.as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => return Err(bad("log_format", format!("{other:?} is not text or json"))),
        };
        let duration = |key: &str, value: Option<String>, default: &str| {
            parse_duration(value.as_deref().unwrap_or(default)).map_err(|p| bad(key, p))
        };
        let login_max_failures = raw.login_max_failures.unwrap_or(5);
        if login_max_failures == 0 {
            return Err(bad("login_max_failures", "must be at least 1"));
        }
        Ok(Config {
            issuer,
            bind,
            database_url,
            data_dir,
            secret_key,
            access_token_ttl: duration("access_token_ttl", raw.access_token_ttl, "10m")?,
            id_token_ttl: duration("id_token_ttl", raw.id_token_ttl, "10m")?,
            refresh_token_ttl: duration("refresh_token_ttl", raw.refresh_token_ttl, "30d")?,
            code_ttl: duration("code_ttl", raw.code_ttl, "60s")?,
            session_idle_timeout: duration("session_idle_timeout", raw.session_idle_timeout, "8h")?,
            session_absolute_timeout: duration(
                "session_absolute_timeout",
                raw.session_absolute_timeout,
                "24h",
            )?,
            login_max_failures,
            login_lockout: duration("login_lockout", raw.login_lockout, "5m")?,
            audit_anchor_interval: match raw.audit_anchor_interval.as_deref() {
                None | Some("off") => None,
                Some(text) => {
                    Some(parse_duration(text).map_err(|p| bad("audit_anchor_interval", p))?)
                }
            },
            log_format,
            demo: raw.demo.unwrap_or(false),
            trusted_proxies: parse_proxies(raw.trusted_proxies.as_deref().unwrap_or(""))?,
            authorization_request_ttl: duration(
                "authorization_request_ttl",
                raw.authorization_request_ttl,
                "30m",
            )?,
            continue_after_approval: duration(
                "continue_after_approval",
                raw.continue_after_approval,
                "1h",
            )?,
            request_timeout: duration("request_timeout", raw.request_timeout, "10s")?,
            local_passwords: raw.local_passwords.unwrap_or(true),
            admin_group: admin_group(raw.admin_group)?,
            admin_factor: match raw.admin_factor.as_deref() {
                None => crate::approval::ApproverFactor::Any,
                Some(text) => {
                    crate::approval::ApproverFactor::parse(text.trim()).ok_or_else(|| {
                        bad(
                            "admin_factor",
                            format!("{text:?} is not none, totp, passkey or any"),
                        )
                    })?
                }
            },
            notify: NotifySettings::from_raw(raw.notify.unwrap_or_default())?,
        })
    }

    /// The secret key: as configured, else read from (or generated into, mode 0600)
    /// `data_dir/secret_key`.
    pub fn resolve_secret_key(&self) -> Result<SecretString, ConfigError> {
        if let Some(key) = &self.secret_key {
            return Ok(key.clone());
        }
        let path = self.data_dir.join("secret_key");
        let fail = |e: std::io::Error| bad("secret_key", format!("{}: {e}", path.display()));
        match std::fs::read_to_string(&path) {
            Ok(text) if text.trim().len() >= 32 => Ok(SecretString::from(text.trim().to_owned())),
            Ok(_) => Err(bad(
                "secret_key",
                format!("{} is shorter than 32 characters", path.display()),
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&self.data_dir).map_err(fail)?;
                let key = crate::crypto::random_token(48);
                write_private_file(&path, &key).map_err(fail)?;
                tracing::info!(path = %path.display(), "generated a new secret key");
                Ok(SecretString::from(key))
            }
            Err(e) => Err(fail(e)),
        }
    }
}

/// The admin group's name: the oversight group `admins` unless configured.
fn admin_group(raw: Option<String>) -> Result<String, ConfigError> {
    let name = raw.unwrap_or_else(|| crate::approval::OVERSIGHT_GROUP.to_owned());
    let name = name.trim();
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return Err(bad("admin_group", format!("{name:?} is not a group name")));
    }
    Ok(name.to_owned())
}

/// Parses "30s", "15m", "1h", "30d" (any positive humantime duration).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim())
        .map_err(|_| format!("{text:?} is not a duration like 30s, 15m, 1h or 7d"))?;
    if duration.is_zero() {
        return Err(format!("{text:?} must be longer than zero"));
    }
    if duration.as_secs() > 10 * 365 * 86_400 {
        return Err(format!("{text:?} is longer than ten years"));
    }
    Ok(duration)
}

fn parse_proxies(text: &str) -> Result<Vec<std::net::IpAddr>, ConfigError> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse()
                .map_err(|_| bad("trusted_proxies", format!("{item:?} is not an IP address")))
        })
        .collect()
}

fn check_issuer(issuer: &str) -> Result<(), ConfigError> {
    let url = url::Url::parse(issuer)
        .map_err(|e| bad("issuer", format!("{issuer:?} is not a URL: {e}")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(bad(
            "issuer",
            "must be an https (or, for local use, http) URL",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "issuer",
            "must not have a query or fragment (OIDC Discovery §2)",
        ));
    }
    if issuer.ends_with('/') {
        return Err(bad(
            "issuer",
            "must not end with a slash (it is used exactly as written)",
        ));
    }
    Ok(())
}

fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")
}

impl Config {
    /// True when cookies must be `Secure` (the issuer is https).
    pub fn secure_cookies(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// The longest lifetime of a signed token, after which a retired key may leave JWKS.
    pub fn longest_signed_token_ttl(&self) -> Duration {
        self.access_token_ttl.max(self.id_token_ttl)
    }
}

#[cfg(test)]
mod tests;
