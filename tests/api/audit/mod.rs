//! The audit trail: one event per change in the change's transaction, a hash chain
//! that `verify` walks to the first broken link, a linear chain under concurrent
//! writers, an export that round-trips, and signed checkpoints that catch a chain
//! rewritten by someone with database access.

use countersign::audit::{self, Actor};
use countersign::crypto::{KeyRing, Sealer};
use countersign::manage::{self, ClientSpec, ManageError, NewUser, ScopeChanges};
use countersign::store::{self, AuditRow, Store, StoreError};
use diesel::connection::SimpleConnection;
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::helpers::{TestDb, TEST_NOW, TEST_SECRET_KEY};

mod anchor_cli;
mod chain;
mod checkpoints;
mod export;

fn all_rows(store: &Store) -> Vec<AuditRow> {
    store
        .read(|c| store::audit_rows_after(c, 0, i64::MAX))
        .unwrap()
}

fn head_seq(store: &Store) -> i64 {
    store.read(store::read_audit_head).unwrap().0
}

fn verify(store: &Store) -> audit::Verification {
    store.read(audit::verify).unwrap()
}

/// The seq `verify` reports as the first broken link.
fn broken_at(store: &Store) -> i64 {
    let report = verify(store);
    report.broken.expect("the chain is reported broken").seq
}

/// Runs raw SQL, as someone with write access to the database would.
fn tamper(store: &Store, sql: &str) {
    // An attacker with owner rights first drops the append-only guard; the hash chain
    // must still catch what they change.
    let unguard = |c: &mut countersign::store::DbConn| match c {
        countersign::store::DbConn::Sqlite(_) => {
            "DROP TRIGGER IF EXISTS audit_events_no_update; \
             DROP TRIGGER IF EXISTS audit_events_no_delete;"
        }
        countersign::store::DbConn::Pg(_) => {
            "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events;"
        }
    };
    store
        .read(|c| {
            let drop_guard = unguard(c);
            c.batch_execute(drop_guard)?;
            c.batch_execute(sql).map_err(StoreError::from)
        })
        .unwrap();
}

/// Appends events 1..=count with distinct targets, details and times.
fn record_events(store: &Store, count: i64) {
    for i in 1..=count {
        store
            .write(|c| {
                let details = json!({"n": i, "nested": {"z": [1, "two"], "a": null}});
                let target = format!("thing:{i}");
                audit::record(
                    c,
                    &Actor::Cli,
                    countersign::audit::AuditAction::UserCreated,
                    &target,
                    details,
                    TEST_NOW + i,
                )
            })
            .unwrap();
    }
}

/// Runs `call` and returns its result with the one event it appended.
fn one_event<T>(store: &Store, call: impl FnOnce() -> Result<T, ManageError>) -> (T, AuditRow) {
    let before = head_seq(store);
    let value = call().unwrap();
    let rows = store
        .read(|c| store::audit_rows_after(c, before, 10))
        .unwrap();
    assert_eq!(rows.len(), 1, "exactly one event: {rows:?}");
    (value, rows.into_iter().next().unwrap())
}

fn fields(row: &AuditRow) -> (&str, &str, &str) {
    (&row.actor, &row.action, &row.target)
}

fn new_user(username: &str) -> NewUser {
    NewUser {
        username: username.into(),
        email: format!("{username}@example.com"),
        name: None,
        password: None,
    }
}

fn payments_scope() -> ScopeChanges {
    ScopeChanges {
        description: Some("Move money".into()),
        sensitive: Some(true),
        approver_groups: Some(vec!["finance".into()]),
        ..ScopeChanges::default()
    }
}

#[test]
fn every_user_and_group_change_records_one_event_naming_actor_action_and_target() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    let (cli, admin_user) = (
        Actor::Cli,
        Actor::User(countersign::ids::UserId::new("sub-of-admin")),
    );
    let password = SecretString::from("correct horse battery");
    // Act
    let (_, added) = one_event(&store, || {
        manage::add_user(&store, new_user("alice"), &cli, 1)
    });
    let (_, password_set) = one_event(&store, || {
        manage::set_password(&store, "alice", &password, &admin_user, 2)
    });
    let (_, group) = one_event(&store, || manage::add_group(&store, "finance", &cli, 3));
    let (_, member_added) = one_event(&store, || {
        manage::add_member(&store, "finance", "alice", &cli, 4)
    });
    let (_, member_removed) = one_event(&store, || {
        manage::remove_member(&store, "finance", "alice", &cli, 5)
    });
    let (_, disabled) = one_event(&store, || manage::disable_user(&store, "alice", &cli, 6));
    // Assert
    assert_eq!(fields(&added), ("cli", "user.created", "user:alice"));
    assert_eq!(
        fields(&password_set),
        ("user:sub-of-admin", "user.password_set", "user:alice")
    );
    assert_eq!(fields(&group), ("cli", "group.created", "group:finance"));
    assert_eq!(
        fields(&member_added),
        ("cli", "group.member_added", "group:finance")
    );
    assert_eq!(
        fields(&member_removed),
        ("cli", "group.member_removed", "group:finance")
    );
    assert_eq!(fields(&disabled), ("cli", "user.disabled", "user:alice"));
    let details: Value = serde_json::from_str(&member_added.details).unwrap();
    assert_eq!(
        details,
        json!({"user": "alice", "before": {"members": []}, "after": {"members": ["alice"]}})
    );
    let details: Value = serde_json::from_str(&member_removed.details).unwrap();
    assert_eq!(details["before"], json!({"members": ["alice"]}));
    assert_eq!(details["after"], json!({"members": []}));
    let details: Value = serde_json::from_str(&disabled.details).unwrap();
    assert_eq!(details["before"], json!({"disabled": false}));
    assert_eq!(details["after"], json!({"disabled": true}));
    assert_eq!(
        [
            &added,
            &password_set,
            &group,
            &member_added,
            &member_removed,
            &disabled
        ]
        .map(|r| r.at),
        [1, 2, 3, 4, 5, 6],
        "each event carries the time of its change"
    );
    assert!(
        !password_set.details.contains("horse") && !password_set.details.contains("argon2"),
        "no password or hash in the trail: {}",
        password_set.details
    );
}

