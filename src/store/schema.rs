//! Diesel table definitions, written by hand to match both migration trees
//! (`migrations/sqlite` and `migrations/postgres`); portable types only.
#![allow(missing_docs)]

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        email -> Text,
        name -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        disabled -> Bool,
        slack_user_id -> Nullable<Text>,
        teams_user_id -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    groups (id) {
        id -> Text,
        name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    group_members (group_id, user_id) {
        group_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    clients (client_id) {
        client_id -> Text,
        name -> Text,
        secret_hash -> Nullable<Text>,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        grant_types -> Text,
        allowed_scopes -> Text,
        token_endpoint_auth_method -> Text,
        id_token_alg -> Text,
        require_pkce -> Bool,
        created_at -> BigInt,
        access_token_alg -> Text,
        backchannel_token_delivery_mode -> Nullable<Text>,
        backchannel_client_notification_endpoint -> Nullable<Text>,
    }
}

diesel::table! {
    scopes (name) {
        name -> Text,
        description -> Text,
        claims -> Text,
        builtin -> Bool,
        sensitive -> Bool,
        quorum -> Integer,
        pending_ttl -> BigInt,
        access_duration -> BigInt,
        require_justification -> Bool,
        approver_max_age -> BigInt,
        allow_chat_decisions -> Bool,
        approver_factor -> Text,
        policy_version -> Integer,
        created_at -> BigInt,
        updated_at -> BigInt,
        subject_confirms -> Bool,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        private_pem -> Text,
        public_jwk -> Text,
        state -> Text,
        created_at -> BigInt,
        retire_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        sid -> Text,
        auth_time -> BigInt,
        amr -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        last_seen_at -> BigInt,
    }
}

diesel::table! {
    consents (user_id, client_id) {
        user_id -> Text,
        client_id -> Text,
        scopes -> Text,
        granted_at -> BigInt,
    }
}

diesel::table! {
    authorization_requests (id) {
        id -> Text,
        client_id -> Text,
        user_id -> Nullable<Text>,
        params -> Text,
        state -> Text,
        login_at -> Nullable<BigInt>,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    approvals (id) {
        id -> Text,
        request_id -> Text,
        requester_id -> Text,
        client_id -> Text,
        scopes -> Text,
        redirect_uri -> Text,
        details_digest -> Nullable<Text>,
        details -> Nullable<Text>,
        justification -> Nullable<Text>,
        state -> Text,
        requirements -> Text,
        requester_ip -> Nullable<Text>,
        requester_user_agent -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        decided_at -> Nullable<BigInt>,
        access_until -> Nullable<BigInt>,
        binding_message -> Nullable<Text>,
    }
}

diesel::table! {
    approval_decisions (approval_id, approver_id) {
        approval_id -> Text,
        approver_id -> Text,
        decision -> Text,
        comment -> Nullable<Text>,
        at -> BigInt,
        amr -> Text,
        credential_id -> Nullable<Text>,
    }
}

diesel::table! {
    grants (id) {
        id -> Text,
        user_id -> Nullable<Text>,
        client_id -> Text,
        scopes -> Text,
        approval_id -> Nullable<Text>,
        auth_time -> Nullable<BigInt>,
        sid -> Nullable<Text>,
        amr -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    authorization_codes (code_hash) {
        code_hash -> Text,
        grant_id -> Text,
        client_id -> Text,
        redirect_uri -> Text,
        redirect_uri_sent -> Bool,
        nonce -> Nullable<Text>,
        code_challenge -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        grant_id -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        target -> Text,
        payload -> Text,
        attempts -> Integer,
        next_attempt_at -> BigInt,
        delivered_at -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        created_at -> BigInt,
        approval_id -> Nullable<Text>,
        locked_until -> Nullable<BigInt>,
        dead_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    group_channels (group_name, kind) {
        group_name -> Text,
        kind -> Text,
        destination -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    notification_messages (approval_id, target) {
        approval_id -> Text,
        target -> Text,
        external_ref -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    inbound_replays (digest) {
        digest -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    user_attributes (user_id, name) {
        user_id -> Text,
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    totp_credentials (user_id) {
        user_id -> Text,
        secret -> Text,
        confirmed_at -> Nullable<BigInt>,
        last_step -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    recovery_codes (user_id, code_hash) {
        user_id -> Text,
        code_hash -> Text,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    passkeys (credential_id) {
        credential_id -> Text,
        user_id -> Text,
        name -> Text,
        passkey -> Text,
        sign_count -> BigInt,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    webauthn_ceremonies (id) {
        id -> Text,
        user_id -> Nullable<Text>,
        purpose -> Text,
        approval_id -> Nullable<Text>,
        approval_digest -> Nullable<Text>,
        decision -> Nullable<Text>,
        comment -> Nullable<Text>,
        name -> Nullable<Text>,
        state -> Text,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    login_failures (subject) {
        subject -> Text,
        failures -> Integer,
        window_start -> BigInt,
        locked_until -> Nullable<BigInt>,
        in_flight -> Integer,
    }
}

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        at -> BigInt,
        actor -> Text,
        action -> Text,
        target -> Text,
        details -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    scope_approver_groups (scope_name, position) {
        scope_name -> Text,
        position -> Integer,
        group_name -> Text,
        quorum -> Nullable<Integer>,
    }
}

diesel::table! {
    approval_groups (approval_id, group_name) {
        approval_id -> Text,
        group_name -> Text,
    }
}

diesel::table! {
    approval_decision_groups (approval_id, approver_id, group_name) {
        approval_id -> Text,
        approver_id -> Text,
        group_name -> Text,
    }
}

diesel::table! {
    upstreams (name) {
        name -> Text,
        issuer -> Text,
        client_id -> Text,
        client_secret -> Text,
        scope -> Text,
        groups_claim -> Nullable<Text>,
        group_map -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    upstream_links (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        user_id -> Text,
        upstream -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    upstream_logins (state_hash) {
        state_hash -> Text,
        upstream -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        request_id -> Nullable<Text>,
        return_to -> Nullable<Text>,
        expires_at -> BigInt,
    }
}

diesel::table! {
    upstream_sessions (session_hash) {
        session_hash -> Text,
        upstream -> Text,
        id_token -> Text,
    }
}

diesel::joinable!(group_members -> groups (group_id));
diesel::joinable!(group_members -> users (user_id));
diesel::table! {
    action_types (name) {
        name -> Text,
        description -> Text,
        schema -> Text,
        policy_scope -> Text,
        version -> Integer,
        created_at -> BigInt,
        updated_at -> BigInt,
        hook_url -> Nullable<Text>,
        hook_timeout_ms -> Integer,
        hook_failure -> Text,
    }
}

diesel::table! {
    approval_rules (version) {
        version -> Integer,
        policies -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    backchannel_requests (request_id) {
        request_id -> Text,
        auth_req_hash -> Text,
        client_id -> Text,
        user_id -> Text,
        approval_id -> Text,
        delivery_mode -> Text,
        ping_sealed -> Nullable<Text>,
        poll_interval -> BigInt,
        next_poll_at -> BigInt,
        state -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::joinable!(refresh_tokens -> grants (grant_id));
diesel::joinable!(authorization_codes -> grants (grant_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    groups,
    group_members,
    clients,
    scopes,
    scope_approver_groups,
    action_types,
    approval_rules,
    backchannel_requests,
    signing_keys,
    sessions,
    consents,
    authorization_requests,
    approvals,
    approval_decisions,
    approval_decision_groups,
    totp_credentials,
    recovery_codes,
    user_attributes,
    passkeys,
    webauthn_ceremonies,
    approval_groups,
    grants,
    authorization_codes,
    refresh_tokens,
    outbox,
    group_channels,
    notification_messages,
    inbound_replays,
    login_failures,
    audit_events,
    audit_head
);
