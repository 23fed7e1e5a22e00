-- Issue 20: approval rules, a Cedar policy set per version; the highest version is in
-- force, and every approval records the version it was decided under.
CREATE TABLE approval_rules (
    version INTEGER PRIMARY KEY NOT NULL,
    policies TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Decision hooks: an action type may ask an external decision endpoint (a signed
-- HTTP POST, with a timeout) and declares what happens when it fails or times out:
-- deny, or fall back to the human approvers (human).
ALTER TABLE action_types ADD COLUMN hook_url TEXT;
ALTER TABLE action_types ADD COLUMN hook_timeout_ms INTEGER NOT NULL DEFAULT 2000
    CHECK (hook_timeout_ms BETWEEN 1 AND 30000);
ALTER TABLE action_types ADD COLUMN hook_failure TEXT NOT NULL DEFAULT 'human'
    CHECK (hook_failure IN ('deny', 'human'));

-- A scope's policy may ask the subject too (CIBA: the user an agent acts for) to
-- confirm, besides the approver groups.
ALTER TABLE scopes ADD COLUMN subject_confirms BOOLEAN NOT NULL DEFAULT FALSE;
