//! Executes parsed commands against the admin domain calls.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use serde_json::json;

use super::{
    read_password, Cli, ClientCommand, Command, GroupCommand, ScopeCommand, ScopeFlags, UserCommand,
};
use crate::audit::Actor;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::manage::{self, ClientSpec, NewUser, ScopeChanges};
use crate::startup::{self, Application};
use crate::store::{decode_list, Store};
use crate::telemetry;

/// Runs one command; errors are printed by the caller as one line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = super::load_config(&cli)?;
    let serving = matches!(cli.command, Command::Serve(_));
    telemetry::init_logging(config.log_format, if serving { "info" } else { "warn" });
    if let Command::Serve(_) = cli.command {
        tracing::info!(issuer = %config.issuer, database = %config.database_url.redacted(), "starting");
        let app = Application::build(config, Arc::new(SystemClock)).await?;
        app.run_until_stopped().await?;
        return Ok(ExitCode::SUCCESS);
    }
    let store = startup::open_store(&config).await?;
    let now = SystemClock.now();
    actix_web::web::block(move || execute(cli.command, &config, &store, now)).await?
}

fn execute(command: Command, config: &Config, store: &Store, now: i64) -> anyhow::Result<ExitCode> {
    let actor = Actor::Cli;
    let mut out = std::io::stdout().lock();
    match command {
        Command::Serve(_) | Command::Migrate => writeln!(out, "migrations are up to date")?,
        Command::User(command) => user(command, store, &actor, now, &mut out)?,
        Command::Group(command) => group(command, store, &actor, now, &mut out)?,
        Command::Scope(command) => scope(command, store, &actor, now, &mut out)?,
        Command::Client(command) => client(command, store, &actor, now, &mut out)?,
        Command::ActionType(command) => {
            super::action_types::action_type(command, store, &actor, now, &mut out)?
        }
        Command::Rules(command) => super::rules::rules(command, store, &actor, now, &mut out)?,
        Command::Keys(command) => super::keys::keys(command, config, store, &actor, now, &mut out)?,
        Command::Audit(command) => return super::audit::run(command, config, store, now, &mut out),
        Command::Approval(command) => super::approval::run(command, store, now, &mut out)?,
        Command::Outbox(command) => super::notify::outbox(command, store, &actor, now, &mut out)?,
        Command::Upstream(command) => {
            super::upstream::run(command, config, store, &actor, now, &mut out)?
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn user(
    command: UserCommand,
    store: &Store,
    actor: &Actor,
    now: i64,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            username,
            email,
            name,
            password_stdin,
        } => {
            let password = Some(read_password(password_stdin)?);
            let row = manage::add_user(
                store,
                NewUser {
                    username,
                    email,
                    name,
                    password,
                },
                actor,
                now,
            )?;
            writeln!(out, "created user {} (sub {})", row.username, row.id)?;
        }
        UserCommand::List { json } => {
            let users = manage::list_users(store)?;
            if json {
                let list: Vec<_> = users
                    .iter()
                    .map(|u| {
                        json!({"username": u.username, "sub": u.id,
                    "email": u.email, "name": u.name, "disabled": u.disabled})
                    })
                    .collect();
                writeln!(out, "{}", serde_json::Value::Array(list))?;
            } else {
                for u in users {
                    let status = if u.disabled { "disabled" } else { "active" };
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}",
                        u.username,
                        u.email,
                        u.name.unwrap_or_default(),
                        status,
                        u.id
                    )?;
                }
            }
        }
        UserCommand::Disable { username } => {
            manage::disable_user(store, &username, actor, now)?;
            writeln!(out, "disabled user {username}")?;
        }
        UserCommand::SetPassword {
            username,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            manage::set_password(store, &username, &password, actor, now)?;
            writeln!(out, "password set for {username}")?;
        }
        UserCommand::LinkSlack {
            username,
            slack_user_id,
        } => {
            manage::link_chat(store, &username, Some(&slack_user_id), None, actor, now)?;
            writeln!(out, "linked {username} to Slack user {slack_user_id}")?;
        }
        UserCommand::LinkTeams {
            username,
            object_id,
        } => {
            manage::link_chat(store, &username, None, Some(&object_id), actor, now)?;
            writeln!(out, "linked {username} to Teams user {object_id}")?;
        }
        UserCommand::SetAttr {
            username,
            name,
            value,
        } => {
            manage::set_attribute(store, &username, &name, &value, actor, now)?;
            writeln!(out, "set {name} of {username}")?;
        }
        UserCommand::UnsetAttr { username, name } => {
            match manage::remove_attribute(store, &username, &name, actor, now)? {
                true => writeln!(out, "removed {name} of {username}")?,
                false => writeln!(out, "{username} has no attribute {name}")?,
            }
        }
        UserCommand::ResetFactors { username } => {
            match manage::reset_factors(store, &username, actor, now)? {
                true => writeln!(out, "removed the second factors of {username}")?,
                false => writeln!(out, "{username} had no second factor")?,
            }
        }
        UserCommand::UnlinkChat { username } => {
            manage::link_chat(store, &username, Some(""), Some(""), actor, now)?;
            writeln!(out, "unlinked {username} from Slack and Teams")?;
        }
    }
    Ok(())
}

