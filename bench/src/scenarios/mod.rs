//! The scenarios of issue 21 and their workers: discovery and JWKS (OIDC Discovery 1.0
//! §4, RFC 7517), client_credentials (RFC 6749 §4.4), introspection (RFC 7662), and the
//! browser flows in [`flows`] and [`approval`].

pub mod approval;
pub mod flows;

use std::time::Duration;

use anyhow::{bail, Context, Result};
use hyper::StatusCode;

use crate::http::{path_of, Conn};
use crate::runner::{self, Bounds, Measured, Watched, Worker};
use crate::server::{Kind, Server};

/// Every scenario, in the order they run.
pub const ALL: [&str; 8] = [
    "discovery",
    "jwks",
    "client_credentials",
    "client_credentials_es256",
    "introspection",
    "sso_flow",
    "login_flow",
    "approval_flow",
];

/// The scenarios of "scale with the data" (countersign only; with and without `--seed`).
pub const SCALE: [&str; 4] = ["inbox", "status", "client_credentials", "introspection"];

/// The endpoints discovery names, as paths on the server.
#[derive(Clone)]
pub struct Endpoints {
    /// The authorization endpoint.
    pub authorize: String,
    /// The token endpoint.
    pub token: String,
    /// The userinfo endpoint.
    pub userinfo: String,
    /// The introspection endpoint.
    pub introspect: String,
    /// The JWKS.
    pub jwks: String,
}

/// Reads the discovery document.
pub async fn endpoints(addr: &str) -> Result<Endpoints> {
    let doc = Conn::new(addr)
        .get("/.well-known/openid-configuration")
        .await?
        .json()?;
    let path = |k: &str| -> Result<String> {
        Ok(path_of(
            doc[k].as_str().with_context(|| format!("discovery {k}"))?,
        ))
    };
    Ok(Endpoints {
        authorize: path("authorization_endpoint")?,
        token: path("token_endpoint")?,
        userinfo: path("userinfo_endpoint")?,
        introspect: path("introspection_endpoint")?,
        jwks: path("jwks_uri")?,
    })
}

/// What every worker shares.
#[derive(Clone)]
pub struct Ctx {
    /// The server's address.
    pub addr: String,
    /// Which server.
    pub kind: Kind,
    /// Its endpoints.
    pub ends: Endpoints,
    /// The confidential client.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// The machine scope.
    pub machine_scope: String,
    /// countersign's ES256 machine client, if any (see [`Server::es256_client`]).
    pub es256_client: Option<(String, String)>,
}

/// Which machine token to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    /// An RS256 JWT (both servers' default).
    Rs256,
    /// An ES256 JWT: countersign's ES256 client; the peer's `urn:bench:es256`.
    Es256,
    /// An opaque token from the peer (it introspects only what it stores);
    /// countersign's usual JWT.
    Opaque,
}

impl Ctx {
    /// From a running server.
    pub async fn of(server: &Server) -> Result<Ctx> {
        Ok(Ctx {
            addr: server.addr.clone(),
            kind: server.kind,
            ends: endpoints(&server.addr).await?,
            client_id: server.client_id.clone(),
            client_secret: server.client_secret.clone(),
            machine_scope: server.machine_scope.clone(),
            es256_client: server.es256_client.clone(),
        })
    }

    fn basic(&self) -> Option<(&str, &str)> {
        Some((&self.client_id, &self.client_secret))
    }

    /// A client_credentials grant for a token of the `machine` kind.
    pub async fn machine_token(&self, conn: &mut Conn, machine: Machine) -> Result<String> {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("scope", self.machine_scope.as_str()),
        ];
        let mut basic = self.basic();
        match (machine, self.kind, &self.es256_client) {
            (Machine::Opaque, Kind::Peer, _) => form.push(("resource", "urn:bench:opaque")),
            (Machine::Es256, Kind::Peer, _) => form.push(("resource", "urn:bench:es256")),
            (Machine::Es256, _, Some((id, secret))) => basic = Some((id, secret)),
            (Machine::Es256, _, None) => bail!("no ES256 machine client"),
            _ => {}
        }
        let answer = conn.post_form(&self.ends.token, &form, basic).await?;
        let body = answer.expect_status(StatusCode::OK)?.json()?;
        Ok(body["access_token"]
            .as_str()
            .context("access_token")?
            .to_owned())
    }
}

