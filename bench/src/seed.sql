-- Issue 21 item 5 ("scale with the data"): 100,000 users, 10,000 clients, 1,000,000
-- decided approvals (redeemed, denied, expired; all for the `approvers` group, so the
-- approver inbox query has to pass them by) and 1,000,000 machine grants, inserted
-- directly (one transaction, no argon2) after the bench's own set-up. The same text
-- runs on SQLite (sqlite3) and PostgreSQL (psql): a recursive CTE counts, the bench
-- client's row is the template for the clients. Timestamps are in the past.
-- PostgreSQL then gets ANALYZE (as autovacuum would soon do); SQLite does not, as
-- countersign never runs it there (with SQLite's statistics the inbox query changes
-- plan: see BENCHMARKS.md).
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO users (id, username, email, name, password_hash, disabled, created_at)
SELECT 'seed-user-' || i, 'seed' || i, 'seed' || i || '@bench.invalid', NULL, NULL, FALSE, 1700000000
FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
INSERT INTO clients (client_id, name, secret_hash, redirect_uris, post_logout_redirect_uris,
    grant_types, allowed_scopes, token_endpoint_auth_method, id_token_alg, require_pkce, created_at)
SELECT 'seed-client-' || i, 'Seed ' || i, c.secret_hash, c.redirect_uris, c.post_logout_redirect_uris,
    c.grant_types, c.allowed_scopes, c.token_endpoint_auth_method, c.id_token_alg, c.require_pkce, c.created_at
FROM n, clients c WHERE c.name = 'bench';
INSERT INTO authorization_requests (id, client_id, user_id, params, state, login_at, created_at, expires_at)
SELECT 'seed-request', c.client_id, NULL, '{}', 'completed', NULL, 1700000000, 1700000001
FROM clients c WHERE c.name = 'bench';
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
INSERT INTO approvals (id, request_id, requester_id, client_id, scopes, redirect_uri, state,
    requirements, created_at, expires_at, decided_at)
SELECT 'seed-approval-' || i, 'seed-request', 'seed-user-' || (i % 100000 + 1),
    'seed-client-' || (i % 10000 + 1), 'openid payments:write', 'http://rp.example/callback',
    CASE i % 3 WHEN 0 THEN 'redeemed' WHEN 1 THEN 'denied' ELSE 'expired' END,
    '{"sensitive_scopes":["payments:write"],"groups":[{"group":"approvers","quorum":1}],"policy_versions":{"payments:write":1},"pending_ttl":900,"access_duration":3600,"require_justification":false,"approver_max_age":600}',
    1700000000 + i, 1700000900 + i, 1700000060 + i
FROM n;
INSERT INTO approval_groups (approval_id, group_name)
SELECT id, 'approvers' FROM approvals WHERE request_id = 'seed-request';
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
INSERT INTO grants (id, user_id, client_id, scopes, created_at, expires_at)
SELECT 'seed-grant-' || i, NULL, 'seed-client-' || (i % 10000 + 1), 'bench:api', 1700000000 + i, 1700000600 + i
FROM n;
COMMIT;
