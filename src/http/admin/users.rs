//! `/admin/users`: users with their groups, what they may approve and their linked chat
//! accounts; add a user (a first password generated and shown once), reset a password
//! (likewise), disable one (sessions end, grants revoked), group membership; groups.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use secrecy::SecretString;

use super::{gate, gate_form};
use crate::admin::Access;
use crate::http::{approvals::with_csrf, pages, AppState};
use crate::manage::{self, ManageError, NewUser};
use crate::notify::Target;
use crate::oidc::params::Params;
use crate::store::{Store, UserRow};

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    csrf_token: String,
    error: Option<String>,
    notice: Option<String>,
    users: Vec<UserLine>,
    groups: Vec<GroupLine>,
    typed_username: String,
    typed_email: String,
    typed_name: String,
}

struct UserLine {
    username: String,
    name: String,
    email: String,
    disabled: bool,
    groups: Vec<String>,
    approves: Vec<String>,
    chat: Option<String>,
    /// The linked Slack user id, for the form ("" when none).
    slack_id: String,
    /// The linked Teams (Entra) object id, for the form ("" when none).
    teams_id: String,
    /// Custom attributes (released as claims by the scopes naming them).
    attributes: Vec<(String, String)>,
}

struct GroupLine {
    name: String,
    members: Vec<String>,
    /// Where the group is told of requests (redacted: webhook URLs carry secrets).
    channels: Vec<String>,
    /// The channel form as it stands (secret-bearing URLs are not shown, but kept).
    form: super::notify::ChannelForm,
}

/// What a change leaves to say on the page, and the add-user form as typed.
#[derive(Default)]
pub(super) struct Said {
    pub(super) error: Option<String>,
    pub(super) notice: Option<String>,
    typed: [String; 3],
}

/// `GET /admin/users`.
pub async fn users(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Err(refusal) = gate(&state, &req, Access::Read).await {
        return *refusal;
    }
    page(&state, &req, Said::default(), StatusCode::OK).await
}

/// `POST /admin/users`: `username`, `email`, `name`; a first password is shown once.
pub async fn create_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let password = crate::crypto::random_id(12);
    let shown = password.clone();
    act(state, req, body, move |store, form, actor, now| {
        let text = |name: &str| form.get(name).unwrap_or_default().trim().to_owned();
        let (username, email, name) = (text("username"), text("email"), text("name"));
        let new = NewUser {
            username: username.clone(),
            email: email.clone(),
            name: (!name.is_empty()).then(|| name.clone()),
            password: Some(SecretString::from(password)),
        };
        match manage::add_user(store, new, actor, now) {
            Ok(_) => Ok(Said {
                notice: Some(format!(
                    "{username} was added. Their first password, shown only now: {shown}"
                )),
                ..Said::default()
            }),
            Err(ManageError::Invalid(why) | ManageError::Conflict(why)) => Ok(Said {
                error: Some(why),
                typed: [username, email, name],
                ..Said::default()
            }),
            Err(other) => Err(other),
        }
    })
    .await
}

/// `POST /admin/users/{name}/password`: a new password, shown once.
pub async fn reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let username = name.into_inner();
    act(state, req, body, move |store, _, actor, now| {
        let password = crate::crypto::random_id(12);
        manage::set_password(
            store,
            &username,
            &SecretString::from(password.clone()),
            actor,
            now,
        )?;
        Ok(notice(format!(
            "The new password of {username}, shown only now: {password}"
        )))
    })
    .await
}

/// `POST /admin/users/{name}/disable`.
pub async fn disable_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let username = name.into_inner();
    act(state, req, body, move |store, _, actor, now| {
        manage::disable_user(store, &username, actor, now)?;
        Ok(notice(format!(
            "{username} is disabled: sessions ended, grants revoked."
        )))
    })
    .await
}

/// `POST /admin/users/{name}/groups`: `group` to join.
pub async fn add_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let username = name.into_inner();
    act(state, req, body, move |store, form, actor, now| {
        let group = form.get("group").unwrap_or_default().to_owned();
        manage::add_member(store, &group, &username, actor, now)?;
        Ok(notice(format!("{username} joined {group}.")))
    })
    .await
}

/// `POST /admin/users/{name}/groups/remove`: `group` to leave.
pub async fn remove_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let username = name.into_inner();
    act(state, req, body, move |store, form, actor, now| {
        let group = form.get("group").unwrap_or_default().to_owned();
        manage::remove_member(store, &group, &username, actor, now)?;
        Ok(notice(format!("{username} left {group}.")))
    })
    .await
}

/// `POST /admin/users/{name}/attributes`: `attribute` set to `value`.
pub async fn set_attribute(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let username = name.into_inner();
    act(state, req, body, move |store, form, actor, now| {
        let attribute = form.get("attribute").unwrap_or_default().trim().to_owned();
        let value = form.get("value").unwrap_or_default().to_owned();
        manage::set_attribute(store, &username, &attribute, &value, actor, now)?;
        Ok(notice(format!("{attribute} of {username} is set.")))
    })
    .await
}

