//! The browser flows, driven like a browser with a cookie jar (OIDC Core §3.1, RFC 7636
//! PKCE S256): `sso_flow` (a signed-in user who consented before: authorize → code →
//! token → userinfo) and `login_flow` (a new browser: authorize → login form with the
//! password → consent form → code → token → userinfo). Both servers' pages are read
//! generically: the first POST form, its hidden inputs, a password field or an Allow
//! button.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hyper::StatusCode;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::Ctx;
use crate::http::{path_of, query_param, Conn};
use crate::server::{PASSWORD, REDIRECT_URI};

fn random() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// One authorization request: its path, and the PKCE verifier and state it used.
pub struct Authorization {
    /// `/authorize?…` on the server.
    pub path: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// The state sent.
    pub state: String,
}

/// An authorization request for `scope` (PKCE S256, state, nonce; `prompt` if any).
pub fn authorization(ctx: &Ctx, scope: &str, prompt: Option<&str>) -> Authorization {
    let verifier = random();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let state = random();
    let nonce = random();
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", ctx.client_id.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("scope", scope),
        ("state", &state),
        ("nonce", &nonce),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    if let Some(prompt) = prompt {
        pairs.push(("prompt", prompt));
    }
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    Authorization {
        path: format!("{}?{query}", ctx.ends.authorize),
        verifier: verifier.clone(),
        state: state.clone(),
    }
}

/// The first POST form of a page: its action and its hidden inputs.
pub fn post_form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let start = html.find("<form method=\"post\"")?;
    let form = &html[start..start + html[start..].find("</form>")?];
    let action = attr(&form[..form.find('>')?], "action")?;
    let mut fields = vec![];
    for tag in form.split("<input").skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        if attr(tag, "type").as_deref() == Some("hidden") {
            if let (Some(name), Some(value)) = (attr(tag, "name"), attr(tag, "value")) {
                fields.push((name, value));
            }
        }
    }
    Some((action, fields))
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = start + tag[start..].find('"')?;
    Some(
        tag[start..end]
            .replace("&#x2F;", "/")
            .replace("&#x3D;", "=")
            .replace("&quot;", "\"")
            .replace("&amp;", "&"),
    )
}

/// Where a browse ended.
pub enum Landing {
    /// At the client with this code.
    Code(String),
    /// On countersign's waiting page (`/approvals/{id}/waiting`).
    Waiting(String),
}

impl Landing {
    /// The code, or an error when the flow is waiting for an approval.
    pub fn code(self) -> Result<String> {
        match self {
            Landing::Code(code) => Ok(code),
            Landing::Waiting(page) => bail!("pending approval: {page}"),
        }
    }
}

/// Follows the server from `auth.path` to the client's redirect (or a waiting page),
/// signing in as `user` and allowing consent when asked.
pub async fn browse(conn: &mut Conn, auth: &Authorization, user: Option<&str>) -> Result<Landing> {
    let mut answer = conn.get(&auth.path).await?;
    for _ in 0..12 {
        if answer.status.is_redirection() {
            let location = answer.redirect()?.to_owned();
            if location.starts_with(REDIRECT_URI) {
                if query_param(&location, "state").as_deref() != Some(auth.state.as_str()) {
                    bail!("redirect without our state: {location}");
                }
                return query_param(&location, "code")
                    .map(Landing::Code)
                    .with_context(|| format!("no code: {location}"));
            }
            if location.ends_with("/waiting") {
                return Ok(Landing::Waiting(location));
            }
            answer = conn.get(&path_of(&location)).await?;
            continue;
        }
        let html = answer.expect_status(StatusCode::OK)?.text();
        let (action, mut fields) = post_form(&html).context("a page without a form")?;
        if html.contains("name=\"password\"") {
            let user = user.context("asked to sign in")?;
            fields.push(("username".into(), user.to_owned()));
            fields.push(("password".into(), PASSWORD.to_owned()));
        } else {
            fields.push(("decision".into(), "allow".into()));
        }
        let form: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        answer = conn.post_form(&path_of(&action), &form, None).await?;
    }
    bail!("too many hops")
}

/// Exchanges `code` (with its PKCE verifier) and calls userinfo with the access token.
pub async fn redeem(conn: &mut Conn, ctx: &Ctx, code: &str, auth: &Authorization) -> Result<()> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", auth.verifier.as_str()),
    ];
    let basic = Some((ctx.client_id.as_str(), ctx.client_secret.as_str()));
    let tokens = conn.post_form(&ctx.ends.token, &form, basic).await?;
    let tokens = tokens.expect_status(StatusCode::OK)?.json()?;
    if tokens["id_token"].as_str().is_none() {
        bail!("no id_token: {tokens}");
    }
    let at = tokens["access_token"].as_str().context("access_token")?;
    conn.get_bearer(&ctx.ends.userinfo, at)
        .await?
        .expect_status(StatusCode::OK)?;
    Ok(())
}

/// What the browser flows ask for.
pub const SCOPE: &str = "openid profile email";

/// `sso_flow`: one browser signed in (and consented) before the clock starts.
pub struct Sso {
    conn: Conn,
    ctx: Ctx,
}

impl Sso {
    /// Signs user `u{i}` in through a full login flow.
    pub async fn signed_in(ctx: Ctx, i: usize) -> Result<Sso> {
        let mut conn = Conn::new(&ctx.addr);
        let auth = authorization(&ctx, SCOPE, None);
        browse(&mut conn, &auth, Some(&format!("u{i}")))
            .await?
            .code()?;
        Ok(Sso { conn, ctx })
    }
}

impl crate::runner::Worker for Sso {
    async fn once(&mut self) -> Result<Option<Duration>> {
        let auth = authorization(&self.ctx, SCOPE, None);
        let code = browse(&mut self.conn, &auth, None).await?.code()?;
        redeem(&mut self.conn, &self.ctx, &code, &auth).await?;
        Ok(None)
    }
}

/// `login_flow`: a new browser each time, the password and the consent form.
pub struct Login {
    conn: Conn,
    ctx: Ctx,
    user: String,
}

impl Login {
    /// Signs in as `u{i}` on every operation.
    pub fn new(ctx: Ctx, i: usize) -> Login {
        Login {
            conn: Conn::new(&ctx.addr),
            ctx,
            user: format!("u{i}"),
        }
    }
}

impl crate::runner::Worker for Login {
    async fn once(&mut self) -> Result<Option<Duration>> {
        self.conn.clear_cookies();
        let auth = authorization(&self.ctx, SCOPE, Some("consent"));
        let code = browse(&mut self.conn, &auth, Some(&self.user))
            .await?
            .code()?;
        redeem(&mut self.conn, &self.ctx, &code, &auth).await?;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_first_post_form() {
        let html = r#"<form method="get" action="/x"></form>
            <form method="post" action="/interaction/a&#x2F;b">
            <input type="hidden" name="csrf_token" value="t&amp;1">
            <input id="username" name="username">
            <button type="submit" name="decision" value="allow">Allow</button></form>"#;
        let (action, fields) = post_form(html).unwrap_or_default();
        assert_eq!(action, "/interaction/a/b");
        assert_eq!(fields, vec![("csrf_token".to_owned(), "t&1".to_owned())]);
    }
}
