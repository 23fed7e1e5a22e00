//! `countersign upstream …`: upstream OpenID Connect providers users sign in through
//! (issue 22). The client secret is read from stdin, sealed, and never printed.

use std::io::Write;

use clap::Subcommand;

use super::read_password;
use crate::audit::Actor;
use crate::config::Config;
use crate::crypto::Sealer;
use crate::manage::{self, NewUpstream, UPSTREAM_SECRET_PURPOSE};
use crate::store::Store;

/// `upstream …`
#[derive(Debug, Subcommand)]
pub enum UpstreamCommand {
    /// Register an upstream provider; the login page offers "Sign in with NAME".
    Add {
        /// Name (letters, digits, '-', '_'), shown on the login page.
        name: String,
        /// Its issuer URL (discovery is read from ISSUER/.well-known/openid-configuration).
        #[arg(long)]
        issuer: String,
        /// Our client_id there (its redirect URI: ISSUER/login/upstream/NAME/callback
        /// on this server).
        #[arg(long)]
        client_id: String,
        /// Read the client secret from the first line of stdin (required: it is never
        /// taken from the command line).
        #[arg(long, required = true)]
        client_secret_stdin: bool,
        /// Scopes to ask for.
        #[arg(long, default_value = "openid profile email")]
        scope: String,
        /// The claim (in the ID token or userinfo) that lists the user's groups.
        #[arg(long, default_value = "groups")]
        groups_claim: String,
        /// Map an upstream group to a local group (repeat for more), checked at every
        /// sign-in: membership follows what the upstream says.
        #[arg(long = "map-group", value_name = "UPSTREAM=LOCAL", value_parser = parse_map)]
        map_groups: Vec<(String, String)>,
    },
    /// List upstream providers (never their secrets).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove an upstream provider (the users it created stay).
    Remove {
        /// Name.
        name: String,
    },
}

fn parse_map(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((upstream, local)) if !upstream.is_empty() && !local.is_empty() => {
            Ok((upstream.to_owned(), local.to_owned()))
        }
        _ => Err(format!("{text:?} is not UPSTREAM=LOCAL")),
    }
}

pub(super) fn run(
    command: UpstreamCommand,
    config: &Config,
    store: &Store,
    actor: &Actor,
    now: i64,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match command {
        UpstreamCommand::Add {
            name,
            issuer,
            client_id,
            client_secret_stdin,
            scope,
            groups_claim,
            map_groups,
        } => {
            let client_secret = read_password(client_secret_stdin)?;
            let sealer =
                Sealer::for_purpose(&config.resolve_secret_key()?, UPSTREAM_SECRET_PURPOSE);
            let new = NewUpstream {
                name,
                issuer,
                client_id,
                client_secret,
                scope,
                groups_claim: Some(groups_claim),
                group_map: map_groups,
            };
            let added = manage::add_upstream(store, &sealer, new, actor, now)?;
            writeln!(
                out,
                "added upstream {}; register this redirect URI there: {}/login/upstream/{}/callback",
                added.name, config.issuer, added.name
            )?;
        }
        UpstreamCommand::List { json } => {
            let upstreams = manage::list_upstreams(store)?;
            if json {
                writeln!(out, "{}", serde_json::to_string(&upstreams)?)?;
            } else {
                for u in upstreams {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}",
                        u.name,
                        u.issuer,
                        u.client_id,
                        u.scope,
                        u.map_groups.join(",")
                    )?;
                }
            }
        }
        UpstreamCommand::Remove { name } => {
            manage::remove_upstream(store, &name, actor, now)?;
            writeln!(out, "removed upstream {name}")?;
        }
    }
    Ok(())
}
