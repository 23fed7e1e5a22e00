-- Issue 20: approval rules, a Cedar policy set per version; the highest version is in
-- force, and every approval records the version it was decided under.
CREATE TABLE approval_rules (
    version INTEGER PRIMARY KEY NOT NULL,
    policies TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
