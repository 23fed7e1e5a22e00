//! Advancing a stored authorization request: login (OIDC Core §3.1.2.3), consent
//! (§3.1.2.4), the countersignature for sensitive scopes (DESIGN.md §5.1 steps 4-6),
//! then the code through oxide-auth's flow.

use std::borrow::Cow;

use oxide_auth::code_grant::authorization::{authorization_code, Error as FlowError};

use super::{
    already_handled, valid_target, AuthResponse, AuthorizeError, ClientInfo, ConsentPrompt,
    Outcome, ScopeLine, ValidRequest,
};
use crate::accounts::consent;
use crate::accounts::sessions::Session;
use crate::approval::{self, service, ApprovalState, NewApproval, Requirements};
use crate::oidc::adapters::{Authorization, AuthorizeEndpoint, AuthorizeParams, Ctx};
use crate::oidc::error::OAuthError;
use crate::oidc::params::Params;
use crate::oidc::Provider;
use crate::store::{self, DbConn, RequestRow, ScopeRow};

/// One step of a stored request.
pub struct Step<'a> {
    /// The stored request.
    pub row: &'a RequestRow,
    /// Its parameters.
    pub params: &'a Params,
    /// Its validated form.
    pub valid: &'a ValidRequest,
    /// The browser's address and user agent.
    pub info: &'a ClientInfo,
    /// The justification just given on the consent page.
    pub justification: Option<String>,
}

/// `prompt=login` needs a login on this request's own login page (timestamps in whole
/// seconds cannot tell an earlier login in the same second apart). `max_age` bounds the
/// age of the last login (OIDC Core §3.1.2.1); a login on this request's page always
/// satisfies it, otherwise an age of `max_age` whole seconds or more does not (so
/// `max_age=0` always asks).
fn needs_login(valid: &ValidRequest, row: &RequestRow, session: &Session, now: i64) -> bool {
    let logged_in_here = row.login_at.is_some_and(|at| session.auth_time >= at);
    (valid.prompt_login && !logged_in_here)
        || valid
            .max_age
            .is_some_and(|max| !logged_in_here && now - session.auth_time >= max)
}

fn scope_rows(c: &mut DbConn, names: &[String]) -> Result<Vec<ScopeRow>, OAuthError> {
    let mut rows = Vec::new();
    for name in names {
        if let Some(row) = store::scope_by_name(c, name)? {
            rows.push(row);
        }
    }
    Ok(rows)
}

impl Provider {
    /// Login, then consent, then the countersignature, then the code.
    pub(super) fn advance(
        &self,
        c: &mut DbConn,
        step: Step<'_>,
        session: Option<Session>,
        now: i64,
    ) -> Result<Outcome, AuthorizeError> {
        let (row, valid) = (step.row, step.valid);
        let fail = |error: OAuthError| {
            Ok(Outcome::Respond(AuthResponse::error(
                valid,
                &error,
                &self.issuer,
            )))
        };
        let scopes = scope_rows(c, &valid.scopes)?;
        let requirements = approval::requirements(&scopes);
        if valid.prompt_none && requirements.is_some() {
            return fail(OAuthError::interaction_required(
                "a requested scope needs a countersignature, which needs interaction",
            ));
        }
        let Some(session) = session.filter(|s| !needs_login(valid, row, s, now)) else {
            if valid.prompt_none {
                return fail(OAuthError::login_required("the user is not signed in"));
            }
            return Ok(Outcome::Login {
                request_id: row.id.clone(),
                login_hint: valid.login_hint.clone(),
            });
        };
        if valid.prompt_none
            && valid
                .id_token_hint
                .as_ref()
                .is_some_and(|sub| *sub != session.user.id)
        {
            return fail(OAuthError::login_required(
                "another user is signed in than id_token_hint names",
            ));
        }
        if row
            .user_id
            .as_deref()
            .is_some_and(|owner| owner != session.user.id)
            && row.state != "open"
        {
            return Err(
                OAuthError::access_denied("this sign-in request belongs to another user").into(),
            );
        }
        let consented_here = matches!(row.state.as_str(), "consented" | "awaiting_approval");
        // A justification belongs to the request, so such requests always show the page.
        let justify = requirements
            .as_ref()
            .is_some_and(|r| r.require_justification);
        let remembered = !valid.prompt_consent
            && !justify
            && consent::covers(c, &session.user.id, &valid.client.client_id, &valid.scopes)?;
        if !consented_here && !remembered {
            if valid.prompt_none {
                return fail(OAuthError::consent_required(
                    "the user has not consented to these scopes",
                ));
            }
            return Ok(Outcome::Consent(consent_prompt(
                row,
                valid,
                &scopes,
                requirements.as_ref(),
                &session,
            )));
        }
        let approval_id = match requirements {
            Some(requirements) => {
                match self.countersignature(c, &step, &session, requirements, now)? {
                    Countersignature::Approved(id) => Some(id),
                    Countersignature::Waiting(approval_id) => {
                        return Ok(Outcome::AwaitingApproval { approval_id })
                    }
                    Countersignature::Ended(error) => {
                        store::transition_request(
                            c,
                            &row.id,
                            &row.state,
                            "failed",
                            &session.user.id,
                        )
                        .map_err(|_| already_handled())?;
                        return fail(error);
                    }
                }
            }
            None => None,
        };
        let response = self.issue_code(c, &step, &session, approval_id, now)?;
        Ok(Outcome::Respond(response))
    }

