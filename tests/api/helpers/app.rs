//! The application under test ([`TestApp`]): the real app on a fresh [`TestDb`], served
//! on a random local port from its own thread (actix `spawn_local`s its background tasks,
//! so it runs in a `LocalSet`), on a [`FixedClock`]; and what the suites seed through the
//! admin library: users, groups, scopes and clients.

use std::net::TcpListener;
use std::ops::Deref;
use std::sync::Arc;

use countersign::audit::Actor;
use countersign::clock::{Clock, FixedClock};
use countersign::config::{Config, RawNotify, RawSettings};
use countersign::manage::{self, ClientSpec, NewUser, ScopeChanges};
use countersign::startup::Application;
use countersign::store::Store;
use reqwest::Response;
use secrecy::SecretString;

use super::db::TestDb;
use super::web::{url_on, PASSWORD, REDIRECT_URI};

/// A 40-character secret key for test configurations.
pub const TEST_SECRET_KEY: &str = "test-secret-key-0123456789abcdefghijklmn";

/// The instant fixed test clocks start at: 2026-11-22T12:00:00Z.
pub const TEST_NOW: i64 = 1_795_348_800;

/// The scopes [`TestApp::add_client`] registers when the spec names none.
pub const CLIENT_SCOPES: &str = "openid profile email offline_access";

/// A seeded user.
#[derive(Debug, Clone)]
pub struct User {
    /// `sub`.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Display name, if one was given.
    pub name: Option<String>,
    /// Email address.
    pub email: String,
}

/// A registered client and its secret (none for a public client).
#[derive(Debug, Clone)]
pub struct TestClient {
    /// Its id.
    pub client_id: String,
    /// Its secret, shown once at registration.
    pub secret: Option<String>,
}

/// How to start a [`TestApp`]: `TestApp::builder().demo().clock_at(t).spawn()`.
#[derive(Debug, Clone, Default)]
pub struct TestAppBuilder {
    demo: bool,
    clock_at: Option<i64>,
    notify: Option<RawNotify>,
    database_port: Option<u16>,
    request_timeout: Option<String>,
    trusted_proxies: Option<String>,
    login_max_failures: Option<u32>,
    https_issuer: bool,
    local_passwords: Option<bool>,
    localhost_issuer: bool,
    admin_factor: Option<String>,
    admin_group: Option<String>,
}

impl TestAppBuilder {
    /// Serve as `serve --demo` does (demo users, scope and client seeded by the app).
    pub fn demo(self) -> TestAppBuilder {
        TestAppBuilder { demo: true, ..self }
    }

    /// Start the clock at `unix` seconds instead of the real time. The default is the
    /// real time because JWT libraries check `iat`/`exp` against the system clock.
    pub fn clock_at(self, unix: i64) -> TestAppBuilder {
        TestAppBuilder {
            clock_at: Some(unix),
            ..self
        }
    }

    /// The `[notify]` settings (local receivers stand in for Slack, Teams and mail).
    pub fn notify(self, notify: RawNotify) -> TestAppBuilder {
        TestAppBuilder {
            notify: Some(notify),
            ..self
        }
    }

    /// Reach the (PostgreSQL) database through this loopback port instead of the
    /// server's own: a [`super::TcpGate`] there can cut it.
    pub fn database_port(self, port: u16) -> TestAppBuilder {
        TestAppBuilder {
            database_port: Some(port),
            ..self
        }
    }

    /// `request_timeout` (e.g. "2s"): how long a client may take to send a request.
    pub fn request_timeout(self, timeout: &str) -> TestAppBuilder {
        TestAppBuilder {
            request_timeout: Some(timeout.into()),
            ..self
        }
    }

    /// `trusted_proxies` as configured (comma-separated addresses).
    pub fn trusted_proxies(self, proxies: &str) -> TestAppBuilder {
        TestAppBuilder {
            trusted_proxies: Some(proxies.into()),
            ..self
        }
    }

    /// `login_max_failures` (per account; an address gets four times as many).
    pub fn login_max_failures(self, failures: u32) -> TestAppBuilder {
        TestAppBuilder {
            login_max_failures: Some(failures),
            ..self
        }
    }

