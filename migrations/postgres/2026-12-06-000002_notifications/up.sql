-- Outbox delivery (issue 16): a lease for the worker that claimed a row, dead letters,
-- the approval a row is about; where each group is notified; the chat messages to
-- update in place; and the inbound signatures already seen (replay refusal).

ALTER TABLE outbox ADD COLUMN approval_id TEXT;
ALTER TABLE outbox ADD COLUMN locked_until BIGINT;
ALTER TABLE outbox ADD COLUMN dead_at BIGINT;
-- Rows written before a worker existed named a whole group, not a destination; they
-- stay visible as dead letters rather than being sent late.
UPDATE outbox SET dead_at = created_at, last_error = 'written before outbox delivery existed'
    WHERE delivered_at IS NULL;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;

CREATE TABLE group_channels (
    group_name TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('slack', 'teams', 'teams-bot', 'webhook', 'email')),
    destination TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (group_name, kind)
);

CREATE TABLE notification_messages (
    approval_id TEXT NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    external_ref TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (approval_id, target)
);

CREATE TABLE inbound_replays (
    digest TEXT PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL
);

-- A chat account belongs to at most one countersign account.
ALTER TABLE users ADD COLUMN teams_user_id TEXT;
CREATE UNIQUE INDEX users_slack_user_id ON users (slack_user_id);
CREATE UNIQUE INDEX users_teams_user_id ON users (teams_user_id);
