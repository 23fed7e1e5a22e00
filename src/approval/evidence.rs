//! The evidence of a countersignature that tokens carry (`approval` claim: who
//! approved, how each proved themselves, when, until when) and obey (`access_until`),
//! DESIGN.md §5.1 step 7.

use serde_json::{json, Value};

use super::details::AuthorizationDetails;
use super::state::Decision;
use crate::ids::{ApprovalId, UserId};
use crate::store::{self, DbConn, StoreError};

/// What tokens made from an approval carry and obey.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// The `approval` claim: `{id, approvers, approved_at, access_until}`.
    pub claim: Value,
    /// Tokens must not outlive this.
    pub access_until: i64,
    /// The approved RFC 9396 `authorization_details`, when the request had some.
    pub authorization_details: Option<Value>,
}

/// The evidence of the approval a grant names (`None` for a grant without one). A grant
/// naming an approval that no longer exists gets evidence whose access window has
/// ended, so nothing made from it works any more: fail closed.
pub fn grant_evidence(
    c: &mut DbConn,
    approval_id: Option<&ApprovalId>,
) -> Result<Option<Evidence>, StoreError> {
    let Some(id) = approval_id else {
        return Ok(None);
    };
    let missing = || Evidence {
        claim: json!({"id": id}),
        access_until: i64::MIN,
        authorization_details: None,
    };
    Ok(Some(evidence(c, id)?.unwrap_or_else(missing)))
}

/// The evidence tokens carry (`approval` claim): who approved, when, until when.
pub fn evidence(c: &mut DbConn, approval_id: &ApprovalId) -> Result<Option<Evidence>, StoreError> {
    let Some(row) = store::approval_by_id(c, approval_id)? else {
        return Ok(None);
    };
    let approvals: Vec<_> = store::decisions_for(c, approval_id)?
        .into_iter()
        .filter(|v| v.decision == Decision::Approve)
        .collect();
    let approvers: Vec<&UserId> = approvals.iter().map(|v| &v.approver_id).collect();
    // How each approver proved themselves (RFC 8176 amr; issue 18): `pwd` alone for a
    // page sign-in, `otp`/`hwk` and `mfa` with a second factor, nothing from chat.
    let proofs: Vec<Value> = approvals
        .iter()
        .map(|v| {
            let mut proof = json!({"sub": v.approver_id, "amr": v.amr});
            if let (Some(map), Some(id)) = (proof.as_object_mut(), &v.credential_id) {
                map.insert("credential_id".into(), id.clone().into());
            }
            proof
        })
        .collect();
    let mut access_until = row.access_until.unwrap_or(row.created_at);
    let mut claim = json!({"id": row.id, "approvers": approvers, "proofs": proofs,
        "approved_at": row.decided_at, "access_until": access_until});
    // Decided (or made stricter) by the approval rules: which version, which rules.
    if let (Some(map), Ok(Some(rules))) = (
        claim.as_object_mut(),
        super::service::requirements_of(&row).map(|r| {
            r.rules
                .filter(|d| d.outcome != super::rules::RuleOutcome::None)
        }),
    ) {
        let mut said =
            json!({"version": rules.version, "outcome": rules.outcome, "matched": rules.rules});
        if let (Some(said), false) = (said.as_object_mut(), rules.hooks.is_empty()) {
            let hooks: Vec<Value> = rules
                .hooks
                .iter()
                .map(|h| json!({"action_type": h.action_type, "outcome": h.outcome, "degraded": h.degraded}))
                .collect();
            said.insert("hooks".into(), hooks.into());
        }
        map.insert("rules".into(), said);
    }
    // The details are carried only while they still hash to what was approved; altered
    // ones end the access window, so nothing made from them works (fail closed).
    let authorization_details = match (&row.details, &row.details_digest) {
        (Some(stored), Some(digest)) => match AuthorizationDetails::verified(stored, digest) {
            Some(details) => {
                if let Some(map) = claim.as_object_mut() {
                    map.insert("details_digest".into(), digest.clone().into());
                }
                Some(details.to_value())
            }
            None => {
                tracing::error!(approval = %row.id, "approved authorization_details were altered");
                access_until = i64::MIN;
                None
            }
        },
        _ => None,
    };
    Ok(Some(Evidence {
        claim,
        access_until,
        authorization_details,
    }))
}
