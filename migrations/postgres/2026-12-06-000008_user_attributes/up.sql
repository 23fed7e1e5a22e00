-- Claims applications can route on (issue 22): custom attributes per user, released as
-- claims by the scopes that name them, and a `groups` scope whose claim lists the
-- user's groups.
CREATE TABLE user_attributes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
);

INSERT INTO scopes (name, description, claims, builtin, sensitive, quorum, pending_ttl,
    access_duration, require_justification, approver_max_age, allow_chat_decisions,
    policy_version, created_at, updated_at)
SELECT 'groups', 'The groups you belong to', '["groups"]', TRUE, FALSE, 1, 900, 3600, FALSE,
    600, FALSE, 1, 0, 0
WHERE NOT EXISTS (SELECT 1 FROM scopes WHERE name = 'groups');