fn group(
    command: GroupCommand,
    store: &Store,
    actor: &Actor,
    now: i64,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match command {
        GroupCommand::SetNotify(args) => super::notify::set_notify(args, store, actor, now, out)?,
        GroupCommand::Add { name } => {
            manage::add_group(store, &name, actor, now)?;
            writeln!(out, "created group {name}")?;
        }
        GroupCommand::AddMember { group, username } => {
            manage::add_member(store, &group, &username, actor, now)?;
            writeln!(out, "added {username} to {group}")?;
        }
        GroupCommand::RemoveMember { group, username } => {
            manage::remove_member(store, &group, &username, actor, now)?;
            writeln!(out, "removed {username} from {group}")?;
        }
        GroupCommand::List { json } => {
            let groups = manage::list_groups(store)?;
            if json {
                let list: Vec<_> = groups
                    .iter()
                    .map(|(g, m)| json!({"name": g.name, "members": m}))
                    .collect();
                writeln!(out, "{}", serde_json::Value::Array(list))?;
            } else {
                for (g, members) in groups {
                    writeln!(out, "{}\t{}", g.name, members.join(","))?;
                }
            }
        }
    }
    Ok(())
}

impl ScopeFlags {
    fn into_changes(self) -> ScopeChanges {
        let flag = |on: bool, off: bool| match (on, off) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        };
        ScopeChanges {
            description: self.description,
            claims: self.claims,
            sensitive: flag(self.sensitive, self.not_sensitive),
            approver_groups: self.approvers,
            quorum: self.quorum,
            pending_ttl: self.pending_ttl,
            access_duration: self.access_duration,
            require_justification: flag(self.require_justification, self.no_require_justification),
            approver_max_age: self.approver_max_age,
            allow_chat_decisions: flag(self.chat_decisions, self.no_chat_decisions),
            approver_factor: self.approver_factor,
            subject_confirms: flag(self.subject_confirms, self.no_subject_confirms),
        }
    }
}

fn scope(
    command: ScopeCommand,
    store: &Store,
    actor: &Actor,
    now: i64,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match command {
        ScopeCommand::Add { name, flags } => {
            let row = manage::add_scope(store, &name, flags.into_changes(), actor, now)?;
            writeln!(
                out,
                "created scope {}{}",
                row.name,
                if row.sensitive { " (sensitive)" } else { "" }
            )?;
        }
        ScopeCommand::Update { name, flags } => {
            let row = manage::update_scope(store, &name, flags.into_changes(), actor, now)?;
            writeln!(
                out,
                "updated scope {} (policy version {})",
                row.name, row.policy_version
            )?;
        }
        ScopeCommand::List { json } => {
            let scopes = manage::list_scopes(store)?;
            if json {
                let list: Vec<_> = scopes.iter().map(scope_json).collect();
                writeln!(out, "{}", serde_json::Value::Array(list))?;
            } else {
                for s in scopes {
                    let policy = if s.sensitive {
                        format!(
                            "sensitive: approvers {} quorum {} pending {}s access {}s{}",
                            s.approver_groups
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join(","),
                            s.quorum,
                            s.pending_ttl,
                            s.access_duration,
                            if s.require_justification {
                                " justification required"
                            } else {
                                ""
                            }
                        )
                    } else {
                        "not sensitive".into()
                    };
                    writeln!(out, "{}\t{}\t{}", s.name, policy, s.description)?;
                }
            }
        }
    }
    Ok(())
}

