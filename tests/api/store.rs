//! The store on whichever backend [`TestDb`] gives: migrations, readiness, error
//! mapping, transactions; and the database URL forms of DESIGN.md §8.

use std::collections::BTreeSet;
use std::path::Path;

use countersign::audit::{self, Actor};
use countersign::store::{self, DatabaseUrl, StoreError, UserRow};
use serde_json::json;

use crate::helpers::{TestDb, TEST_NOW};

fn user(username: &str) -> UserRow {
    UserRow {
        id: countersign::ids::UserId::new(uuid::Uuid::new_v4().to_string()),
        username: username.into(),
        email: format!("{username}@example.com"),
        name: None,
        password_hash: None,
        disabled: false,
        slack_user_id: None,
        teams_user_id: None,
        created_at: TEST_NOW,
    }
}

#[test]
fn migrations_apply_once_and_a_second_run_applies_nothing() {
    // Arrange
    let db = TestDb::unmigrated();
    let store = db.store();
    // Act
    let first = store.migrate().unwrap();
    let second = store.migrate().unwrap();
    // Assert: every migration directory, in order ("2026-11-22-000001_initial" is
    // version 20261122000001).
    let mut expected: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .map(|name| name.split('_').next().unwrap().replace('-', ""))
            .collect();
    expected.sort();
    assert!(!expected.is_empty());
    assert_eq!(first, expected, "every migration, in order");
    assert!(second.is_empty(), "nothing left to apply: {second:?}");
}

#[test]
fn the_store_is_ready_only_once_migrated() {
    // Arrange
    let db = TestDb::unmigrated();
    let store = db.store();
    let before = store.is_ready().unwrap();
    // Act
    store.migrate().unwrap();
    // Assert
    assert!(!before, "pending migrations mean not ready");
    assert!(store.is_ready().unwrap());
}

#[test]
fn the_standard_scopes_and_groups_exist_from_the_migrations() {
    // Arrange
    let db = TestDb::new();
    // Act
    let scopes = db.store().read(store::list_scopes).unwrap();
    // Assert
    let names: Vec<_> = scopes
        .iter()
        .map(|s| (s.name.as_str(), s.builtin))
        .collect();
    assert_eq!(
        names,
        [
            ("email", true),
            ("groups", true),
            ("offline_access", true),
            ("openid", true),
            ("profile", true)
        ]
    );
}

#[test]
fn a_unique_violation_is_a_conflict() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    store
        .write(|c| store::insert_user(c, &user("alice")))
        .unwrap();
    // Act
    let same_username = store.write(|c| store::insert_user(c, &user("alice")));
    let same_primary_key = store.write(|c| {
        let mut openid = store::scope_by_name(c, "openid")?.ok_or(StoreError::NotFound)?;
        openid.description = "again".into();
        store::insert_scope(c, &openid)
    });
    // Assert
    assert!(
        matches!(same_username, Err(StoreError::Conflict)),
        "{same_username:?}"
    );
    assert!(
        matches!(same_primary_key, Err(StoreError::Conflict)),
        "{same_primary_key:?}"
    );
}

#[test]
fn a_missing_row_is_not_found() {
    // Arrange
    let db = TestDb::new();
    // Act
    let removed = db
        .store()
        .write(|c| store::delete_client(c, &countersign::ids::ClientId::new("nosuch")));
    // Assert
    assert!(matches!(removed, Err(StoreError::NotFound)), "{removed:?}");
}

#[test]
fn a_failed_write_rolls_back_its_rows_and_its_audit_event() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    // Act
    let result: Result<(), StoreError> = store.write(|c| {
        store::insert_user(c, &user("alice"))?;
        audit::record(
            c,
            &Actor::Cli,
            countersign::audit::AuditAction::UserCreated,
            "user:alice",
            json!({}),
            TEST_NOW,
        )?;
        store::insert_user(c, &user("alice")) // the conflict fails the transaction
    });
    // Assert
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");
    let (alice, head, events) = store
        .read(|c| {
            Ok::<_, StoreError>((
                store::user_by_username(c, "alice")?,
                store::read_audit_head(c)?,
                store::audit_rows_after(c, 0, 100)?,
            ))
        })
        .unwrap();
    assert!(alice.is_none(), "the user was rolled back");
    assert_eq!(head, (0, "0".repeat(64)), "the head did not move");
    assert!(events.is_empty(), "the event was rolled back");
}

