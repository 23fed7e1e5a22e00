//! `approval_flow` (countersign only; DESIGN.md §5): a signed-in requester who consented
//! before asks for the sensitive scope `payments:write` → the waiting page; her page's
//! status stream (`/approvals/{id}/events`, Server-Sent Events) is open; an approver
//! opens the review page and approves → the stream delivers the decision → the waiting
//! page continues to the client's redirect with a code → tokens. The secondary latency
//! is from the approver's POST leaving the driver to the requester holding the redirect.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use http_body_util::BodyExt;
use hyper::{Method, StatusCode};

use super::flows::{authorization, browse, redeem, Authorization, Landing};
use super::Ctx;
use crate::http::{hidden_input, path_of, query_param, Conn};
use crate::server::REDIRECT_URI;

const SCOPE: &str = "openid profile payments:write";

/// One requester and one approver, both signed in.
pub struct Countersigned {
    ctx: Ctx,
    requester: Conn,
    approver: Conn,
}

impl Countersigned {
    /// Signs requester `u{i}` in (consenting to the sensitive scope; that first request
    /// stays pending) and approver `a{i}`.
    pub async fn ready(ctx: Ctx, i: usize) -> Result<Countersigned> {
        let (requester, _) = requester_waiting(&ctx, i).await?;
        let approver = approver(&ctx, i).await?;
        Ok(Countersigned {
            ctx,
            requester,
            approver,
        })
    }
}

/// Requester `u{i}` signs in, consents to the sensitive scope and lands on the waiting
/// page: her browser and the pending approval's id.
pub async fn requester_waiting(ctx: &Ctx, i: usize) -> Result<(Conn, String)> {
    let mut requester = Conn::new(&ctx.addr);
    let auth = authorization(ctx, SCOPE, None);
    match browse(&mut requester, &auth, Some(&format!("u{i}"))).await? {
        Landing::Waiting(page) => Ok((requester, approval_id(&page)?)),
        Landing::Code(_) => bail!("a sensitive scope went through without approval"),
    }
}

/// Approver `a{i}` signed in through a bare `/login` (which leads to the inbox).
pub async fn approver(ctx: &Ctx, i: usize) -> Result<Conn> {
    let mut approver = Conn::new(&ctx.addr);
    let page = approver
        .get("/login")
        .await?
        .expect_status(StatusCode::OK)?
        .text();
    let csrf = hidden_input(&page, "csrf_token").context("login CSRF")?;
    let who = format!("a{i}");
    let form = [
        ("username", who.as_str()),
        ("password", crate::server::PASSWORD),
        ("csrf_token", csrf.as_str()),
    ];
    let answer = approver.post_form("/login", &form, None).await?;
    if answer.redirect()? != "/approvals" {
        bail!("approver sign-in went to {:?}", answer.location);
    }
    Ok(approver)
}

fn approval_id(waiting: &str) -> Result<String> {
    waiting
        .strip_prefix("/approvals/")
        .and_then(|r| r.strip_suffix("/waiting"))
        .map(str::to_owned)
        .with_context(|| format!("not a waiting page: {waiting}"))
}

/// Reads an event stream until a chunk names `state`; fails if it ends first.
async fn stream_until(body: &mut hyper::body::Incoming, state: &str) -> Result<()> {
    let want = format!("\"state\":\"{state}\"");
    let mut seen = String::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            seen.push_str(&String::from_utf8_lossy(&data));
            if seen.contains(&want) {
                return Ok(());
            }
        }
    }
    bail!("the status stream ended without {state}: {seen}")
}

impl crate::runner::Worker for Countersigned {
    async fn once(&mut self) -> Result<Option<Duration>> {
        let auth: Authorization = authorization(&self.ctx, SCOPE, None);
        let waiting = self.requester.get(&auth.path).await?;
        let waiting = waiting.redirect()?.to_owned();
        let id = approval_id(&waiting)?;
        // The waiting page's stream, on its own connection with the same cookies.
        let mut stream_conn = self.requester.sibling();
        let events = format!("/approvals/{id}/events");
        let response = stream_conn
            .send_streaming(Method::GET, &events, &[], None)
            .await?;
        let mut body = response.into_body();
        stream_until(&mut body, "pending").await?;
        // The approver reviews, then decides.
        let review = self.approver.get(&format!("/approvals/{id}")).await?;
        let csrf = hidden_input(&review.expect_status(StatusCode::OK)?.text(), "csrf_token")
            .context("review CSRF")?;
        let decided = Instant::now();
        let form = [("decision", "approve"), ("csrf_token", csrf.as_str())];
        let vote = self
            .approver
            .post_form(&format!("/approvals/{id}"), &form, None)
            .await?;
        if vote.status != StatusCode::SEE_OTHER {
            bail!("vote: {} {}", vote.status, vote.text());
        }
        stream_until(&mut body, "approved").await?;
        // The page continues: waiting → /authorize/continue → the client's redirect.
        let mut next = self.requester.get(&waiting).await?.redirect()?.to_owned();
        for _ in 0..4 {
            if next.starts_with(REDIRECT_URI) {
                break;
            }
            next = self
                .requester
                .get(&path_of(&next))
                .await?
                .redirect()?
                .to_owned();
        }
        let redirected = decided.elapsed();
        let code = query_param(&next, "code").with_context(|| format!("no code: {next}"))?;
        redeem(&mut self.requester, &self.ctx, &code, &auth).await?;
        Ok(Some(redirected))
    }
}

/// `inbox` (issue 21 item 5): an approver's inbox page.
pub struct Inbox {
    approver: Conn,
}

impl Inbox {
    /// Approver `a{i}`, signed in.
    pub async fn ready(ctx: &Ctx, i: usize) -> Result<Inbox> {
        Ok(Inbox {
            approver: approver(ctx, i).await?,
        })
    }
}

impl crate::runner::Worker for Inbox {
    async fn once(&mut self) -> Result<Option<Duration>> {
        self.approver
            .get("/approvals")
            .await?
            .expect_status(StatusCode::OK)?;
        Ok(None)
    }
}

/// `status` (issue 21 item 5): the requester's status JSON of her pending approval.
pub struct Status {
    requester: Conn,
    path: String,
}

impl Status {
    /// Requester `u{i}` with a pending approval.
    pub async fn ready(ctx: &Ctx, i: usize) -> Result<Status> {
        let (requester, id) = requester_waiting(ctx, i).await?;
        Ok(Status {
            requester,
            path: format!("/approvals/{id}/status"),
        })
    }
}

impl crate::runner::Worker for Status {
    async fn once(&mut self) -> Result<Option<Duration>> {
        let status = self.requester.get(&self.path).await?;
        let body = status.expect_status(StatusCode::OK)?.json()?;
        if body["state"] != "pending" {
            bail!("status: {body}");
        }
        Ok(None)
    }
}