/// `POST /admin/users/{name}/attributes/remove`: `attribute` to remove.
pub async fn remove_attribute(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let username = name.into_inner();
    act(state, req, body, move |store, form, actor, now| {
        let attribute = form.get("attribute").unwrap_or_default().trim().to_owned();
        manage::remove_attribute(store, &username, &attribute, actor, now)?;
        Ok(notice(format!("{attribute} of {username} is removed.")))
    })
    .await
}

/// `POST /admin/groups`: `group` to create.
pub async fn create_group(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    act(state, req, body, move |store, form, actor, now| {
        let group = form.get("group").unwrap_or_default().trim().to_owned();
        manage::add_group(store, &group, actor, now)?;
        Ok(notice(format!("The group {group} was added.")))
    })
    .await
}

pub(super) fn notice(text: String) -> Said {
    Said {
        notice: Some(text),
        ..Said::default()
    }
}

/// Runs one change as the signed-in admin (CSRF-checked, fresh sign-in) and shows the
/// page with what it said; a refused change says why (400).
pub(super) async fn act(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
    change: impl FnOnce(&Store, &Params, &crate::audit::Actor, i64) -> Result<Said, ManageError>
        + Send
        + 'static,
) -> HttpResponse {
    let (admin, form) = match gate_form(&state, &req, &body).await {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let (store, actor, now) = (
        state.console.store.clone(),
        admin.actor(),
        state.clock.now(),
    );
    let done = crate::http::blocking(move || change(&store, &form, &actor, now)).await;
    let said = match done {
        Ok(said) => said,
        Err(
            ManageError::Invalid(why) | ManageError::Conflict(why) | ManageError::NotFound(why),
        ) => Said {
            error: Some(why),
            ..Said::default()
        },
        Err(error) => return crate::http::server_error_page(&error),
    };
    let status = match said.error {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    page(&state, &req, said, status).await
}

async fn page(state: &AppState, req: &HttpRequest, said: Said, status: StatusCode) -> HttpResponse {
    let store = state.console.store.clone();
    let loaded = crate::http::blocking(move || -> Result<_, ManageError> {
        Ok((
            manage::list_users(&store)?,
            manage::list_groups(&store)?,
            manage::list_scopes(&store)?,
            manage::all_attributes(&store)?,
            manage::group_channels(&store, None)?,
        ))
    });
    let (users, groups, scopes, mut attributes, channels) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => return crate::http::server_error_page(&error),
    };
    let groups: Vec<GroupLine> = groups
        .into_iter()
        .map(|(group, members)| {
            let own: Vec<&Target> = channels
                .iter()
                .filter(|(name, _)| *name == group.name)
                .map(|(_, target)| target)
                .collect();
            GroupLine {
                channels: own.iter().map(|target| target.redacted()).collect(),
                form: super::notify::ChannelForm::of(&own),
                name: group.name,
                members,
            }
        })
        .collect();
    let users = users
        .into_iter()
        .map(|user| {
            let own = attributes.remove(&user.id).unwrap_or_default();
            line(user, &groups, &scopes, own)
        })
        .collect();
    let [typed_username, typed_email, typed_name] = said.typed;
    with_csrf(state, req, |csrf_token| {
        let view = UsersPage {
            csrf_token,
            error: said.error,
            notice: said.notice,
            users,
            groups,
            typed_username,
            typed_email,
            typed_name,
        };
        pages::render(status, &view)
    })
}

fn line(
    user: UserRow,
    groups: &[GroupLine],
    scopes: &[crate::store::ScopeRow],
    attributes: Vec<(String, String)>,
) -> UserLine {
    let member_of: Vec<String> = groups
        .iter()
        .filter(|g| g.members.contains(&user.username))
        .map(|g| g.name.clone())
        .collect();
    // What they may approve: the sensitive scopes with one of their groups among the
    // approvers (never their own requests: the desk refuses those whatever the groups).
    let approves = scopes
        .iter()
        .filter(|s| {
            s.sensitive
                && s.approver_groups
                    .iter()
                    .any(|g| member_of.contains(&g.group))
        })
        .map(|s| s.name.clone())
        .collect();
    let chat = match (&user.slack_user_id, &user.teams_user_id) {
        (None, None) => None,
        (slack, teams) => Some(
            [
                slack.as_ref().map(|s| format!("Slack {s}")),
                teams.as_ref().map(|t| format!("Teams {t}")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
        ),
    };
    UserLine {
        slack_id: user.slack_user_id.clone().unwrap_or_default(),
        teams_id: user.teams_user_id.clone().unwrap_or_default(),
        name: user.name.unwrap_or_default(),
        email: user.email,
        disabled: user.disabled,
        username: user.username,
        groups: member_of,
        approves,
        chat,
        attributes,
    }
}
