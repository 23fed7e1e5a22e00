//! `/admin/scopes`: every scope with a "needs a countersignature" badge and the clients
//! that use it; a form that creates a scope or edits its whole approval policy.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::{gate, gate_form, refused};
use crate::admin::{Access, Admin};
use crate::approval::policy::Requirements;
use crate::approval::ApproverFactor;
use crate::http::{approvals::with_csrf, pages, AppState};
use crate::manage::{self, ManageError, ScopeChanges};
use crate::oidc::params::Params;
use crate::store::{decode_list, ScopeRow};

#[derive(Template)]
#[template(path = "admin/scopes.html")]
struct ScopesPage {
    scopes: Vec<ScopeLine>,
}

struct ScopeLine {
    name: String,
    description: String,
    sensitive: bool,
    policy: String,
    clients: String,
    /// Where its approver groups are told of requests (redacted).
    notified: String,
}

#[derive(Template, Default)]
#[template(path = "admin/scope_form.html")]
struct ScopeForm {
    csrf_token: String,
    new: bool,
    error: Option<String>,
    name: String,
    description: String,
    claims: String,
    sensitive: bool,
    approvers: String,
    quorum: String,
    pending_ttl: String,
    access_duration: String,
    approver_max_age: String,
    approver_factor: String,
    require_justification: bool,
    factors: Vec<(&'static str, &'static str, bool)>,
    /// Who could approve a request for this scope now, by group.
    could_approve: Vec<String>,
}

/// `GET /admin/scopes`.
pub async fn scopes(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Err(refusal) = gate(&state, &req, Access::Read).await {
        return *refusal;
    }
    let store = state.console.store.clone();
    let listed = crate::http::blocking(move || -> Result<_, ManageError> {
        Ok((
            manage::list_scopes(&store)?,
            manage::list_clients(&store)?,
            manage::group_channels(&store, None)?,
        ))
    });
    match listed.await {
        Ok((rows, clients, channels)) => {
            let scopes = rows
                .into_iter()
                .map(|row| {
                    let users: Vec<&str> = clients
                        .iter()
                        .filter(|c| c.allowed_scopes.contains(&row.name))
                        .map(|c| c.name.as_str())
                        .collect();
                    ScopeLine {
                        notified: notified(&row, &channels),
                        policy: policy_summary(&row),
                        clients: users.join(", "),
                        name: row.name,
                        description: row.description,
                        sensitive: row.sensitive,
                    }
                })
                .collect();
            pages::render(StatusCode::OK, &ScopesPage { scopes })
        }
        Err(error) => crate::http::server_error_page(&error),
    }
}

/// `GET /admin/scopes/new`.
pub async fn new_scope(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Err(refusal) = gate(&state, &req, Access::Read).await {
        return *refusal;
    }
    let form = ScopeForm {
        new: true,
        quorum: "1".into(),
        pending_ttl: "15m".into(),
        access_duration: "1h".into(),
        approver_max_age: "10m".into(),
        approver_factor: "none".into(),
        ..ScopeForm::default()
    };
    show(&state, &req, form, None, StatusCode::OK)
}

/// `GET /admin/scopes/{name}`.
pub async fn scope_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
) -> HttpResponse {
    if let Err(refusal) = gate(&state, &req, Access::Read).await {
        return *refusal;
    }
    let store = state.console.store.clone();
    let name = name.into_inner();
    let found = crate::http::blocking(move || -> Result<_, ManageError> {
        let scope = manage::list_scopes(&store)?
            .into_iter()
            .find(|s| s.name == name);
        Ok((scope, manage::list_groups(&store)?))
    });
    match found.await {
        Ok((Some(row), groups)) => {
            // The preview: any member of an approver group but the requester decides.
            let could_approve = row
                .approver_groups
                .iter()
                .map(|entry| {
                    let members = groups
                        .iter()
                        .find(|(g, _)| g.name == entry.group)
                        .map(|(_, members)| members.join(", "))
                        .filter(|m| !m.is_empty())
                        .unwrap_or_else(|| "nobody yet".into());
                    format!("{}: {members}", entry.group)
                })
                .collect();
            let form = ScopeForm {
                could_approve,
                ..form_of(&row)
            };
            show(&state, &req, form, None, StatusCode::OK)
        }
        Ok((None, _)) => pages::error_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such scope.",
            None,
        ),
        Err(error) => crate::http::server_error_page(&error),
    }
}

/// `POST /admin/scopes`: creates a scope.
pub async fn create_scope(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    save(state, req, body, None).await
}

/// `POST /admin/scopes/{name}`: updates its description, claims and policy.
pub async fn update_scope(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    save(state, req, body, Some(name.into_inner())).await
}

