-- Passkeys (issue 18, WebAuthn L2 §6.1 credential records): several per user, each
-- named by its owner; `passkey` is webauthn-rs's serialised credential (public key,
-- backup flags), updated after every assertion; `sign_count` is the highest signature
-- counter accepted (§6.1.1: a counter that does not rise betrays a cloned key), kept
-- in a column so it is compared and raised in one UPDATE.
CREATE TABLE passkeys (
    credential_id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    passkey TEXT NOT NULL,
    sign_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- WebAuthn ceremonies in flight (WebAuthn L2 §13.4.3: each challenge is used once):
-- webauthn-rs's ceremony state lives here, never in memory (any instance may finish
-- it) nor in the browser (a client-held state could be replayed). An approval
-- ceremony names the approval, the decision and a digest of what is approved, so its
-- assertion counts for that decision only. Consumed by setting used_at, once.
CREATE TABLE webauthn_ceremonies (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('register', 'approve', 'login')),
    approval_id TEXT REFERENCES approvals (id) ON DELETE CASCADE,
    approval_digest TEXT,
    decision TEXT CHECK (decision IN ('approve', 'deny')),
    comment TEXT,
    name TEXT,
    state TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies (expires_at);