fn scope_json(s: &crate::store::ScopeRow) -> serde_json::Value {
    json!({"name": s.name, "description": s.description, "claims": decode_list(&s.claims),
        "sensitive": s.sensitive, "approvers": s.approver_groups, "quorum": s.quorum,
        "pending_ttl": s.pending_ttl, "access_duration": s.access_duration,
        "require_justification": s.require_justification, "approver_max_age": s.approver_max_age,
        "chat_decisions": s.allow_chat_decisions, "approver_factor": s.approver_factor,
        "policy_version": s.policy_version, "subject_confirms": s.subject_confirms})
}

fn client(
    command: ClientCommand,
    store: &Store,
    actor: &Actor,
    now: i64,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match command {
        ClientCommand::Add {
            name,
            redirect_uris,
            scope,
            public,
            post_logout_redirect_uris,
            grant_types,
            id_token_alg,
            access_token_alg,
            backchannel_delivery_mode,
            backchannel_notification_endpoint,
            json,
        } => {
            let scopes = scope.split_whitespace().map(str::to_owned).collect();
            let grant_types = grant_types
                .iter()
                .map(|g| manage::parse_grant_type(g))
                .collect::<Result<_, _>>()?;
            let spec = ClientSpec {
                name,
                redirect_uris,
                scopes,
                public,
                post_logout_redirect_uris,
                grant_types,
                id_token_alg,
                access_token_alg,
                backchannel_mode: backchannel_delivery_mode,
                backchannel_notification_endpoint,
            };
            let created = manage::add_client(store, spec, actor, now)?;
            print_credentials(
                out,
                created.row.client_id.as_str(),
                created.secret.as_deref(),
                json,
            )?;
        }
        ClientCommand::List { json } => {
            let clients = manage::list_clients(store)?;
            if json {
                let list: Vec<_> = clients
                    .iter()
                    .map(|c| {
                        json!({"client_id": c.client_id, "name": c.name,
                    "redirect_uris": decode_list(&c.redirect_uris), "scope": c.allowed_scopes,
                    "grant_types": decode_list(&c.grant_types), "public": c.secret_hash.is_none(),
                    "post_logout_redirect_uris": decode_list(&c.post_logout_redirect_uris),
                    "id_token_alg": c.id_token_alg, "access_token_alg": c.access_token_alg})
                    })
                    .collect();
                writeln!(out, "{}", serde_json::Value::Array(list))?;
            } else {
                for c in clients {
                    let kind = if c.secret_hash.is_none() {
                        "public"
                    } else {
                        "confidential"
                    };
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}",
                        c.client_id,
                        c.name,
                        kind,
                        c.allowed_scopes,
                        decode_list(&c.redirect_uris).join(" ")
                    )?;
                }
            }
        }
        ClientCommand::Remove { client_id } => {
            manage::remove_client(store, &client_id, actor, now)?;
            writeln!(out, "removed client {client_id}")?;
        }
        ClientCommand::RotateSecret { client_id, json } => {
            let secret = manage::rotate_client_secret(store, &client_id, actor, now)?;
            print_credentials(out, &client_id, Some(&secret), json)?;
        }
    }
    Ok(())
}

fn print_credentials(
    out: &mut dyn Write,
    client_id: &str,
    secret: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        writeln!(
            out,
            "{}",
            json!({"client_id": client_id, "client_secret": secret})
        )?;
    } else {
        writeln!(out, "client_id: {client_id}")?;
        if let Some(secret) = secret {
            writeln!(out, "client_secret: {secret}")?;
            writeln!(out, "(the secret is shown only now; store it safely)")?;
        }
    }
    Ok(())
}
