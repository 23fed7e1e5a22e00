//! Data migrations keep what is stored: the policy groups of a scope (once a JSON list
//! of "GROUP" / "GROUP:N") and the groups of a vote (once comma-joined) move into child
//! tables and back, on whichever backend [`TestDb`] gives.

use countersign::ids::ApprovalId;
use countersign::store::{self, DbConn};
use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::helpers::TestDb;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Rows as the first migration stored them: comma-joined vote groups, JSON policy groups.
const OLD_ROWS: &str = "
INSERT INTO users (id, username, email, disabled, created_at) VALUES
    ('u-req', 'req', 'req@example.com', FALSE, 0), ('u-eve', 'eve', 'eve@example.com', FALSE, 0);
INSERT INTO groups (id, name, created_at) VALUES ('g-ops', 'ops', 0), ('g-sec', 'sec', 0);
INSERT INTO clients (client_id, name, redirect_uris, post_logout_redirect_uris, grant_types,
    allowed_scopes, token_endpoint_auth_method, id_token_alg, require_pkce, created_at)
    VALUES ('app', 'App', '[]', '[]', 'authorization_code', 'openid deploy', 'none', 'RS256', TRUE, 0);
INSERT INTO scopes (name, description, claims, builtin, sensitive, approver_groups, quorum,
    pending_ttl, access_duration, require_justification, approver_max_age, allow_chat_decisions,
    policy_version, created_at, updated_at)
    VALUES ('deploy', 'Deploy', '[]', FALSE, TRUE, '[\"sec:2\",\"ops\"]', 1, 900, 3600, FALSE, 600, FALSE, 1, 0, 0);
INSERT INTO authorization_requests (id, client_id, user_id, params, state, created_at, expires_at)
    VALUES ('r1', 'app', 'u-req', '{}', 'awaiting_approval', 0, 9000);
INSERT INTO approvals (id, request_id, requester_id, client_id, scopes, redirect_uri, state,
    requirements, created_at, expires_at)
    VALUES ('a1', 'r1', 'u-req', 'app', 'openid deploy', 'https://app/cb', 'pending',
        '{\"groups\":[{\"group\":\"sec\",\"quorum\":2},{\"group\":\"ops\",\"quorum\":1}]}', 0, 900);
INSERT INTO approval_decisions (approval_id, approver_id, group_name, decision, at)
    VALUES ('a1', 'u-eve', 'ops,sec', 'approve', 5);
";

#[derive(QueryableByName)]
struct Old {
    #[diesel(sql_type = Text)]
    approver_groups: String,
    #[diesel(sql_type = Text)]
    group_name: String,
}

#[derive(QueryableByName)]
struct Needs {
    #[diesel(sql_type = Text)]
    group_name: String,
}

fn old_columns(conn: &mut DbConn) -> Old {
    diesel::sql_query(
        "SELECT s.approver_groups, d.group_name FROM scopes s, approval_decisions d \
         WHERE s.name = 'deploy' AND d.approval_id = 'a1'",
    )
    .get_result(conn)
    .unwrap()
}

#[test]
fn policy_and_vote_groups_move_into_child_tables_and_back() {
    // Arrange: the first migration only, with rows in its shape.
    let db = TestDb::unmigrated();
    let store = db.store();
    let mut conn = store.conn().unwrap();
    match &mut *conn {
        DbConn::Sqlite(c) => drop(c.run_next_migration(SQLITE).unwrap()),
        DbConn::Pg(c) => drop(c.run_next_migration(POSTGRES).unwrap()),
    }
    conn.batch_execute(OLD_ROWS).unwrap();

    // Act: every later migration.
    store.migrate().unwrap();

    // Assert: the same policy and vote, read from the child tables.
    let scope = store::scope_by_name(&mut conn, "deploy").unwrap().unwrap();
    let groups: Vec<String> = scope
        .approver_groups
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(groups, ["sec:2", "ops"], "order and quorums kept");
    let votes = store::decisions_for(&mut conn, &ApprovalId::new("a1")).unwrap();
    assert_eq!(votes.len(), 1);
    assert_eq!(votes[0].groups, ["ops", "sec"]);
    let needs: Vec<Needs> = diesel::sql_query(
        "SELECT group_name FROM approval_groups WHERE approval_id = 'a1' ORDER BY group_name",
    )
    .load(&mut conn)
    .unwrap();
    let needs: Vec<&str> = needs.iter().map(|n| n.group_name.as_str()).collect();
    assert_eq!(
        needs,
        ["ops", "sec"],
        "the inbox's rows, from the stored requirements"
    );

    // Act: revert every migration after the first.
    loop {
        let applied = match &mut *conn {
            DbConn::Sqlite(c) => c.applied_migrations().unwrap().len(),
            DbConn::Pg(c) => c.applied_migrations().unwrap().len(),
        };
        if applied <= 1 {
            break;
        }
        match &mut *conn {
            DbConn::Sqlite(c) => drop(c.revert_last_migration(SQLITE).unwrap()),
            DbConn::Pg(c) => drop(c.revert_last_migration(POSTGRES).unwrap()),
        }
    }

    // Assert: the old text, as it was.
    let old = old_columns(&mut conn);
    assert_eq!(old.approver_groups, r#"["sec:2","ops"]"#);
    assert_eq!(old.group_name, "ops,sec");
}
