//! Advancing a stored authorization request, as a pipeline of named steps: each step
//! either lets the request go on or ends this pass with an [`Outcome`]. In order:
//! a sensitive scope under `prompt=none` (OIDC Core §3.1.2.1, `interaction_required`),
//! the sign-in and its age (§3.1.2.3, `prompt=login`, `max_age`), the user an
//! `id_token_hint` names, consent (§3.1.2.4), the countersignature for sensitive scopes
//! (DESIGN.md §5.1 steps 4-6, in `countersignature.rs`), then the code through
//! oxide-auth's flow (`code.rs`). The request-owner check runs where the request is
//! loaded (`mod.rs`), for every path.

use std::ops::ControlFlow;

use super::countersignature::Countersigned;
use super::ValidRequest;
use super::{AuthResponse, AuthorizeError, ClientInfo, ConsentPrompt, Outcome, ScopeLine};
use crate::accounts::consent;
use crate::accounts::sessions::Session;
use crate::approval::hooks::HookVerdict;
use crate::approval::{self, Requirements};
use crate::ids::UserId;
use crate::oidc::error::OAuthError;
use crate::oidc::params::Params;
use crate::oidc::rar;
use crate::oidc::Provider;
use crate::store::{DbConn, RequestRow, ScopeRow};

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
    /// What the decision hooks said about the request's details, asked just before
    /// this pass (on the consent page's allow).
    pub hook_verdicts: Vec<HookVerdict>,
}

impl<'a> Step<'a> {
    /// A pass over a stored request, with no justification from the consent page.
    pub fn new(
        row: &'a RequestRow,
        params: &'a Params,
        valid: &'a ValidRequest,
        info: &'a ClientInfo,
    ) -> Self {
        Step {
            row,
            params,
            valid,
            info,
            justification: None,
            hook_verdicts: Vec::new(),
        }
    }
}

/// What a step decided: go on (with what it found), or end this pass with an outcome.
pub(super) type Next<T = ()> = Result<ControlFlow<Outcome, T>, AuthorizeError>;

/// Runs a step: its value when the request goes on, else returns its outcome.
macro_rules! step {
    ($step:expr) => {
        match $step? {
            ControlFlow::Continue(value) => value,
            ControlFlow::Break(outcome) => return Ok(outcome),
        }
    };
}

impl Provider {
    /// Runs the steps in order; the first that ends the pass decides the outcome.
    pub(super) fn advance(
        &self,
        c: &mut DbConn,
        step: Step<'_>,
        session: Option<Session>,
        now: i64,
    ) -> Result<Outcome, AuthorizeError> {
        let (scopes, requirements) =
            rar::requirements_for(c, &step.valid.scopes, step.valid.details.as_ref())?;
        step!(self.no_silent_countersignature(&step, requirements.is_some()));
        let session = step!(self.signed_in(&step, session, now));
        step!(self.hint_names_the_user(&step, &session));
        step!(self.consented(c, &step, &session, &scopes, requirements.as_ref()));
        let (approval_id, row) = match requirements {
            None => (None, step.row.clone()),
            Some(requirements) => {
                match self.countersigned(c, &step, &session, requirements, now)? {
                    Countersigned::Approved(id, row) => (Some(id), *row),
                    Countersigned::Waiting(approval_id) => {
                        return Ok(Outcome::AwaitingApproval { approval_id })
                    }
                    Countersigned::Ended(error) => return Ok(self.respond_error(&step, &error)),
                }
            }
        };
        let step = Step { row: &row, ..step };
        let response = self.issue_code(c, &step, &session, approval_id, now)?;
        Ok(Outcome::Respond(response))
    }

    /// The error response to the client (RFC 6749 §4.1.2.1), with `state` and `iss`.
    pub(super) fn respond_error(&self, step: &Step<'_>, error: &OAuthError) -> Outcome {
        Outcome::Respond(AuthResponse::error(step.valid, error, &self.issuer))
    }

    /// Goes on, or ends the pass with `refusal` sent to the client.
    fn unless(&self, step: &Step<'_>, refusal: Option<OAuthError>) -> Next {
        Ok(match refusal {
            Some(error) => ControlFlow::Break(self.respond_error(step, &error)),
            None => ControlFlow::Continue(()),
        })
    }

    /// `prompt=none` cannot wait for a countersignature (OIDC Core §3.1.2.6).
    fn no_silent_countersignature(&self, step: &Step<'_>, sensitive: bool) -> Next {
        self.unless(
            step,
            silent_countersignature(step.valid.prompt_none, sensitive),
        )
    }

    /// A session recent enough for `prompt=login` and `max_age`, or the login page
    /// (`login_required` under `prompt=none`).
    fn signed_in(&self, step: &Step<'_>, session: Option<Session>, now: i64) -> Next<Session> {
        let (valid, row) = (step.valid, step.row);
        let fresh = |s: &Session| {
            !needs_login(
                valid.prompt_login,
                valid.max_age,
                row.login_at,
                s.auth_time,
                now,
            )
        };
        if let Some(session) = session.filter(fresh) {
            return Ok(ControlFlow::Continue(session));
        }
        if valid.prompt_none {
            let error = OAuthError::login_required("the user is not signed in");
            return Ok(ControlFlow::Break(self.respond_error(step, &error)));
        }
        Ok(ControlFlow::Break(Outcome::Login {
            request_id: row.id.clone(),
            login_hint: valid.login_hint.clone(),
        }))
    }