    /// `admin_factor` (the tests' default is `none`: the console suites test the
    /// console, and `admin::step_up` tests the factor).
    pub fn admin_factor(self, factor: &str) -> TestAppBuilder {
        TestAppBuilder {
            admin_factor: Some(factor.to_owned()),
            ..self
        }
    }

    /// `admin_group` (the console's admins, who may also revoke any approval).
    pub fn admin_group(self, group: &str) -> TestAppBuilder {
        TestAppBuilder {
            admin_group: Some(group.to_owned()),
            ..self
        }
    }

    /// `local_passwords` (false: only upstream providers sign people in).
    pub fn local_passwords(self, allowed: bool) -> TestAppBuilder {
        TestAppBuilder {
            local_passwords: Some(allowed),
            ..self
        }
    }

    /// Configure the issuer as `https://127.0.0.1:<port>` while still serving plain
    /// HTTP there (as behind a TLS-terminating proxy): cookies must then be `Secure`.
    pub fn https_issuer(self) -> TestAppBuilder {
        TestAppBuilder {
            https_issuer: true,
            ..self
        }
    }

    /// Configure (and reach) the issuer as `http://localhost:<port>`: WebAuthn needs a
    /// domain for its RP ID, and accepts plain HTTP only on localhost (WebAuthn L2
    /// §5.1.3, secure contexts).
    pub fn localhost_issuer(self) -> TestAppBuilder {
        TestAppBuilder {
            localhost_issuer: true,
            ..self
        }
    }

    /// A fresh database and the app serving on it, with nothing seeded.
    pub async fn spawn(self) -> TestApp {
        let db = TestDb::new();
        self.spawn_on(db).await
    }

    /// The app serving on `db` (fresh and migrated), with nothing seeded.
    pub async fn spawn_on(self, db: TestDb) -> TestApp {
        let server = Server::start(&db, self.clone()).await;
        TestApp {
            issuer: server.issuer.clone(),
            store: db.store(),
            clock: server.clock.clone(),
            http: http_client(),
            seed: (),
            options: self,
            server,
            db,
        }
    }
}

/// The running app, its database and what a suite seeded (`S`, reachable as `app.alice`
/// and so on through `Deref`). Dropping it stops the server, then drops the database.
pub struct TestApp<S = ()> {
    /// `http://127.0.0.1:<port>`, exactly as configured (the address served, also
    /// under [`TestAppBuilder::https_issuer`]).
    pub issuer: String,
    /// The app's database.
    pub store: Store,
    /// The app's clock; advance it instead of sleeping.
    pub clock: FixedClock,
    /// A plain client (no cookies, no redirects): the RP's back channel.
    pub http: reqwest::Client,
    /// What the suite seeded.
    pub seed: S,
    options: TestAppBuilder,
    server: Server,
    db: TestDb,
}

impl<S> Deref for TestApp<S> {
    type Target = S;

    fn deref(&self) -> &S {
        &self.seed
    }
}

impl TestApp {
    /// Options for a new app.
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// Seeds the app with `seed`, which gets the unseeded app.
    pub fn seeded<S>(self, seed: impl FnOnce(&TestApp) -> S) -> TestApp<S> {
        let seed = seed(&self);
        TestApp {
            issuer: self.issuer,
            store: self.store,
            clock: self.clock,
            http: self.http,
            seed,
            options: self.options,
            server: self.server,
            db: self.db,
        }
    }
}

impl<S> TestApp<S> {
    /// `issuer + path`; an absolute URL is returned unchanged.
    pub fn url(&self, path: &str) -> String {
        url_on(&self.issuer, path)
    }

    /// The app's now.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The database URL, as the CLI accepts it.
    pub fn db_url(&self) -> String {
        self.db.url()
    }

    /// Stops the server and starts a new one on the same database with the same options
    /// (a new port and a new clock). Returns the old issuer.
    pub async fn restart(&mut self) -> String {
        let replacement = Server::start(&self.db, self.options.clone()).await;
        self.clock = replacement.clock.clone();
        let old_issuer = std::mem::replace(&mut self.issuer, replacement.issuer.clone());
        std::mem::replace(&mut self.server, replacement).stop();
        old_issuer
    }

    /// A second instance of the app on the same database and options (another `serve`
    /// behind the same load balancer: its own port, clock and in-process state). It
    /// stops when dropped.
    pub async fn another_instance(&self) -> Instance {
        let server = Server::start(&self.db, self.options.clone()).await;
        Instance {
            issuer: server.issuer.clone(),
            _server: server,
        }
    }