#[test]
fn a_connection_is_reusable_after_a_rolled_back_write() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    let failed: Result<(), StoreError> = store.write(|c| {
        store::insert_user(c, &user("alice"))?;
        Err(StoreError::NotFound)
    });
    // Act
    let second = store.write(|c| store::insert_user(c, &user("bob")));
    // Assert
    assert!(matches!(failed, Err(StoreError::NotFound)));
    second.unwrap();
    let names: Vec<String> = store
        .read(store::list_users)
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["bob"]);
}

#[test]
fn database_urls_of_every_documented_form_parse() {
    let cases = [
        (
            "sqlite:///var/lib/countersign/db.sqlite3",
            DatabaseUrl::Sqlite("/var/lib/countersign/db.sqlite3".into()),
        ),
        (
            "sqlite://data/db.sqlite3",
            DatabaseUrl::Sqlite("data/db.sqlite3".into()),
        ),
        (
            "sqlite:data/db.sqlite3",
            DatabaseUrl::Sqlite("data/db.sqlite3".into()),
        ),
        (
            "data/db.sqlite3",
            DatabaseUrl::Sqlite("data/db.sqlite3".into()),
        ),
        (
            "/abs/db.sqlite3",
            DatabaseUrl::Sqlite("/abs/db.sqlite3".into()),
        ),
        (
            "postgres://cs:pw@db.internal:5432/countersign",
            DatabaseUrl::Postgres("postgres://cs:pw@db.internal:5432/countersign".into()),
        ),
        (
            "postgresql://db.internal/countersign?sslmode=require",
            DatabaseUrl::Postgres("postgresql://db.internal/countersign?sslmode=require".into()),
        ),
    ];
    for (raw, expected) in cases {
        assert_eq!(DatabaseUrl::parse(raw), Ok(expected), "{raw}");
    }
}

#[test]
fn database_urls_that_name_no_database_are_refused() {
    for raw in [
        "",
        "   ",
        "sqlite://",
        "sqlite:",
        "mysql://x",
        "http://x/db",
    ] {
        assert!(
            DatabaseUrl::parse(raw).is_err(),
            "{raw:?} should be refused"
        );
    }
}

#[test]
fn a_redacted_postgres_url_hides_its_password() {
    // Arrange
    let url = DatabaseUrl::parse("postgres://cs:hunter2@db.internal/countersign").unwrap();
    // Act
    let shown = url.redacted();
    // Assert
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("cs:***@db.internal"), "{shown}");
}

#[test]
fn both_migration_trees_have_the_same_migrations_with_up_and_down() {
    // Arrange
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let names = |backend: &str| -> BTreeSet<String> {
        std::fs::read_dir(root.join(backend))
            .unwrap()
            .map(|entry| entry.unwrap())
            .filter(|entry| entry.file_type().unwrap().is_dir())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect()
    };
    // Act
    let (sqlite, postgres) = (names("sqlite"), names("postgres"));
    // Assert
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "the same directory names in both trees");
    for backend in ["sqlite", "postgres"] {
        for name in &sqlite {
            for file in ["up.sql", "down.sql"] {
                let path = root.join(backend).join(name).join(file);
                let sql = std::fs::read_to_string(&path).unwrap_or_default();
                assert!(
                    !sql.trim().is_empty(),
                    "{} is missing or empty",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn a_connection_opened_while_another_holds_the_write_lock_waits_instead_of_failing() {
    // Arrange: a new SQLite file, exclusively locked by another connection for a moment
    let db = TestDb::unmigrated();
    let url = db.url();
    let Some(path) = url.strip_prefix("sqlite://") else {
        return; // PostgreSQL takes no file lock to open a connection
    };
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let mut holder = diesel::SqliteConnection::establish(path).unwrap();
    holder.batch_execute("BEGIN EXCLUSIVE").unwrap();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        holder.batch_execute("COMMIT").unwrap();
    });
    // Act: the pool opens its first connection (switching the file to WAL) meanwhile
    let taken = db.store().conn().map(|_| ()).map_err(|e| e.to_string());
    releaser.join().unwrap();
    // Assert
    assert!(taken.is_ok(), "{taken:?}");
}
