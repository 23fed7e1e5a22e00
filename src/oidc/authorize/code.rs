//! The last step of the authorize pipeline: the request is used up and oxide-auth's
//! code-grant flow (RFC 6749 §4.1.2) mints the one-time code over our registrar and
//! authorizer.

use std::borrow::Cow;

use oxide_auth::code_grant::authorization::{authorization_code, Error as FlowError};

use super::flow::Step;
use super::stored::move_request;
use super::{valid_target, AuthResponse, AuthorizeError, RequestEvent};
use crate::accounts::sessions::Session;
use crate::ids::ApprovalId;
use crate::oidc::adapters::{Authorization, AuthorizeEndpoint, AuthorizeParams, Ctx};
use crate::oidc::error::OAuthError;
use crate::oidc::Provider;
use crate::store::DbConn;

impl Provider {
    /// Completes the request and issues the code.
    pub(super) fn issue_code(
        &self,
        c: &mut DbConn,
        step: &Step<'_>,
        session: &Session,
        approval_id: Option<ApprovalId>,
        now: i64,
    ) -> Result<AuthResponse, AuthorizeError> {
        let (row, valid) = (step.row, step.valid);
        move_request(c, row, RequestEvent::IssueCode, &session.user.id)?;
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
