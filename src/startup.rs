//! Builds the running server: storage (migrated), secret key, signing keys, the
//! actix-web app with its routes and middleware, and background workers.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{middleware, web, App, HttpServer};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::accounts::factors::Account;
use crate::accounts::passkeys::PasskeyFactor;
use crate::accounts::totp::TotpFactor;
use crate::approval::step_up::StepUp;
use crate::approval::Desk;
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::{AnchorKey, KeyRing, Sealer};
use crate::http::{self, AppState};
use crate::manage;
use crate::oidc::Provider;
use crate::store::Store;
use crate::telemetry;

/// A bound, ready-to-run server.
pub struct Application {
    server: Server,
    port: u16,
    state: AppState,
    background: Background,
}

/// What the background work of `serve` needs (the handlers never see it).
struct Background {
    store: Store,
    clock: Arc<dyn Clock>,
    anchor_interval: Option<std::time::Duration>,
    anchor_key: Arc<AnchorKey>,
    outbox: crate::delivery::Worker,
}

/// Opens the store named by the config and runs pending migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let url = config.database_url.clone();
    let store = web::block(move || -> anyhow::Result<Store> {
        let store =
            Store::connect(&url).with_context(|| format!("cannot open {}", url.redacted()))?;
        let applied = store.migrate()?;
        if !applied.is_empty() {
            tracing::info!(?applied, "applied migrations");
        }
        Ok(store)
    })
    .await??;
    Ok(store)
}

