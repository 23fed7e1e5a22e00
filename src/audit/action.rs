//! What an audit event records: one name per kind of decision or change, so a new
//! event kind is a new variant here (and appears in `audit export` under that name).

use crate::named::named_enum;

named_enum! {
    /// The `action` of an audit event.
    pub enum AuditAction {
        /// An action type was registered.
        ActionTypeCreated = "action_type.created",
        /// An action type changed (a new version).
        ActionTypeUpdated = "action_type.updated",
        /// An action type was removed.
        ActionTypeRemoved = "action_type.removed",
        /// The approval rules were replaced (a new version).
        RulesUpdated = "rules.updated",
        /// A requester asked for a countersignature.
        ApprovalRequested = "approval.requested",
        /// One approver voted.
        ApprovalVote = "approval.vote",
        /// Every group reached its quorum.
        ApprovalApproved = "approval.approved",
        /// An approver denied.
        ApprovalDenied = "approval.denied",
        /// The requester withdrew the request.
        ApprovalCancelled = "approval.cancelled",
        /// The approval's time ran out.
        ApprovalExpired = "approval.expired",
        /// The approval's code was issued.
        ApprovalRedeemed = "approval.redeemed",
        /// The approval and its grants were revoked.
        ApprovalRevoked = "approval.revoked",
        /// A client was registered.
        ClientCreated = "client.created",
        /// A client's registration changed.
        ClientUpdated = "client.updated",
        /// A client was removed.
        ClientRemoved = "client.removed",
        /// A client's secret was replaced.
        ClientSecretRotated = "client.secret_rotated",
        /// A used authorization code was presented again.
        CodeReplayDetected = "code.replay_detected",
        /// A user refused on the consent page.
        ConsentDenied = "consent.denied",
        /// A user consented.
        ConsentGiven = "consent.given",
        /// A group was created.
        GroupCreated = "group.created",
        /// A user joined a group.
        GroupMemberAdded = "group.member_added",
        /// A user left a group.
        GroupMemberRemoved = "group.member_removed",
        /// Where a group is notified changed.
        GroupNotifyChanged = "group.notify_changed",
        /// A failed or dead notification was put back to be sent.
        OutboxRetried = "outbox.retried",
        /// A user signed out (RP-initiated logout).
        Logout = "logout",
        /// A signing key was created.
        KeyCreated = "key.created",
        /// The signing keys were rotated.
        KeyRotated = "key.rotated",
        /// A sign-in failed.
        LoginFailed = "login.failed",
        /// A sign-in succeeded.
        LoginSucceeded = "login.succeeded",
        /// A sign-in was refused by throttling.
        LoginThrottled = "login.throttled",
        /// A used refresh token was presented again.
        RefreshReuseDetected = "refresh.reuse_detected",
        /// A scope was created.
        ScopeCreated = "scope.created",
        /// A scope (or its approval policy) changed.
        ScopeUpdated = "scope.updated",
        /// Tokens were issued at the token endpoint.
        TokenIssued = "token.issued",
        /// A refresh token was rotated into new tokens.
        TokenRefreshed = "token.refreshed",
        /// A client revoked a token (its grant).
        TokenRevoked = "token.revoked",
        /// An upstream OpenID Connect provider was registered.
        UpstreamAdded = "upstream.added",
        /// An upstream OpenID Connect provider was removed.
        UpstreamRemoved = "upstream.removed",
        /// A user was created.
        UserCreated = "user.created",
        /// A user was disabled.
        UserDisabled = "user.disabled",
        /// A user's password was set.
        UserPasswordSet = "user.password_set",
        /// A user's Slack or Teams account was linked or unlinked.
        UserChatLinked = "user.chat_linked",
        /// A user's custom attribute was set or removed.
        UserAttributeSet = "user.attribute_set",
        /// A user enrolled a second factor (an authenticator app).
        FactorEnrolled = "factor.enrolled",
        /// A user removed a second factor.
        FactorRemoved = "factor.removed",
        /// An admin removed all of a user's second factors.
        FactorsReset = "factor.reset",
        /// A second factor presented with a decision was refused.
        StepUpFailed = "step_up.failed",
        /// A session proved a second factor after its sign-in (the admin console's
        /// step-up).
        SessionElevated = "session.elevated",
    }
}