    /// Like [`TestApp::another_instance`], but configured with this app's issuer, as two
    /// instances behind one load balancer are: codes, tokens and redirects name one
    /// issuer whichever instance answered. The instance is still reached at its own
    /// address ([`Instance::url`]).
    pub async fn another_instance_behind_one_issuer(&self) -> Instance {
        let server = Server::start_as(&self.db, self.options.clone(), Some(&self.issuer)).await;
        let address = server.address.clone();
        Instance {
            issuer: address,
            _server: server,
        }
    }

    /// Creates a user with `PASSWORD` and `<username>@example.com`, member of `groups`.
    pub fn add_user(&self, username: &str, name: Option<&str>, groups: &[&str]) -> User {
        let row = manage::add_user(
            &self.store,
            NewUser {
                username: username.into(),
                email: format!("{username}@example.com"),
                name: name.map(str::to_owned),
                password: Some(SecretString::from(PASSWORD)),
            },
            &Actor::Cli,
            self.now(),
        )
        .expect("user");
        let user = User {
            id: row.id.into_string(),
            username: row.username,
            name: name.map(str::to_owned),
            email: row.email,
        };
        for group in groups {
            self.add_member(group, &user);
        }
        user
    }

    /// Creates a group.
    pub fn add_group(&self, name: &str) {
        manage::add_group(&self.store, name, &Actor::Cli, self.now()).expect("group");
    }

    /// Adds `who` to `group`.
    pub fn add_member(&self, group: &str, who: &User) {
        manage::add_member(&self.store, group, &who.username, &Actor::Cli, self.now())
            .expect("member");
    }

    /// Creates the scope `name`.
    pub fn add_scope(&self, name: &str, changes: ScopeChanges) {
        manage::add_scope(&self.store, name, changes, &Actor::Cli, self.now()).expect("scope");
    }

    /// Changes the scope `name`.
    pub fn update_scope(&self, name: &str, changes: ScopeChanges) {
        manage::update_scope(&self.store, name, changes, &Actor::Cli, self.now())
            .expect("scope update");
    }

    /// Registers a client (defaults: named "Another client", `REDIRECT_URI`,
    /// `CLIENT_SCOPES`; confidential unless the spec says public).
    pub fn add_client(&self, spec: ClientSpec) -> TestClient {
        let or = |given: Vec<String>, default: Vec<String>| {
            if given.is_empty() {
                default
            } else {
                given
            }
        };
        let spec = ClientSpec {
            name: if spec.name.is_empty() {
                "Another client".into()
            } else {
                spec.name
            },
            redirect_uris: or(spec.redirect_uris, vec![REDIRECT_URI.into()]),
            scopes: or(
                spec.scopes,
                CLIENT_SCOPES.split(' ').map(str::to_owned).collect(),
            ),
            ..spec
        };
        let new = manage::add_client(&self.store, spec, &Actor::Cli, self.now()).expect("client");
        TestClient {
            client_id: new.row.client_id.into_string(),
            secret: new.secret,
        }
    }

    /// GET `path_or_url` with `browser`.
    pub async fn get(&self, browser: &reqwest::Client, path_or_url: &str) -> Response {
        browser
            .get(self.url(path_or_url))
            .send()
            .await
            .expect("GET")
    }