    /// The approval stage: create the approval on first pass, then report its state; an
    /// approved one is redeemed here (single use).
    fn countersignature(
        &self,
        c: &mut DbConn,
        step: &Step<'_>,
        session: &Session,
        requirements: Requirements,
        now: i64,
    ) -> Result<Countersignature, AuthorizeError> {
        let row = step.row;
        if row.state != "awaiting_approval" {
            let justification = step
                .justification
                .clone()
                .map(|j| j.trim().to_owned())
                .filter(|j| !j.is_empty());
            if requirements.require_justification && justification.is_none() {
                return Err(OAuthError::invalid_request(
                    "a justification is required for this request",
                )
                .into());
            }
            let new = NewApproval {
                request_id: row.id.clone(),
                requester_id: session.user.id.clone(),
                client_id: step.valid.client.client_id.clone(),
                scopes: step.valid.scopes.clone(),
                redirect_uri: step.valid.redirect_uri.clone(),
                justification,
                ip: step.info.ip.clone(),
                user_agent: step.info.user_agent.clone(),
                requirements,
            };
            let created = service::create(c, new, now)?;
            store::transition_request(
                c,
                &row.id,
                &row.state,
                "awaiting_approval",
                &session.user.id,
            )
            .map_err(|_| already_handled())?;
            return Ok(Countersignature::Waiting(created.id));
        }
        let Some(found) = store::approval_for_request(c, &row.id)? else {
            return Err(OAuthError::server_error(&"awaiting request without approval").into());
        };
        let approval = service::load(c, &found.id, now).map_err(approval_failure)?;
        Ok(match ApprovalState::parse(&approval.state) {
            Some(ApprovalState::Pending) => Countersignature::Waiting(approval.id),
            Some(ApprovalState::Approved) => {
                service::redeem(c, &approval, now).map_err(approval_failure)?;
                Countersignature::Approved(approval.id)
            }
            Some(ApprovalState::Denied) => Countersignature::Ended(OAuthError::access_denied(
                "the request was denied by an approver",
            )),
            Some(ApprovalState::Expired) => Countersignature::Ended(OAuthError::access_denied(
                "the approval request expired before it was decided",
            )),
            Some(ApprovalState::Cancelled) => Countersignature::Ended(OAuthError::access_denied(
                "the request was cancelled by the user",
            )),
            Some(ApprovalState::Revoked) => {
                Countersignature::Ended(OAuthError::access_denied("the approval was revoked"))
            }
            Some(ApprovalState::Redeemed) | None => return Err(already_handled().into()),
        })
    }

    /// Runs oxide-auth's authorization flow over the stored request and issues the code.
    fn issue_code(
        &self,
        c: &mut DbConn,
        step: &Step<'_>,
        session: &Session,
        approval_id: Option<String>,
        now: i64,
    ) -> Result<AuthResponse, AuthorizeError> {
        let (row, valid) = (step.row, step.valid);
        store::transition_request(c, &row.id, &row.state, "completed", &session.user.id)
            .map_err(|_| already_handled())?;
        let who = Authorization {
            user_id: session.user.id.clone(),
            auth_time: session.auth_time,
            sid: session.sid.clone(),
            amr: session.amr.clone(),
            scopes: valid.scopes.clone(),
            redirect_uri: valid.redirect_uri.clone(),
            approval_id,
        };
        let ctx = Ctx::new(c, now);
        let mut endpoint = AuthorizeEndpoint::new(&ctx, &valid.client, self.lifetimes.code, who);
        let flow_failed = |error: FlowError, ctx: &Ctx| {
            let error = ctx.take_failure().unwrap_or_else(|| match error {
                FlowError::Redirect(_) => {
                    OAuthError::invalid_request("the authorization request is not valid")
                }
                _ => OAuthError::server_error(&"authorization flow failed"),
            });
            AuthorizeError::Redirect(valid_target(valid), error)
        };
        let pending = authorization_code(&mut endpoint, &AuthorizeParams(step.params))
            .map_err(|e| flow_failed(e, &ctx))?;
        let url = pending
            .authorize(&mut endpoint, Cow::Borrowed(session.user.id.as_str()))
            .map_err(|e| flow_failed(e, &ctx))?;
        let code = url
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| {
                AuthorizeError::Render(OAuthError::server_error(&"the flow returned no code"))
            })?;
        Ok(AuthResponse::success(valid, &code, &self.issuer))
    }
}

/// Where the countersignature stands.
enum Countersignature {
    /// Approved and now redeemed.
    Approved(String),
    /// Still waiting.
    Waiting(String),
    /// Ended without tokens.
    Ended(OAuthError),
}

fn approval_failure(error: approval::ApprovalError) -> AuthorizeError {
    match error {
        approval::ApprovalError::Store(e) => AuthorizeError::Render(e.into()),
        other => AuthorizeError::Render(OAuthError::invalid_request(other.to_string())),
    }
}

fn consent_prompt(
    row: &RequestRow,
    valid: &ValidRequest,
    scopes: &[ScopeRow],
    requirements: Option<&Requirements>,
    session: &Session,
) -> ConsentPrompt {
    let lines = valid
        .scopes
        .iter()
        .map(|name| {
            let scope = scopes.iter().find(|s| &s.name == name);
            let countersigned_by = scope.filter(|s| s.sensitive).and_then(|s| {
                approval::requirements(std::slice::from_ref(s)).map(|r| r.describe())
            });
            ScopeLine {
                name: name.clone(),
                description: scope.map(|s| s.description.clone()).unwrap_or_default(),
                countersigned_by,
            }
        })
        .collect();
    ConsentPrompt {
        request_id: row.id.clone(),
        client_name: valid.client.name.clone(),
        scopes: lines,
        username: session.user.username.clone(),
        justification_required: requirements.is_some_and(|r| r.require_justification),
    }
}
