CREATE TABLE webauthn_ceremonies_old (
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
INSERT INTO webauthn_ceremonies_old SELECT id, user_id, purpose, approval_id, approval_digest,
    decision, comment, name, state, expires_at, used_at FROM webauthn_ceremonies
    WHERE purpose <> 'step-up';
DROP TABLE webauthn_ceremonies;
ALTER TABLE webauthn_ceremonies_old RENAME TO webauthn_ceremonies;
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies (expires_at);