    /// Under `prompt=none`, the signed-in user must be the one `id_token_hint` names.
    fn hint_names_the_user(&self, step: &Step<'_>, session: &Session) -> Next {
        let (prompt_none, hint) = (step.valid.prompt_none, step.valid.hint_subject.as_ref());
        self.unless(step, hint_mismatch(prompt_none, hint, &session.user.id))
    }

    /// Consent given on this request's page, or remembered for these scopes; else the
    /// consent page (`consent_required` under `prompt=none`).
    fn consented(
        &self,
        c: &mut DbConn,
        step: &Step<'_>,
        session: &Session,
        scopes: &[ScopeRow],
        requirements: Option<&Requirements>,
    ) -> Next {
        let (row, valid) = (step.row, step.valid);
        // A justification and authorization_details belong to the request, so such
        // requests always show the page.
        let justify =
            requirements.is_some_and(|r| r.require_justification) || valid.details.is_some();
        let remembered = !valid.prompt_consent
            && !justify
            && consent::covers(c, &session.user.id, &valid.client.client_id, &valid.scopes)?;
        if row.state.has_consent() || remembered {
            return Ok(ControlFlow::Continue(()));
        }
        if valid.prompt_none {
            let error = OAuthError::consent_required("the user has not consented to these scopes");
            return Ok(ControlFlow::Break(self.respond_error(step, &error)));
        }
        let prompt = consent_prompt(row, valid, scopes, requirements, session);
        Ok(ControlFlow::Break(Outcome::Consent(prompt)))
    }
}

/// `interaction_required` when `prompt=none` meets a scope that needs a countersignature.
fn silent_countersignature(prompt_none: bool, sensitive: bool) -> Option<OAuthError> {
    (prompt_none && sensitive).then(|| {
        OAuthError::interaction_required(
            "a requested scope needs a countersignature, which needs interaction",
        )
    })
}

/// `prompt=login` needs a login on this request's own login page (timestamps in whole
/// seconds cannot tell an earlier login in the same second apart). `max_age` bounds the
/// age of the last login (OIDC Core §3.1.2.1); a login on this request's page always
/// satisfies it, otherwise an age of `max_age` whole seconds or more does not (so
/// `max_age=0` always asks).
fn needs_login(
    prompt_login: bool,
    max_age: Option<i64>,
    login_here_at: Option<i64>,
    auth_time: i64,
    now: i64,
) -> bool {
    let logged_in_here = login_here_at.is_some_and(|at| auth_time >= at);
    (prompt_login && !logged_in_here)
        || max_age.is_some_and(|max| !logged_in_here && now - auth_time >= max)
}

/// `login_required` when, under `prompt=none`, another user is signed in than the one
/// `id_token_hint` names (OIDC Core §3.1.2.1).
fn hint_mismatch(prompt_none: bool, hint: Option<&UserId>, user: &UserId) -> Option<OAuthError> {
    (prompt_none && hint.is_some_and(|sub| sub != user))
        .then(|| OAuthError::login_required("another user is signed in than id_token_hint names"))
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
            let scope = scopes.iter().find(|s| s.name == name);
            let countersigned_by = scope.filter(|s| s.sensitive).and_then(|s| {
                approval::requirements(std::slice::from_ref(s)).map(|r| r.describe())
            });
            ScopeLine {
                name: name.to_owned(),
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
        actions: valid
            .details
            .as_ref()
            .map(|d| d.details.lines())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    #[test]
    fn prompt_none_refuses_only_a_countersigned_request() {
        assert!(silent_countersignature(true, true).is_some());
        assert!(silent_countersignature(true, false).is_none());
        assert!(silent_countersignature(false, true).is_none());
    }

    #[test]
    fn login_age_rules_follow_prompt_login_and_max_age() {
        // (prompt_login, max_age, login on this request's page at, auth_time, needs login)
        let cases = [
            (false, None, None, NOW - 10_000, false),
            (true, None, None, NOW, true),
            (true, None, Some(NOW), NOW, false),
            (true, None, Some(NOW), NOW - 1, true),
            (false, Some(60), None, NOW - 59, false),
            (false, Some(60), None, NOW - 60, true),
            (false, Some(0), None, NOW, true),
            (false, Some(0), Some(NOW), NOW, false),
        ];
        for (prompt_login, max_age, here, auth_time, expected) in cases {
            assert_eq!(
                needs_login(prompt_login, max_age, here, auth_time, NOW),
                expected,
                "prompt_login={prompt_login} max_age={max_age:?} here={here:?} auth_time={auth_time}"
            );
        }
    }

    #[test]
    fn a_hint_for_another_user_matters_only_under_prompt_none() {
        let (alice, bob) = (UserId::new("alice"), UserId::new("bob"));
        assert!(hint_mismatch(true, Some(&bob), &alice).is_some());
        assert!(hint_mismatch(true, Some(&alice), &alice).is_none());
        assert!(hint_mismatch(true, None, &alice).is_none());
        assert!(hint_mismatch(false, Some(&bob), &alice).is_none());
    }
}
