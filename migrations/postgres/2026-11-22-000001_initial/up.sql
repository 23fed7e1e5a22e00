-- The whole data model of DESIGN.md §4. Portable types only: ids TEXT, instants BIGINT
-- unix seconds (UTC), enums TEXT + CHECK, JSON as TEXT. Keep in step with ../sqlite.

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    name TEXT,
    password_hash TEXT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    totp_secret TEXT,
    slack_user_id TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE groups (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);

CREATE TABLE clients (
    client_id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    grant_types TEXT NOT NULL,
    allowed_scopes TEXT NOT NULL,
    token_endpoint_auth_method TEXT NOT NULL
        CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none')),
    id_token_alg TEXT NOT NULL DEFAULT 'RS256' CHECK (id_token_alg IN ('RS256', 'ES256', 'EdDSA')),
    require_pkce BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE scopes (
    name TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    claims TEXT NOT NULL,
    builtin BOOLEAN NOT NULL DEFAULT FALSE,
    sensitive BOOLEAN NOT NULL DEFAULT FALSE,
    approver_groups TEXT NOT NULL,
    quorum INTEGER NOT NULL DEFAULT 1 CHECK (quorum >= 1),
    pending_ttl BIGINT NOT NULL,
    access_duration BIGINT NOT NULL,
    require_justification BOOLEAN NOT NULL DEFAULT FALSE,
    approver_max_age BIGINT NOT NULL,
    allow_chat_decisions BOOLEAN NOT NULL DEFAULT FALSE,
    policy_version INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    alg TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
    private_pem TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'retiring', 'retired')),
    created_at BIGINT NOT NULL,
    retire_at BIGINT
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sid TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    amr TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE consents (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE authorization_requests (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    params TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'consented', 'awaiting_approval', 'completed', 'failed')),
    login_at BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE approvals (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES authorization_requests (id),
    requester_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    details_digest TEXT,
    details TEXT,
    justification TEXT,
    state TEXT NOT NULL
        CHECK (state IN ('pending', 'approved', 'denied', 'expired', 'cancelled', 'redeemed', 'revoked')),
    requirements TEXT NOT NULL,
    requester_ip TEXT,
    requester_user_agent TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_at BIGINT,
    access_until BIGINT
);
CREATE INDEX approvals_state ON approvals (state);

CREATE TABLE approval_decisions (
    approval_id TEXT NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
    approver_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_name TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'deny')),
    comment TEXT,
    at BIGINT NOT NULL,
    PRIMARY KEY (approval_id, approver_id)
);

CREATE TABLE grants (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    approval_id TEXT REFERENCES approvals (id),
    auth_time BIGINT,
    sid TEXT,
    amr TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE authorization_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    redirect_uri_sent BOOLEAN NOT NULL,
    nonce TEXT,
    code_challenge TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_grant_id ON refresh_tokens (grant_id);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE login_failures (
    subject TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT
);

CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

-- One row: the chain's head. Appends lock it, so the chain stays linear across instances.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- OIDC Core §5.4 standard scopes exist from the start (DESIGN.md §8).
INSERT INTO scopes (name, description, claims, builtin, sensitive, approver_groups, quorum,
    pending_ttl, access_duration, require_justification, approver_max_age, allow_chat_decisions,
    policy_version, created_at, updated_at)
VALUES
    ('openid', 'Sign you in with your account', '["sub"]', TRUE, FALSE, '[]', 1, 900, 3600, FALSE, 600, FALSE, 1, 0, 0),
    ('profile', 'Your name and username', '["name","preferred_username"]', TRUE, FALSE, '[]', 1, 900, 3600, FALSE, 600, FALSE, 1, 0, 0),
    ('email', 'Your email address', '["email","email_verified"]', TRUE, FALSE, '[]', 1, 900, 3600, FALSE, 600, FALSE, 1, 0, 0),
    ('offline_access', 'Stay signed in to the app while you are away', '[]', TRUE, FALSE, '[]', 1, 900, 3600, FALSE, 600, FALSE, 1, 0, 0);

-- The audit trail is append-only in the database too. (Someone with owner rights can
-- drop this trigger; the hash chain and `audit verify` still catch what they change.)
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
