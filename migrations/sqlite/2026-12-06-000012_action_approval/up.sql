-- Issue 20: just-in-time action approval.
-- Action types an admin registers for RFC 9396 authorization_details: the JSON Schema
-- its objects must satisfy, and the sensitive scope whose approval policy (approver
-- groups, quorum, times, factor) governs it, so a policy is edited in one place.
CREATE TABLE action_types (
    name TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    schema TEXT NOT NULL,
    policy_scope TEXT NOT NULL REFERENCES scopes (name),
    version INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- What a requester saw on their device (CIBA binding_message), shown to approvers.
ALTER TABLE approvals ADD COLUMN binding_message TEXT;

-- CIBA client metadata (CIBA Core §4).
ALTER TABLE clients ADD COLUMN backchannel_token_delivery_mode TEXT
    CHECK (backchannel_token_delivery_mode IN ('poll', 'ping'));
ALTER TABLE clients ADD COLUMN backchannel_client_notification_endpoint TEXT;

-- CIBA authentication requests (CIBA Core §7-§11). The request itself is a row of
-- authorization_requests (the approval's request); this holds what the poll needs.
-- auth_req_id is stored as its SHA-256 only; a ping client's auth_req_id and
-- client_notification_token are kept sealed for the ping (ping_sealed).
CREATE TABLE backchannel_requests (
    request_id TEXT PRIMARY KEY NOT NULL REFERENCES authorization_requests (id) ON DELETE CASCADE,
    auth_req_hash TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    approval_id TEXT NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
    delivery_mode TEXT NOT NULL CHECK (delivery_mode IN ('poll', 'ping')),
    ping_sealed TEXT,
    poll_interval BIGINT NOT NULL,
    next_poll_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('waiting', 'issued', 'ended')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX backchannel_requests_approval ON backchannel_requests (approval_id);