impl Application {
    /// Binds `config.bind` and builds the server.
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.bind)
            .with_context(|| format!("cannot bind {}", config.bind))?;
        Self::build_on(listener, config, clock).await
    }

    /// Builds the server on an already bound listener (tests bind port 0 first).
    pub async fn build_on(
        listener: TcpListener,
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let store = open_store(&config).await?;
        let secret = config.resolve_secret_key()?;
        let keys = KeyRing::new(Sealer::new(&secret));
        let cookies = http::cookies::CookiePolicy::new(&config, &secret);
        let (ensure_store, ensure_keys, now) = (store.clone(), keys.clone(), clock.now());
        let created =
            web::block(move || manage::ensure_active_key(&ensure_store, &ensure_keys, now))
                .await??;
        if !created.is_empty() {
            tracing::info!(?created, "created signing keys");
        }
        let provider = Arc::new(Provider::new(&config, store.clone(), keys.clone(), &secret));
        let demo = match config.demo {
            true => Some(seed_demo(&store, &config.issuer, clock.now()).await?),
            false => None,
        };
        let totp = TotpFactor::new(
            Sealer::for_purpose(&secret, "countersign/totp-secrets"),
            &config.issuer,
        );
        let passkeys = PasskeyFactor::new(&config.issuer);
        let desk = Arc::new(Desk {
            store: store.clone(),
            sessions: provider.sessions,
            signal: crate::approval::Signal::new(),
            step_up: StepUp {
                totp: totp.clone(),
                throttle: provider.throttle,
                passkeys: passkeys.clone(),
            },
            oversight: config.admin_group.clone(),
        });
        let account = Arc::new(Account {
            store: store.clone(),
            sessions: provider.sessions,
            totp,
            throttle: provider.throttle,
            passkeys,
        });
        let outbox = crate::delivery::Worker::new(
            store.clone(),
            clock.clone(),
            config.issuer.clone(),
            config.notify.clone(),
            Sealer::for_purpose(&secret, crate::oidc::CIBA_PING_PURPOSE),
        )
        .map_err(anyhow::Error::msg)?;
        let background = Background {
            store: store.clone(),
            clock: clock.clone(),
            anchor_interval: config.audit_anchor_interval,
            anchor_key: Arc::new(AnchorKey::derive(&secret)?),
            outbox,
        };
        let chat = Arc::new(
            crate::chat::Chat::new(
                config.notify.clone(),
                config.issuer.clone(),
                store.clone(),
                crate::crypto::derive_key(&secret, "countersign/slack-link"),
            )
            .map_err(anyhow::Error::msg)?,
        );
        let console = Arc::new(crate::admin::Console {
            store: store.clone(),
            sessions: provider.sessions,
            group: config.admin_group.clone(),
            factor: config.admin_factor,
        });
        let upstreams = Arc::new(
            crate::upstream::Broker::new(
                store.clone(),
                &secret,
                provider.sessions,
                config.issuer.clone(),
                config.local_passwords,
            )
            .map_err(anyhow::Error::msg)?,
        );
        let hooks = Arc::new(
            crate::decision_hooks::HookClient::new(config.notify.webhook_secret.clone())
                .map_err(anyhow::Error::msg)?,
        );
        let state = AppState {
            hooks,
            upstreams,
            provider,
            desk,
            console,
            account,
            demo,
            cookies,
            chat,
            clock,
        };
        let port = listener.local_addr()?.port();
        let data = web::Data::new(state.clone());
        telemetry::metrics_handle();
        let request_timeout = config.request_timeout;
        let server = HttpServer::new(move || {
            App::new()
                .wrap(middleware::from_fn(http::limits::body_deadline))
                .wrap(middleware::from_fn(http::pages::with_request_id))
                .wrap(middleware::from_fn(http::limits::retry_after_unavailable))
                .wrap(middleware::from_fn(http::limits::limit_headers))
                .wrap(middleware::from_fn(telemetry::record_metrics))
                .wrap(TracingLogger::<telemetry::RequestSpan>::new())
                .app_data(data.clone())
                .app_data(http::limits::RequestTimeout(request_timeout))
                .configure(http::routes)
        })
        // The head within the same time as the body (actix's default is 5 s).
        .client_request_timeout(request_timeout)
        .listen(listener)?
        .shutdown_timeout(10)
        .run();
        Ok(Application {
            server,
            port,
            state,
            background,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state of the handlers.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGTERM or Ctrl-C, then drains in-flight requests.
    /// The background work (expiry sweep, audit anchoring, outbox delivery) runs in this same future, so
    /// it needs no task spawner of its own and stops with the server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        use futures_util::future::{self, Either};
        let Background {
            store,
            clock,
            anchor_interval,
            anchor_key,
            outbox,
        } = self.background;
        let (anchor_store, anchor_clock) = (store.clone(), clock.clone());
        let anchor = async move {
            match anchor_interval {
                Some(every) => {
                    anchor_audit_chain(anchor_store, anchor_key, anchor_clock, every).await
                }
                None => future::pending().await,
            }
        };
        let background = future::join3(sweep(store.clone(), clock), anchor, outbox.run());
        futures_util::pin_mut!(background);
        match future::select(self.server, background).await {
            Either::Left((result, _)) => result,
            Either::Right((_, server)) => server.await,
        }
    }
}

/// Every `every`, signs the audit chain head if it moved, stores the checkpoint (for
/// `audit verify`) and logs it as one JSON line, so logs shipped off the host keep
/// evidence that the chain was not later rewritten, even with the table.
pub async fn anchor_audit_chain(
    store: Store,
    key: Arc<AnchorKey>,
    clock: Arc<dyn Clock>,
    every: std::time::Duration,
) {
    use crate::audit::Anchored;
    let mut ticker = actix_web::rt::time::interval(every);
    loop {
        ticker.tick().await;
        let (store, key, now) = (store.clone(), key.clone(), clock.now());
        match web::block(move || crate::audit::anchor(&store, &key, now)).await {
            Ok(Ok(Anchored::New(checkpoint))) => tracing::info!(
                seq = checkpoint.seq,
                checkpoint = %checkpoint.to_line(),
                "audit checkpoint"
            ),
            Ok(Ok(Anchored::Unchanged(_) | Anchored::EmptyChain)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "audit anchor failed"),
            Err(_) => tracing::warn!("audit anchor could not run"),
        }
    }
}

/// One pass of the sweep: expires approvals whose time is up, deletes ended sessions and
/// stale authorization requests (never those an approval was made for), and retires
/// signing keys past their `retire_at`. Returns how
/// many approvals it looked at.
pub fn sweep_once(store: &Store, now: i64) -> Result<usize, crate::approval::ApprovalError> {
    let expired = crate::approval::service::expire_due(store, now)?;
    store.write(|c| {
        crate::store::delete_expired_sessions(c, now)?;
        crate::store::delete_expired_requests(c, now)?;
        crate::store::retire_expired_keys(c, now)
    })?;
    Ok(expired)
}

/// Every 30 s: expires approvals whose time is up (each with its audit event) and
/// deletes ended sessions and stale authorization requests. Expiry is also applied on
/// read, so a missed sweep never lets an approval outlive its time.
async fn sweep(store: Store, clock: Arc<dyn Clock>) {
    let mut ticker = actix_web::rt::time::interval(std::time::Duration::from_secs(30));
    loop {
        ticker.tick().await;
        let (store, now) = (store.clone(), clock.now());
        let swept = web::block(move || sweep_once(&store, now)).await;
        match swept {
            Ok(Ok(0)) => {}
            Ok(Ok(expired)) => tracing::info!(expired, "expired approvals"),
            Ok(Err(error)) => tracing::warn!(%error, "sweep failed"),
            Err(_) => tracing::warn!("sweep could not run"),
        }
    }
}

/// Seeds the demo and prints how to use it (new users' passwords are shown once).
async fn seed_demo(store: &Store, issuer: &str, now: i64) -> anyhow::Result<crate::demo::Demo> {
    let (store, issuer_owned) = (store.clone(), issuer.to_owned());
    let seeded = web::block(move || crate::demo::seed(&store, &issuer_owned, now)).await??;
    let mut text = format!("\ncountersign demo: open {issuer}/demo\n");
    if seeded.new_users.is_empty() {
        text.push_str("  demo users exist already; their passwords were shown on the first run\n");
        text.push_str("  (reset one with: countersign user set-password alice)\n");
    }
    for (username, password) in &seeded.new_users {
        text.push_str(&format!("  {username:<6} password {password}\n"));
    }
    text.push_str(
        "  alice requests payments:write; bob or carol approves at /approvals; admin may revoke.\n",
    );
    println!("{text}");
    Ok(seeded.demo)
}