/// A GET that must answer 200 (discovery, JWKS).
struct Get {
    conn: Conn,
    path: String,
}

impl Worker for Get {
    async fn once(&mut self) -> Result<Option<Duration>> {
        self.conn
            .get(&self.path)
            .await?
            .expect_status(StatusCode::OK)?;
        Ok(None)
    }
}

struct ClientCredentials {
    conn: Conn,
    ctx: Ctx,
    machine: Machine,
}

impl Worker for ClientCredentials {
    async fn once(&mut self) -> Result<Option<Duration>> {
        self.ctx.machine_token(&mut self.conn, self.machine).await?;
        Ok(None)
    }
}

struct Introspection {
    conn: Conn,
    ctx: Ctx,
    token: String,
}

impl Worker for Introspection {
    async fn once(&mut self) -> Result<Option<Duration>> {
        let form = [("token", self.token.as_str())];
        let answer = self
            .conn
            .post_form(&self.ctx.ends.introspect, &form, self.ctx.basic())
            .await?;
        let body = answer.expect_status(StatusCode::OK)?.json()?;
        if body["active"] != true {
            bail!("introspection: not active: {body}");
        }
        Ok(None)
    }
}

/// Prepares `concurrency` workers for `scenario` (sign-ins and tokens happen here,
/// before the clock starts), then runs the phase.
pub async fn run(
    scenario: &str,
    ctx: &Ctx,
    concurrency: usize,
    users: usize,
    bounds: Bounds,
    watched: &Watched,
) -> Result<Measured> {
    let conn = || Conn::new(&ctx.addr);
    Ok(match scenario {
        "discovery" | "jwks" => {
            let path = match scenario {
                "jwks" => ctx.ends.jwks.clone(),
                _ => "/.well-known/openid-configuration".to_owned(),
            };
            let ws = (0..concurrency).map(|_| Get {
                conn: conn(),
                path: path.clone(),
            });
            runner::phase(ws.collect(), bounds, watched).await
        }
        "client_credentials" | "client_credentials_es256" => {
            let machine = match scenario {
                "client_credentials_es256" => Machine::Es256,
                _ => Machine::Rs256,
            };
            let ws = (0..concurrency).map(|_| ClientCredentials {
                conn: conn(),
                ctx: ctx.clone(),
                machine,
            });
            runner::phase(ws.collect(), bounds, watched).await
        }
        "introspection" => {
            let mut ws = vec![];
            for _ in 0..concurrency {
                let mut c = conn();
                let token = ctx.machine_token(&mut c, Machine::Opaque).await?;
                ws.push(Introspection {
                    conn: c,
                    ctx: ctx.clone(),
                    token,
                });
            }
            runner::phase(ws, bounds, watched).await
        }
        "sso_flow" => {
            let mut ws = vec![];
            for i in 0..concurrency {
                ws.push(flows::Sso::signed_in(ctx.clone(), i % users).await?);
            }
            runner::phase(ws, bounds, watched).await
        }
        "login_flow" => {
            let ws = (0..concurrency).map(|i| flows::Login::new(ctx.clone(), i % users));
            runner::phase(ws.collect(), bounds, watched).await
        }
        "inbox" | "status" if ctx.kind == Kind::Peer => bail!("{scenario}: countersign only"),
        "inbox" => {
            let mut ws = vec![];
            for i in 0..concurrency {
                ws.push(approval::Inbox::ready(ctx, i % users).await?);
            }
            runner::phase(ws, bounds, watched).await
        }
        "status" => {
            let mut ws = vec![];
            for i in 0..concurrency {
                ws.push(approval::Status::ready(ctx, i % users).await?);
            }
            runner::phase(ws, bounds, watched).await
        }
        "approval_flow" => {
            if ctx.kind == Kind::Peer {
                bail!("approval_flow has no peer equivalent");
            }
            let mut ws = vec![];
            for i in 0..concurrency {
                ws.push(approval::Countersigned::ready(ctx.clone(), i % users).await?);
            }
            runner::phase(ws, bounds, watched).await
        }
        other => bail!("unknown scenario {other}"),
    })
}