    /// POSTs a form with `browser`.
    pub async fn post(
        &self,
        browser: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> Response {
        browser
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// A form POST to a client-authenticated endpoint, not yet sent: Basic for a
    /// confidential client, `client_id` in the body for a public one.
    pub fn request_as(
        &self,
        client: &TestClient,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let mut form: Vec<(&str, &str)> = form.to_vec();
        let request = self.http.post(self.url(path));
        let request = match &client.secret {
            Some(secret) => request.basic_auth(&client.client_id, Some(secret)),
            None => {
                form.push(("client_id", client.client_id.as_str()));
                request
            }
        };
        request.form(&form)
    }

    /// POSTs a form to a client-authenticated endpoint (see [`TestApp::request_as`]).
    pub async fn post_as(
        &self,
        client: &TestClient,
        path: &str,
        form: &[(&str, &str)],
    ) -> Response {
        self.request_as(client, path, form)
            .send()
            .await
            .expect("POST")
    }

    /// `GET /userinfo` with `Authorization: Bearer <token>`.
    pub async fn userinfo(&self, access_token: &str) -> Response {
        self.http
            .get(self.url("/userinfo"))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("GET /userinfo")
    }
}

/// Another instance serving the same database ([`TestApp::another_instance`]).
pub struct Instance {
    /// `http://127.0.0.1:<its port>` (its configured issuer too, unless it was started
    /// [behind one issuer](TestApp::another_instance_behind_one_issuer)).
    pub issuer: String,
    _server: Server,
}

impl Instance {
    /// `issuer + path`.
    pub fn url(&self, path: &str) -> String {
        url_on(&self.issuer, path)
    }

    /// Its clock; advance it instead of sleeping.
    pub fn clock(&self) -> &FixedClock {
        &self._server.clock
    }
}

/// A plain HTTP client that does not follow redirects.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// One running server: dropping it (or [`Server::stop`]) shuts it down.
struct Server {
    issuer: String,
    /// `http://127.0.0.1:<its port>`.
    address: String,
    clock: FixedClock,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _data_dir: tempfile::TempDir,
}

impl Server {
    /// Builds the real application on `db` and serves it on its own thread.
    async fn start(db: &TestDb, options: TestAppBuilder) -> Server {
        Server::start_as(db, options, None).await
    }

    /// Like [`Server::start`], configured with `issuer` instead of its own address.
    async fn start_as(db: &TestDb, options: TestAppBuilder, issuer: Option<&str>) -> Server {
        let clock = FixedClock::at(
            options
                .clock_at
                .unwrap_or_else(|| chrono::Utc::now().timestamp()),
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let port = listener.local_addr().expect("bound address").port();
        let data_dir = tempfile::tempdir().expect("temp dir");
        let address = format!("http://127.0.0.1:{port}");
        let own = match options.localhost_issuer {
            true => format!("http://localhost:{port}"),
            false => address.clone(),
        };
        let issuer = issuer.map_or(own, str::to_owned);
        let configured_issuer = match options.https_issuer {
            true => issuer.replacen("http://", "https://", 1),
            false => issuer.clone(),
        };
        let config = Config::from_raw(RawSettings {
            issuer: Some(configured_issuer),
            database_url: Some(options.database_url(db)),
            data_dir: Some(data_dir.path().display().to_string()),
            secret_key: Some(TEST_SECRET_KEY.into()),
            demo: Some(options.demo),
            notify: options.notify.clone(),
            request_timeout: options.request_timeout.clone(),
            trusted_proxies: options.trusted_proxies.clone(),
            login_max_failures: options.login_max_failures,
            local_passwords: options.local_passwords,
            admin_factor: Some(
                options
                    .admin_factor
                    .clone()
                    .unwrap_or_else(|| "none".into()),
            ),
            admin_group: options.admin_group.clone(),
            ..RawSettings::default()
        })
        .expect("test configuration is valid");
        let app = Application::build_on(listener, config, Arc::new(clock.clone()))
            .await
            .expect("application builds");
        let (stop, thread) = serve_in_background(app);
        Server {
            issuer,
            address,
            clock,
            stop: Some(stop),
            thread: Some(thread),
            _data_dir: data_dir,
        }
    }

    /// Stops the server and waits until its listener is closed.
    fn stop(mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the server thread ends cleanly");
        }
    }
}

impl TestAppBuilder {
    /// The database URL the app is configured with (through the gate's port if set).
    fn database_url(&self, db: &TestDb) -> String {
        let Some(port) = self.database_port else {
            return db.url();
        };
        let mut url = url::Url::parse(&db.url()).expect("a PostgreSQL URL");
        url.set_port(Some(port)).expect("the URL takes a port");
        url.to_string()
    }
}

/// Serves `app` on its own thread, in a `LocalSet` as actix expects, until the returned
/// sender is dropped.
fn serve_in_background(
    app: Application,
) -> (
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        tokio::task::LocalSet::new().block_on(&runtime, async move {
            tokio::select! {
                served = app.run_until_stopped() => served.expect("the server runs"),
                _ = stopped => {}
            }
        });
    });
    (stop, thread)
}
