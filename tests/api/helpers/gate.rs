//! A loopback TCP forwarder that stands between the app and its PostgreSQL server and
//! can be shut ([`TcpGate::close`]: every forwarded connection is cut and new ones are
//! refused) and opened again on the same port: a real database outage and recovery,
//! seen by the app exactly as a network failure, without touching the shared server.
//! It runs on its own thread and runtime, so the test's own awaits never starve it.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The forwarder; it stops when dropped.
pub struct TcpGate {
    port: u16,
    open: watch::Sender<bool>,
    _thread: std::thread::JoinHandle<()>,
}

impl TcpGate {
    /// Forwards a new loopback port to `target`, open.
    pub fn to(target: SocketAddr) -> TcpGate {
        let (open, opened) = watch::channel(true);
        let (port_tx, port_rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("gate runtime");
            runtime.block_on(serve(target, opened, port_tx));
        });
        let port = port_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the gate binds a port");
        TcpGate {
            port,
            open,
            _thread: thread,
        }
    }

    /// The loopback port to connect to instead of the target's.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cuts every forwarded connection and refuses new ones.
    pub fn close(&self) {
        let _ = self.open.send(false);
    }

    /// Accepts connections again, on the same port.
    pub fn open(&self) {
        let _ = self.open.send(true);
    }
}

impl Drop for TcpGate {
    fn drop(&mut self) {
        // Closing and dropping the sender ends the serve loop and with it the thread.
        let _ = self.open.send(false);
    }
}

/// Accepts while open; on close, drops the listener (new connections are refused) and
/// every forwarding task (their sockets close); on open, binds the same port again.
async fn serve(target: SocketAddr, mut opened: watch::Receiver<bool>, port_tx: mpsc::Sender<u16>) {
    let mut port = 0;
    loop {
        if !*opened.borrow_and_update() {
            if opened.changed().await.is_err() {
                return;
            }
            continue;
        }
        let Some(listener) = bind(port).await else {
            return;
        };
        if port == 0 {
            port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
            let _ = port_tx.send(port);
        }
        let mut links = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    if let Ok((inbound, _)) = accepted {
                        links.spawn(forward(inbound, target));
                    }
                }
                changed = opened.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    if !*opened.borrow() {
                        break;
                    }
                }
            }
        }
        links.abort_all();
        drop(listener);
    }
}

/// Binds 127.0.0.1:`port`, retrying briefly while the old socket lingers.
async fn bind(port: u16) -> Option<TcpListener> {
    for _ in 0..50 {
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => return Some(listener),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    None
}

async fn forward(mut inbound: TcpStream, target: SocketAddr) {
    if let Ok(mut outbound) = TcpStream::connect(target).await {
        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
    }
}