async fn save(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
    existing: Option<String>,
) -> HttpResponse {
    let (admin, form) = match gate_form(&state, &req, &body).await {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let mut typed = typed_form(&form);
    typed.new = existing.is_none();
    if let Some(name) = &existing {
        typed.name = name.clone();
    }
    let changes = match changes_of(&typed) {
        Ok(changes) => changes,
        Err(why) => return show(&state, &req, typed, Some(why), StatusCode::BAD_REQUEST),
    };
    let saved = write(&state, &admin, typed.name.clone(), changes, typed.new);
    match saved.await {
        Ok(()) => crate::http::see_other("/admin/scopes"),
        Err(error) => refused(&error, |why| {
            show(&state, &req, typed, Some(why), StatusCode::BAD_REQUEST)
        }),
    }
}

async fn write(
    state: &AppState,
    admin: &Admin,
    name: String,
    changes: ScopeChanges,
    new: bool,
) -> Result<(), ManageError> {
    let (store, actor, now) = (
        state.console.store.clone(),
        admin.actor(),
        state.clock.now(),
    );
    let written = crate::http::blocking(move || match new {
        true => manage::add_scope(&store, &name, changes, &actor, now).map(|_| ()),
        false => manage::update_scope(&store, &name, changes, &actor, now).map(|_| ()),
    })
    .await;
    // The discovery document lists the scopes: this instance shows the change at once.
    state.provider.metadata.forget();
    written
}

fn show(
    state: &AppState,
    req: &HttpRequest,
    form: ScopeForm,
    error: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    with_csrf(state, req, |csrf_token| {
        let form = ScopeForm {
            csrf_token,
            error,
            factors: ApproverFactor::ALL
                .iter()
                .map(|f| {
                    (
                        f.as_str(),
                        factor_label(*f),
                        f.as_str() == form.approver_factor,
                    )
                })
                .collect(),
            ..form
        };
        pages::render(status, &form)
    })
}

fn factor_label(factor: ApproverFactor) -> &'static str {
    match factor {
        ApproverFactor::None => "None (a recent sign-in)",
        ApproverFactor::Totp => "A code from an authenticator app",
        ApproverFactor::Passkey => "A passkey",
        ApproverFactor::Any => "A code or a passkey",
    }
}

fn form_of(row: &ScopeRow) -> ScopeForm {
    let approvers: Vec<String> = row
        .approver_groups
        .iter()
        .map(ToString::to_string)
        .collect();
    ScopeForm {
        name: row.name.clone(),
        description: row.description.clone(),
        claims: decode_list(&row.claims).join(" "),
        sensitive: row.sensitive,
        approvers: approvers.join(","),
        quorum: row.quorum.to_string(),
        pending_ttl: format!("{}s", row.pending_ttl),
        access_duration: format!("{}s", row.access_duration),
        approver_max_age: format!("{}s", row.approver_max_age),
        approver_factor: row.approver_factor.as_str().into(),
        require_justification: row.require_justification,
        ..ScopeForm::default()
    }
}

fn typed_form(form: &Params) -> ScopeForm {
    let text = |name: &str| form.get(name).unwrap_or_default().trim().to_owned();
    ScopeForm {
        name: text("name"),
        description: text("description"),
        claims: text("claims"),
        sensitive: form.get("sensitive") == Some("yes"),
        approvers: text("approvers"),
        quorum: text("quorum"),
        pending_ttl: text("pending_ttl"),
        access_duration: text("access_duration"),
        approver_max_age: text("approver_max_age"),
        approver_factor: text("approver_factor"),
        require_justification: form.get("require_justification") == Some("yes"),
        ..ScopeForm::default()
    }
}

/// The policy as the form states it; the words say which field is wrong.
fn changes_of(form: &ScopeForm) -> Result<ScopeChanges, String> {
    let seconds = |field: &str, text: &str| {
        crate::config::parse_duration(text)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .map_err(|why| format!("{field}: {why}"))
    };
    let approvers: Vec<String> = form
        .approvers
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(ScopeChanges {
        description: Some(form.description.clone()),
        claims: Some(form.claims.split_whitespace().map(str::to_owned).collect()),
        sensitive: Some(form.sensitive),
        approver_groups: Some(approvers),
        quorum: Some(
            form.quorum
                .parse()
                .map_err(|_| "approvals needed: a whole number".to_owned())?,
        ),
        pending_ttl: Some(seconds("how long a request may wait", &form.pending_ttl)?),
        access_duration: Some(seconds("how long access lasts", &form.access_duration)?),
        approver_max_age: Some(seconds("sign-in age", &form.approver_max_age)?),
        require_justification: Some(form.require_justification),
        approver_factor: Some(
            ApproverFactor::parse(&form.approver_factor)
                .ok_or_else(|| "second factor: choose one of the list".to_owned())?,
        ),
        allow_chat_decisions: None,
        subject_confirms: None,
    })
}

/// "1 approval from approvers, 2 from security; a code at each decision".
/// "approvers: slack:C0123, email:…" for each approver group of `row` that is
/// notified somewhere.
fn notified(row: &ScopeRow, channels: &[(String, crate::notify::Target)]) -> String {
    let Some(requirements) = crate::approval::requirements(std::slice::from_ref(row)) else {
        return String::new();
    };
    requirements
        .groups
        .iter()
        .filter_map(|quorum| {
            let of_group: Vec<String> = channels
                .iter()
                .filter(|(group, _)| *group == quorum.group)
                .map(|(_, target)| target.redacted())
                .collect();
            (!of_group.is_empty()).then(|| format!("{}: {}", quorum.group, of_group.join(", ")))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn policy_summary(row: &ScopeRow) -> String {
    let Some(requirements) = crate::approval::requirements(std::slice::from_ref(row)) else {
        return String::new();
    };
    let Requirements {
        approver_factor, ..
    } = &requirements;
    match approver_factor {
        ApproverFactor::None => requirements.describe(),
        factor => format!(
            "{}; {} at each decision",
            requirements.describe(),
            factor.describe()
        ),
    }
}
