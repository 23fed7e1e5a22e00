-- Upstream OpenID Connect providers (issue 22, identity brokering): users sign in
-- through them; a local user is linked by the upstream's `iss` + `sub` (OIDC Core §2:
-- the only stable identifier), never by email.
CREATE TABLE upstreams (
    name TEXT PRIMARY KEY NOT NULL,
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    -- Sealed (AES-256-GCM-SIV under a key derived from the secret key).
    client_secret TEXT NOT NULL,
    scope TEXT NOT NULL,
    groups_claim TEXT,
    -- JSON list of [upstream group, local group] pairs.
    group_map TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE upstream_links (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    upstream TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);

-- Logins in flight: a row per redirect to an upstream, found by the SHA-256 of its
-- `state` and deleted by the callback that uses it (single use), so any instance can
-- finish a login another started.
CREATE TABLE upstream_logins (
    state_hash TEXT PRIMARY KEY NOT NULL,
    upstream TEXT NOT NULL REFERENCES upstreams (name) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    request_id TEXT,
    return_to TEXT,
    expires_at BIGINT NOT NULL
);
CREATE INDEX upstream_logins_expires_at ON upstream_logins (expires_at);

-- Sessions started through an upstream, with its ID token: RP-initiated logout here
-- ends the upstream session too (its `id_token_hint`), when it has an end_session
-- endpoint. Gone with the session.
CREATE TABLE upstream_sessions (
    session_hash TEXT PRIMARY KEY NOT NULL REFERENCES sessions (id_hash) ON DELETE CASCADE,
    upstream TEXT NOT NULL,
    id_token TEXT NOT NULL
);
