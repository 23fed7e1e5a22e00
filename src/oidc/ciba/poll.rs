//! The CIBA token request (CIBA Core §10.1, §11): `grant_type=urn:openid:params:
//! grant-type:ciba` with `auth_req_id`. Until the approvers decide the answer is
//! `authorization_pending`; a poll sooner than the interval is `slow_down` and adds
//! 5 s to the interval for good (RFC 8628 §3.5); a denial, cancellation or revocation
//! is `access_denied`, a request nobody decided in time `expired_token`. The approved
//! request is redeemed once (compare-and-swap), into tokens carrying the approval and
//! exactly the approved `authorization_details`. Ping clients may poll too.

use super::{BackchannelState, SLOW_DOWN_STEP};
use crate::approval::details::AuthorizationDetails;
use crate::approval::{service, ApprovalError, ApprovalState};
use crate::crypto;
use crate::ids::GrantId;
use crate::oidc::clients::Client;
use crate::oidc::error::{ErrorCode, OAuthError};
use crate::oidc::grant_type::GrantType;
use crate::oidc::grants::record_issue;
use crate::oidc::minting::{self, wants_refresh, TokenSet};
use crate::oidc::params::Params;
use crate::oidc::Provider;
use crate::store::{self, BackchannelRow, DbConn, GrantRow, StoreError};

/// Answers one poll.
pub(crate) fn poll(
    provider: &Provider,
    c: &mut DbConn,
    client: &Client,
    params: &Params,
    now: i64,
) -> Result<TokenSet, OAuthError> {
    let auth_req_id = params
        .get("auth_req_id")
        .ok_or_else(|| OAuthError::invalid_request("auth_req_id is missing"))?;
    // Someone else's auth_req_id is as unknown as a made-up one (CIBA §11).
    let row = store::backchannel_by_hash(c, &crypto::sha256_hex(auth_req_id.as_bytes()))?
        .filter(|row| row.client_id == client.client_id)
        .ok_or_else(|| OAuthError::invalid_grant("auth_req_id is unknown"))?;
    if row.state == BackchannelState::Issued {
        return Err(OAuthError::invalid_grant("auth_req_id was already used"));
    }
    if now < row.next_poll_at {
        let interval = row.poll_interval + SLOW_DOWN_STEP;
        store::note_backchannel_poll(c, &row.request_id, interval, now + interval)?;
        return Err(OAuthError::new(
            ErrorCode::SlowDown,
            "polling too fast; wait the interval, now 5 seconds longer",
        ));
    }
    store::note_backchannel_poll(
        c,
        &row.request_id,
        row.poll_interval,
        now + row.poll_interval,
    )?;
    let approval = service::load(c, &row.approval_id, now).map_err(approval_failure)?;
    let ended = |code: ErrorCode, description: &'static str| OAuthError::new(code, description);
    match approval.state {
        ApprovalState::Pending => Err(ended(
            ErrorCode::AuthorizationPending,
            "the approvers have not decided yet",
        )),
        ApprovalState::Approved => {
            // Bound to the digest the approvers saw: altered details are never redeemed.
            if let (Some(stored), Some(digest)) = (&approval.details, &approval.details_digest) {
                if AuthorizationDetails::verified(stored, digest).is_none() {
                    return Err(OAuthError::invalid_grant(
                        "the approved authorization_details were altered and cannot be redeemed",
                    ));
                }
            }
            // Refuse before redeeming: a refusal here is committed (slow_down must
            // be), and a redeemed approval without tokens could not be fetched again.
            let subject_active = store::user_by_id(c, &row.user_id)?.is_some_and(|u| !u.disabled);
            if !subject_active {
                return Err(OAuthError::invalid_grant("the user is disabled"));
            }
            service::redeem(c, &approval, now).map_err(approval_failure)?;
            issue(provider, c, client, &row, now)
        }
        ApprovalState::Denied => Err(ended(
            ErrorCode::AccessDenied,
            service::denial_description(&approval),
        )),
        ApprovalState::Cancelled => {
            Err(ended(ErrorCode::AccessDenied, "the request was cancelled"))
        }
        ApprovalState::Revoked => Err(ended(ErrorCode::AccessDenied, "the approval was revoked")),
        ApprovalState::Expired => Err(ended(
            ErrorCode::ExpiredToken,
            "the request expired before it was approved and redeemed",
        )),
        ApprovalState::Redeemed => Err(OAuthError::invalid_grant("auth_req_id was already used")),
    }
}

/// The tokens of an approved request: a grant for the subject naming the approval,
/// marked issued in the same transaction (a second poll finds it used).
fn issue(
    provider: &Provider,
    c: &mut DbConn,
    client: &Client,
    row: &BackchannelRow,
    now: i64,
) -> Result<TokenSet, OAuthError> {
    store::finish_backchannel(c, &row.request_id, BackchannelState::Issued).map_err(
        |e| match e {
            StoreError::Conflict => OAuthError::invalid_grant("auth_req_id was already used"),
            other => other.into(),
        },
    )?;
    let approval = store::approval_by_id(c, &row.approval_id)?
        .ok_or_else(|| OAuthError::invalid_grant("auth_req_id is unknown"))?;
    let grant = GrantRow {
        id: GrantId::new(uuid::Uuid::new_v4().to_string()),
        user_id: Some(row.user_id.clone()),
        client_id: client.client_id.clone(),
        scopes: approval.scopes.clone(),
        approval_id: Some(approval.id.clone()),
        // The subject did not sign in here: nobody authenticated for them, the
        // approvers decided (their proofs are in the `approval` claim).
        auth_time: None,
        sid: None,
        amr: None,
        created_at: now,
        expires_at: None,
        revoked_at: None,
    };
    store::insert_grant(c, &grant)?;
    let (_, minter) = provider.minter(c, now, client)?;
    let refresh = wants_refresh(client.may_use(GrantType::RefreshToken), &grant.scopes);
    let issued = minting::mint(c, &minter, &grant, &grant.scopes, None, refresh)?;
    record_issue(c, client, &issued, GrantType::Ciba, now)?;
    Ok(issued)
}

fn approval_failure(error: ApprovalError) -> OAuthError {
    match error {
        ApprovalError::Store(e) => e.into(),
        ApprovalError::NotFound => OAuthError::invalid_grant("auth_req_id is unknown"),
        other => OAuthError::invalid_grant(other.to_string()),
    }
}
