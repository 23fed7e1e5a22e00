//! A minimal HTTP/1.1 keep-alive client on hyper's connection API (RFC 9112): one TCP
//! connection per simulated browser, a cookie jar (RFC 6265, names and values only: the
//! servers are on loopback and scoped to one host), forms and Basic authentication.
//! Deliberately thinner than reqwest so the driver is not the bottleneck.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Context, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// An answer read in full.
pub struct Answer {
    /// The status code.
    pub status: StatusCode,
    /// `Location`, when sent.
    pub location: Option<String>,
    /// The body.
    pub body: Bytes,
}

impl Answer {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body).context("a JSON body")
    }

    /// `Location` of a redirect (any 3xx), or an error naming what came instead.
    pub fn redirect(&self) -> Result<&str> {
        match (&self.location, self.status.is_redirection()) {
            (Some(l), true) => Ok(l),
            _ => bail!(
                "expected a redirect, got {} {}",
                self.status,
                snippet(&self.body)
            ),
        }
    }

    /// Fails unless the status is `want`.
    pub fn expect_status(self, want: StatusCode) -> Result<Answer> {
        if self.status != want {
            bail!(
                "expected {want}, got {} {}",
                self.status,
                snippet(&self.body)
            );
        }
        Ok(self)
    }
}

fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(160)]).replace('\n', " ")
}

/// One keep-alive connection with its cookie jar: a "browser" or an API client.
pub struct Conn {
    addr: String,
    sender: Option<SendRequest<Full<Bytes>>>,
    cookies: BTreeMap<String, String>,
}

impl Conn {
    /// A client for `addr` (`host:port`); connects on first use.
    pub fn new(addr: &str) -> Conn {
        Conn {
            addr: addr.to_owned(),
            sender: None,
            cookies: BTreeMap::new(),
        }
    }

    /// A new connection carrying the same cookies (a second request of the same
    /// browser in parallel).
    pub fn sibling(&self) -> Conn {
        Conn {
            addr: self.addr.clone(),
            sender: None,
            cookies: self.cookies.clone(),
        }
    }

    /// Forgets every cookie (a new browser on the same connection).
    pub fn clear_cookies(&mut self) {
        self.cookies.clear();
    }

    async fn sender(&mut self) -> Result<&mut SendRequest<Full<Bytes>>> {
        let usable = match &mut self.sender {
            Some(s) => s.ready().await.is_ok(),
            None => false,
        };
        if !usable {
            let tcp = TcpStream::connect(&self.addr).await?;
            tcp.set_nodelay(true)?;
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            self.sender = Some(sender);
        }
        self.sender.as_mut().ok_or_else(|| anyhow!("no connection"))
    }

    /// Sends a request and returns the response head with its unread body.
    pub async fn send_streaming(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(header::HeaderName, String)],
        body: Option<(String, &'static str)>,
    ) -> Result<hyper::Response<Incoming>> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, &self.addr);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header(header::COOKIE, jar.join("; "));
        }
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let payload = match body {
            Some((text, content_type)) => {
                request = request.header(header::CONTENT_TYPE, content_type);
                Full::new(Bytes::from(text))
            }
            None => Full::new(Bytes::new()),
        };
        let request = request.body(payload)?;
        let response = self.sender().await?.send_request(request).await?;
        for cookie in response.headers().get_all(header::SET_COOKIE) {
            self.keep_cookie(cookie);
        }
        Ok(response)
    }

    fn keep_cookie(&mut self, cookie: &HeaderValue) {
        let Ok(text) = cookie.to_str() else { return };
        let pair = text.split(';').next().unwrap_or_default();
        let Some((name, value)) = pair.split_once('=') else {
            return;
        };
        let expired = text.to_ascii_lowercase().contains("max-age=0") || value.is_empty();
        if expired {
            self.cookies.remove(name.trim());
        } else {
            self.cookies
                .insert(name.trim().to_owned(), value.trim().to_owned());
        }
    }

    /// Sends a request and reads the whole answer.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(header::HeaderName, String)],
        body: Option<(String, &'static str)>,
    ) -> Result<Answer> {
        let response = self.send_streaming(method, path, headers, body).await?;
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Answer {
            status,
            location,
            body,
        })
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Result<Answer> {
        self.send(Method::GET, path, &[], None).await
    }

    /// `GET path` with a Bearer token.
    pub async fn get_bearer(&mut self, path: &str, token: &str) -> Result<Answer> {
        let auth = [(header::AUTHORIZATION, format!("Bearer {token}"))];
        self.send(Method::GET, path, &auth, None).await
    }

    /// `POST path` with a form, optionally with HTTP Basic client authentication.
    pub async fn post_form(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Result<Answer> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut headers = vec![];
        if let Some((id, secret)) = basic {
            headers.push((header::AUTHORIZATION, basic_auth(id, secret)));
        }
        let body = Some((body, "application/x-www-form-urlencoded"));
        self.send(Method::POST, path, &headers, body).await
    }
}

/// `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
pub fn basic_auth(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

/// The path and query of `location` (absolute or relative), for this connection.
pub fn path_of(location: &str) -> String {
    match url::Url::parse(location) {
        Ok(url) => match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        },
        Err(_) => location.to_owned(),
    }
}

/// The query parameter `name` of an absolute or relative URL.
pub fn query_param(location: &str, name: &str) -> Option<String> {
    let query = location.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `<input … name="NAME" value="…">` of a page (the entities askama and the peer use).
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = start + html[start..].find('"')?;
    Some(
        html[start..end]
            .replace("&#x2F;", "/")
            .replace("&#x3D;", "=")
            .replace("&#43;", "+")
            .replace("&quot;", "\"")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_redirect_parameters_and_hidden_inputs() {
        let l = "http://rp.example/cb?code=a%2Bb&state=s";
        assert_eq!(query_param(l, "code").as_deref(), Some("a+b"));
        assert_eq!(path_of("http://127.0.0.1:1/x?y=1"), "/x?y=1");
        assert_eq!(path_of("/login?request=r"), "/login?request=r");
        let html = r#"<input type="hidden" name="csrf_token" value="a&#x2F;b&amp;c">"#;
        assert_eq!(hidden_input(html, "csrf_token").as_deref(), Some("a/b&c"));
    }

    #[test]
    fn basic_auth_encodes_the_parts() {
        assert_eq!(basic_auth("a b", "c"), "Basic YStiOmM=");
    }
}
