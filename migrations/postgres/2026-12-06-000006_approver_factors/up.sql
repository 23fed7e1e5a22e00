-- Approver step-up (issue 18): a scope may require a second factor at the decision; each
-- vote records how its approver proved themselves (RFC 8176 amr values, and the
-- credential used); TOTP credentials (one per user, secret sealed with the secret key,
-- the last accepted time step so a code is never accepted twice) and recovery codes
-- (stored hashed, each usable once).
ALTER TABLE scopes ADD COLUMN approver_factor TEXT NOT NULL DEFAULT 'none'
    CHECK (approver_factor IN ('none', 'totp', 'passkey', 'any'));
ALTER TABLE approval_decisions ADD COLUMN amr TEXT NOT NULL DEFAULT '[]';
ALTER TABLE approval_decisions ADD COLUMN credential_id TEXT;
-- Never used: TOTP lives in totp_credentials.
ALTER TABLE users DROP COLUMN totp_secret;

CREATE TABLE totp_credentials (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    confirmed_at BIGINT,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);
