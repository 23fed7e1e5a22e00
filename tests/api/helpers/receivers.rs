//! Local receivers standing in for the services countersign notifies: an HTTP receiver
//! (Slack's Web API, a Teams Workflows webhook, a webhook consumer) that records every
//! request and answers from a script (or, for a path given a fixed answer, always the
//! same: the Bot Framework's metadata and keys), and an SMTP sink that records every message.
//! Loopback only; each stops when dropped.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

/// One request the HTTP receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// The path, e.g. `/chat.postMessage`.
    pub path: String,
    /// Header (lower-case name, value) pairs.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
}

impl Received {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// A scripted answer: status, JSON body and extra headers.
type Answer = (u16, serde_json::Value, Vec<(String, String)>);

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Answer>>,
    by_path: Mutex<HashMap<String, Answer>>,
}

/// An HTTP server on a random loopback port recording what it receives.
pub struct HttpReceiver {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    shared: Arc<Shared>,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

async fn record(
    req: HttpRequest,
    body: web::Bytes,
    shared: web::Data<Arc<Shared>>,
) -> HttpResponse {
    shared.received.lock().unwrap().push(Received {
        path: req.path().to_owned(),
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: body.to_vec(),
        at: Instant::now(),
    });
    let fixed = shared.by_path.lock().unwrap().get(req.path()).cloned();
    let answer = fixed.or_else(|| shared.script.lock().unwrap().pop_front());
    let (status, json, headers) = answer.unwrap_or_else(|| {
        // By default answer as Slack does to a post (and 200 to anyone else).
        let ts = format!("1700000000.{:06}", shared.received.lock().unwrap().len());
        (
            200,
            serde_json::json!({"ok": true, "channel": "C0SLACKCH", "ts": ts}),
            vec![],
        )
    });
    let mut response = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    for (name, value) in headers {
        response.insert_header((name, value));
    }
    response.json(json)
}

impl HttpReceiver {
    /// Starts a receiver.
    pub fn start() -> HttpReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared::default());
        let data = web::Data::new(shared.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let system = actix_web::rt::System::new();
            system.block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .default_service(web::to(record))
                })
                .workers(1)
                .listen(listener)
                .unwrap()
                .run();
                tx.send(server.handle()).unwrap();
                let _ = server.await;
            });
        });
        let handle = rx.recv().unwrap();
        HttpReceiver {
            url,
            shared,
            handle,
            thread: Some(thread),
        }
    }

    /// Answers the next request with `status` and `body` (then the default again).
    pub fn answer_next(&self, status: u16, body: serde_json::Value, headers: &[(&str, &str)]) {
        let headers = headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        self.shared
            .script
            .lock()
            .unwrap()
            .push_back((status, body, headers));
    }

    /// Answers every request for `path` with `status` and `body` from now on (before
    /// the script); called again, replaces that answer.
    pub fn answer_path(&self, path: &str, status: u16, body: serde_json::Value) {
        self.shared
            .by_path
            .lock()
            .unwrap()
            .insert(path.to_owned(), (status, body, Vec::new()));
    }

    /// How many requests for `path` arrived so far.
    pub fn count(&self, path: &str) -> usize {
        self.received().iter().filter(|r| r.path == path).count()
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits (at most 10 s) until `count` requests have arrived; returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.received();
            if got.len() >= count {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} requests, received {}: {:?}",
                got.len(),
                got.iter().map(|r| r.path.as_str()).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for HttpReceiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An SMTP sink on a random loopback port: accepts every message (plain SMTP).
pub struct SmtpSink {
    /// The port.
    pub port: u16,
    messages: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    /// Starts a sink; it serves connections one at a time until the test ends.
    pub fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let store = messages.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let _ = serve_smtp(stream, &store);
            }
        });
        SmtpSink { port, messages }
    }

    /// Waits (at most 10 s) for `count` messages; returns them (raw DATA).
    pub async fn wait_for(&self, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.messages.lock().unwrap().clone();
            if got.len() >= count {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} mails, got {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn serve_smtp(stream: std::net::TcpStream, messages: &Mutex<Vec<String>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    writer.write_all(b"220 sink ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") {
            writer.write_all(b"250-sink\r\n250 8BITMIME\r\n")?;
        } else if command.starts_with("DATA") {
            writer.write_all(b"354 go ahead\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(&line);
            }
            messages.lock().unwrap().push(data);
            writer.write_all(b"250 queued\r\n")?;
        } else if command.starts_with("QUIT") {
            writer.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            writer.write_all(b"250 ok\r\n")?;
        }
    }
}
