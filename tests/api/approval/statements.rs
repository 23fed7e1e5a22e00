//! The hot flows run only statements the database compiles once per connection (issue
//! 21: "no per-execution statement recompilation"). diesel keeps a prepared statement
//! per connection for every query it can cache, and tells its instrumentation when it
//! caches one; a query it cannot cache (an `IN (…)` list on SQLite, an `UPDATE` built
//! with its DSL, raw SQL) is compiled again by the database at every run.
//!
//! The server's pool passes every event on to diesel's default instrumentation
//! (`store/watch.rs`), so this test sets one that records, for this test's database
//! only, the SQL each connection ran and the SQL it cached; every statement run must
//! have been cached.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::{Mutex, Once};

use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};
use reqwest::StatusCode;

use countersign::manage::{ClientSpec, ScopeChanges};
use countersign::oidc::grant_type::GrantType;

use super::support::{ApprovalSeed, TestApp, SCOPES};
use crate::helpers::{tokens_of, TestDb};

/// The database whose statements are recorded, and what was seen on it.
static WATCHED: Mutex<Option<Seen>> = Mutex::new(None);

#[derive(Default)]
struct Seen {
    /// The connection URL as diesel sees it.
    url: String,
    /// The SQL of every statement run, binds left out.
    run: BTreeSet<String>,
    /// The SQL of every statement put in a connection's statement cache.
    cached: BTreeSet<String>,
}

thread_local! {
    /// The URL of the last connection this thread began to establish. A pooled
    /// connection gets its instrumentation right after it is established, on the same
    /// thread, so the recorder made then learns its database from here.
    static ESTABLISHING: RefCell<String> = const { RefCell::new(String::new()) };
}

/// One connection's recorder: active when its database is the watched one.
struct Recorder {
    active: bool,
}

impl Recorder {
    fn boxed() -> Option<Box<dyn Instrumentation>> {
        let url = ESTABLISHING.with(|url| url.borrow().clone());
        let active = WATCHED
            .lock()
            .ok()
            .and_then(|seen| seen.as_ref().map(|seen| !url.is_empty() && seen.url == url))
            .unwrap_or(false);
        Some(Box::new(Recorder { active }))
    }
}

impl Instrumentation for Recorder {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartEstablishConnection { url, .. } = event {
            ESTABLISHING.with(|last| *last.borrow_mut() = url.to_owned());
            return;
        }
        if !self.active {
            return;
        }
        let mut watched = WATCHED.lock().unwrap();
        let Some(seen) = watched.as_mut() else {
            return;
        };
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                let text = query.to_string();
                let sql = text.split(" -- binds: ").next().unwrap_or_default();
                seen.run.insert(sql.trim().to_owned());
            }
            InstrumentationEvent::CacheQuery { sql, .. } => {
                seen.cached.insert(sql.trim().to_owned());
            }
            _ => {}
        }
    }
}

/// Statements that are not queries: transaction control and the idle-connection ping.
fn is_control(sql: &str) -> bool {
    let upper = sql.to_ascii_uppercase();
    [
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE",
        "SELECT 1",
    ]
    .iter()
    .any(|word| upper.starts_with(word))
}

/// Starts recording the statements run on `db` (diesel's URL for it).
fn watch(db: &TestDb) {
    static SET: Once = Once::new();
    SET.call_once(|| set_default_instrumentation(Recorder::boxed).unwrap());
    let url = db.url();
    let url = url.strip_prefix("sqlite://").unwrap_or(&url).to_owned();
    *WATCHED.lock().unwrap() = Some(Seen {
        url,
        ..Seen::default()
    });
}

#[tokio::test]
async fn the_hot_flows_run_only_statements_compiled_once() {
    // Arrange: the server's connections record what they run.
    let db = TestDb::new();
    watch(&db);
    let app = TestApp::builder()
        .spawn_on(db)
        .await
        .seeded(ApprovalSeed::seed);
    let reports = ScopeChanges {
        description: Some("Read reports".into()),
        ..ScopeChanges::default()
    };
    app.add_scope("reports.read", reports);
    let service = app.add_client(ClientSpec {
        name: "Report service".into(),
        grant_types: vec![GrantType::ClientCredentials],
        scopes: vec!["reports.read".into()],
        ..ClientSpec::default()
    });
    // What startup ran (migrations, the first sweep) is not a flow's.
    if let Some(seen) = WATCHED.lock().unwrap().as_mut() {
        seen.run.clear();
    }
    // Act: sign-in, consent and a countersigned request; the requester's and the
    // approver's pages; the decision; the code exchange, userinfo, introspection and
    // refresh; single sign-on for a request without a sensitive scope; a service's
    // client_credentials grant.
    let (alice, pending, tokens) = app.approved_tokens().await;
    let status = app.status(&alice, &pending.approval_id).await;
    assert_eq!(status.status(), StatusCode::OK);
    let bob = app.signed_in(&app.bob).await;
    app.inbox(&bob).await;
    assert_eq!(app.introspect(&tokens.access_token).await["active"], true);
    assert_eq!(
        app.userinfo(&tokens.access_token).await.status(),
        StatusCode::OK
    );
    let refresh_token = tokens.refresh_token.as_deref().expect("a refresh token");
    assert_eq!(app.refresh(refresh_token).await.status(), StatusCode::OK);
    let plain = SCOPES.replace(" payments:write", "");
    let response = app.authorize(&alice, &plain, &[]).await;
    let code = app.code_of(&response);
    let sso = app.exchange(&code).await;
    assert_eq!(app.introspect(&sso.access_token).await["active"], true);
    let grant = [("grant_type", "client_credentials")];
    let machine = tokens_of(app.post_as(&service, "/token", &grant).await).await;
    let token = [("token", machine.access_token.as_str())];
    let answer = app.post_as(&service, "/introspect", &token).await;
    assert_eq!(
        answer.json::<serde_json::Value>().await.unwrap()["active"],
        true
    );
    // Assert
    let seen = WATCHED.lock().unwrap().take().expect("recorded");
    let compiled_each_run: Vec<&String> = seen
        .run
        .iter()
        .filter(|sql| !is_control(sql) && !seen.cached.contains(*sql))
        .collect();
    assert!(
        seen.run.len() > 20,
        "the flows ran statements on the watched database: {:#?}",
        seen.run
    );
    assert!(
        compiled_each_run.is_empty(),
        "statements the database compiles at every run ({} of {}): {compiled_each_run:#?}",
        compiled_each_run.len(),
        seen.run.len()
    );
}