#[test]
fn every_scope_client_and_key_change_records_one_event_naming_actor_action_and_target() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    let cli = Actor::Cli;
    let keys = KeyRing::new(Sealer::new(&SecretString::from(TEST_SECRET_KEY)));
    manage::add_group(&store, "finance", &cli, TEST_NOW).unwrap();
    let spec = ClientSpec {
        name: "Payroll".into(),
        redirect_uris: vec!["https://payroll.example/cb".into()],
        scopes: vec!["openid".into()],
        ..ClientSpec::default()
    };
    let quorum = ScopeChanges {
        quorum: Some(2),
        ..ScopeChanges::default()
    };
    // Act
    let (_, scope) = one_event(&store, || {
        manage::add_scope(&store, "payments", payments_scope(), &cli, TEST_NOW)
    });
    let (_, scope_updated) = one_event(&store, || {
        manage::update_scope(&store, "payments", quorum, &cli, TEST_NOW)
    });
    let (client, client_added) =
        one_event(&store, || manage::add_client(&store, spec, &cli, TEST_NOW));
    let id = client.row.client_id.to_string();
    let (secret, rotated) = one_event(&store, || {
        manage::rotate_client_secret(&store, &id, &cli, TEST_NOW)
    });
    let (_, removed) = one_event(&store, || {
        manage::remove_client(&store, &id, &cli, TEST_NOW)
    });
    let before_keys = head_seq(&store);
    let created_kids = manage::ensure_active_key(&store, &keys, TEST_NOW).unwrap();
    let key_events = store
        .read(|c| store::audit_rows_after(c, before_keys, 10))
        .unwrap();
    let retire_after = std::time::Duration::from_secs(600);
    let (key, key_rotated) = one_event(&store, || {
        manage::rotate_keys(&store, &keys, retire_after, &cli, TEST_NOW)
    });
    // Assert
    let target = format!("client:{id}");
    assert_eq!(fields(&scope), ("cli", "scope.created", "scope:payments"));
    assert_eq!(
        fields(&scope_updated),
        ("cli", "scope.updated", "scope:payments")
    );
    assert_eq!(fields(&client_added), ("cli", "client.created", &*target));
    assert_eq!(fields(&rotated), ("cli", "client.secret_rotated", &*target));
    assert_eq!(fields(&removed), ("cli", "client.removed", &*target));
    assert_eq!(created_kids.len(), 3, "one key per algorithm");
    assert_eq!(key_events.len(), 3, "one event per key: {key_events:?}");
    for (event, kid) in key_events.iter().zip(&created_kids) {
        assert_eq!(
            fields(event),
            ("system", "key.created", &*format!("key:{kid}"))
        );
    }
    assert_eq!(fields(&key_rotated), ("cli", "key.rotated", "keys"));
    let rotated_details: Value = serde_json::from_str(&key_rotated.details).unwrap();
    assert_eq!(rotated_details["new"].as_array().unwrap().len(), key.len());
    let details: Value = serde_json::from_str(&scope_updated.details).unwrap();
    assert_eq!(
        details["before"]["quorum"], 1,
        "policy changes keep before…"
    );
    assert_eq!(details["after"]["quorum"], 2, "…and after");
    assert_eq!(details["after"]["policy_version"], 2);
    let mut retiring: Vec<String> =
        serde_json::from_value(rotated_details["retiring"].clone()).unwrap();
    let mut created = created_kids.clone();
    retiring.sort();
    created.sort();
    assert_eq!(retiring, created, "every previous key retires");
    for row in [&client_added, &rotated, &removed] {
        let secrets = [
            secret.as_str(),
            client.secret.as_deref().unwrap(),
            "sha256:",
        ];
        assert!(
            secrets.iter().all(|s| !row.details.contains(s)),
            "no secret or secret hash in the trail: {}",
            row.details
        );
    }
}

#[test]
fn a_failing_admin_call_records_no_event() {
    // Arrange
    let db = TestDb::new();
    let store = db.store();
    manage::add_user(&store, new_user("alice"), &Actor::Cli, TEST_NOW).unwrap();
    manage::add_group(&store, "finance", &Actor::Cli, TEST_NOW).unwrap();
    let before = all_rows(&store);
    // Act
    let duplicate = manage::add_user(&store, new_user("alice"), &Actor::Cli, TEST_NOW);
    let no_group = manage::add_member(&store, "nosuch", "alice", &Actor::Cli, TEST_NOW);
    let no_approvers = manage::add_scope(
        &store,
        "payments",
        ScopeChanges {
            approver_groups: Some(vec!["nosuch".into()]),
            ..payments_scope()
        },
        &Actor::Cli,
        TEST_NOW,
    );
    let not_member = manage::remove_member(&store, "finance", "alice", &Actor::Cli, TEST_NOW);
    // Assert
    assert!(
        matches!(duplicate, Err(ManageError::Conflict(_))),
        "{duplicate:?}"
    );
    assert!(
        matches!(no_group, Err(ManageError::NotFound(_))),
        "{no_group:?}"
    );
    assert!(matches!(no_approvers, Err(ManageError::NotFound(_))));
    assert!(matches!(not_member, Err(ManageError::NotFound(_))));
    assert_eq!(all_rows(&store), before);
    assert_eq!(head_seq(&store), 2);
}
