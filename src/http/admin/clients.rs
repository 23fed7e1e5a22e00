//! `/admin/clients`: the registered relying parties; register one (its secret shown
//! once), rotate a confidential client's secret, remove one (its grants revoked).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::{gate, gate_form, refused};
use crate::admin::Access;
use crate::crypto::KeyAlg;
use crate::http::{approvals::with_csrf, pages, AppState};
use crate::manage::{self, ClientChanges, ClientSpec, ManageError};
use crate::oidc::grant_type::GrantType;
use crate::oidc::params::Params;
use crate::scope_set::ScopeSet;
use crate::store::decode_list;

#[derive(Template)]
#[template(path = "admin/clients.html")]
struct ClientsPage {
    csrf_token: String,
    clients: Vec<ClientLine>,
}

struct ClientLine {
    client_id: String,
    name: String,
    kind: &'static str,
    confidential: bool,
    redirect_uris: String,
    scopes: String,
    grant_types: String,
}

#[derive(Template, Default)]
#[template(path = "admin/client_form.html")]
struct ClientForm {
    csrf_token: String,
    error: Option<String>,
    name: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    scopes: String,
    public: bool,
    /// The grant types ticked (by name).
    grants: Vec<String>,
    /// ID token algorithm.
    id_token_alg: String,
    /// JWT access token algorithm.
    access_token_alg: String,
    /// The client being edited; `None` registers a new one.
    editing: Option<String>,
}

impl ClientForm {
    fn has_grant(&self, grant: &str) -> bool {
        self.grants.iter().any(|g| g == grant)
    }

    /// The grant types ticked.
    fn grant_types(&self) -> Vec<GrantType> {
        self.grants
            .iter()
            .filter_map(|g| GrantType::parse(g))
            .collect()
    }

    /// The algorithm named `text` (RS256 for anything else).
    fn alg(text: &str) -> KeyAlg {
        KeyAlg::parse(text).unwrap_or_default()
    }

    /// The algorithms offered, for the selects.
    fn algs(&self) -> Vec<&'static str> {
        KeyAlg::ALL.iter().map(|alg| alg.as_str()).collect()
    }

    /// The grant types offered: `(name, words)`.
    fn grant_choices(&self) -> [(&'static str, &'static str); 3] {
        [
            ("authorization_code", "Authorization code (people sign in)"),
            ("refresh_token", "Refresh tokens"),
            (
                "client_credentials",
                "Client credentials (a service on its own behalf; confidential only)",
            ),
        ]
    }
}

#[derive(Template)]
#[template(path = "admin/secret.html")]
struct SecretPage {
    title: &'static str,
    client_id: String,
    secret: Option<String>,
}

/// `GET /admin/clients`.
pub async fn clients(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Err(refusal) = gate(&state, &req, Access::Read).await {
        return *refusal;
    }
    let store = state.console.store.clone();
    match crate::http::blocking(move || manage::list_clients(&store)).await {
        Ok(rows) => with_csrf(&state, &req, |csrf_token| {
            let clients = rows
                .into_iter()
                .map(|row| ClientLine {
                    confidential: row.secret_hash.is_some(),
                    kind: if row.secret_hash.is_some() {
                        "confidential"
                    } else {
                        "public (PKCE)"
                    },
                    client_id: row.client_id.into_string(),
                    name: row.name,
                    redirect_uris: decode_list(&row.redirect_uris).join(" "),
                    scopes: row.allowed_scopes.to_string(),
                    grant_types: decode_list(&row.grant_types).join(", "),
                })
                .collect();
            pages::render(
                StatusCode::OK,
                &ClientsPage {
                    csrf_token,
                    clients,
                },
            )
        }),
        Err(error) => crate::http::server_error_page(&error),
    }
}

/// `GET /admin/clients/new`.
pub async fn client_form(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Err(refusal) = gate(&state, &req, Access::Read).await {
        return *refusal;
    }
    with_csrf(&state, &req, |csrf_token| {
        let form = ClientForm {
            csrf_token,
            scopes: "openid profile email".into(),
            grants: vec!["authorization_code".into(), "refresh_token".into()],
            id_token_alg: "RS256".into(),
            access_token_alg: "RS256".into(),
            ..ClientForm::default()
        };
        pages::render(StatusCode::OK, &form)
    })
}

/// `POST /admin/clients`: registers it and shows its secret once.
pub async fn create_client(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let (admin, form) = match gate_form(&state, &req, &body).await {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let typed = typed_form(&form);
    let spec = ClientSpec {
        name: typed.name.trim().to_owned(),
        redirect_uris: lines(&typed.redirect_uris),
        post_logout_redirect_uris: lines(&typed.post_logout_redirect_uris),
        scopes: ScopeSet::parse(&typed.scopes)
            .iter()
            .map(str::to_owned)
            .collect(),
        public: typed.public,
        grant_types: typed.grant_types(),
        id_token_alg: ClientForm::alg(&typed.id_token_alg),
        access_token_alg: ClientForm::alg(&typed.access_token_alg),
        ..Default::default()
    };
    let (store, actor, now) = (
        state.console.store.clone(),
        admin.actor(),
        state.clock.now(),
    );
    match crate::http::blocking(move || manage::add_client(&store, spec, &actor, now)).await {
        Ok(created) => pages::render(
            StatusCode::OK,
            &SecretPage {
                title: "Client registered",
                client_id: created.row.client_id.into_string(),
                secret: created.secret,
            },
        ),
        Err(error) => refused(&error, |why| {
            with_csrf(&state, &req, |csrf_token| {
                let again = ClientForm {
                    csrf_token,
                    error: Some(why),
                    ..typed
                };
                pages::render(StatusCode::BAD_REQUEST, &again)
            })
        }),
    }
}

/// `POST /admin/clients/{id}/rotate-secret`.
pub async fn rotate_secret(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (admin, _) = match gate_form(&state, &req, &body).await {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let (store, actor, now) = (
        state.console.store.clone(),
        admin.actor(),
        state.clock.now(),
    );
    let client_id = id.into_inner();
    let shown = client_id.clone();
    let rotated = crate::http::blocking(move || {
        manage::rotate_client_secret(&store, &client_id, &actor, now)
    });
    match rotated.await {
        Ok(secret) => pages::render(
            StatusCode::OK,
            &SecretPage {
                title: "New client secret",
                client_id: shown,
                secret: Some(secret),
            },
        ),
        Err(error) => refused(&error, |why| {
            pages::error_page(StatusCode::BAD_REQUEST, "Not rotated", &why, None)
        }),
    }
}

/// `POST /admin/clients/{id}/remove`: the client, its grants and tokens go.
pub async fn remove_client(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (admin, _) = match gate_form(&state, &req, &body).await {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let (store, actor, now) = (
        state.console.store.clone(),
        admin.actor(),
        state.clock.now(),
    );
    let client_id = id.into_inner();
    let removed =
        crate::http::blocking(move || manage::remove_client(&store, &client_id, &actor, now));
    match removed.await {
        Ok(()) => crate::http::see_other("/admin/clients"),
        Err(error) => refused(&error, |why| {
            pages::error_page(StatusCode::BAD_REQUEST, "Not removed", &why, None)
        }),
    }
}

/// `GET /admin/clients/{id}`: its registration to edit.
pub async fn edit_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    if let Err(refusal) = gate(&state, &req, Access::Read).await {
        return *refusal;
    }
    let (store, id) = (state.console.store.clone(), id.into_inner());
    let wanted = id.clone();
    let found = crate::http::blocking(move || -> Result<_, ManageError> {
        Ok(manage::list_clients(&store)?
            .into_iter()
            .find(|c| c.client_id.as_str() == wanted))
    });
    match found.await {
        Ok(Some(row)) => with_csrf(&state, &req, |csrf_token| {
            let form = ClientForm {
                csrf_token,
                name: row.name,
                redirect_uris: decode_list(&row.redirect_uris).join("\n"),
                post_logout_redirect_uris: decode_list(&row.post_logout_redirect_uris).join("\n"),
                scopes: row.allowed_scopes.to_string(),
                public: row.secret_hash.is_none(),
                grants: decode_list(&row.grant_types),
                id_token_alg: row.id_token_alg.as_str().to_owned(),
                access_token_alg: row.access_token_alg.as_str().to_owned(),
                editing: Some(id),
                ..ClientForm::default()
            };
            pages::render(StatusCode::OK, &form)
        }),
        Ok(None) => pages::error_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such client.",
            None,
        ),
        Err(error) => crate::http::server_error_page(&error),
    }
}

/// `POST /admin/clients/{id}`: saves its name, redirect URIs, scopes, grant types and
/// token algorithms.
pub async fn update_client(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (admin, form) = match gate_form(&state, &req, &body).await {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let typed = ClientForm {
        editing: Some(id.into_inner()),
        ..typed_form(&form)
    };
    let changes = ClientChanges {
        name: typed.name.clone(),
        redirect_uris: lines(&typed.redirect_uris),
        post_logout_redirect_uris: lines(&typed.post_logout_redirect_uris),
        scopes: ScopeSet::parse(&typed.scopes)
            .iter()
            .map(str::to_owned)
            .collect(),
        grant_types: typed.grant_types(),
        id_token_alg: ClientForm::alg(&typed.id_token_alg),
        access_token_alg: ClientForm::alg(&typed.access_token_alg),
    };
    let client_id = typed.editing.clone().unwrap_or_default();
    let (store, actor, now) = (
        state.console.store.clone(),
        admin.actor(),
        state.clock.now(),
    );
    let saved = crate::http::blocking(move || {
        manage::update_client(&store, &client_id, changes, &actor, now)
    });
    match saved.await {
        Ok(_) => crate::http::see_other("/admin/clients"),
        Err(error) => refused(&error, |why| {
            with_csrf(&state, &req, |csrf_token| {
                let again = ClientForm {
                    csrf_token,
                    error: Some(why),
                    ..typed
                };
                pages::render(StatusCode::BAD_REQUEST, &again)
            })
        }),
    }
}

/// The form as typed, to show again after a refusal.
fn typed_form(form: &Params) -> ClientForm {
    let text = |name: &str| form.get(name).unwrap_or_default().to_owned();
    ClientForm {
        name: text("name"),
        redirect_uris: text("redirect_uris"),
        post_logout_redirect_uris: text("post_logout_redirect_uris"),
        scopes: text("scopes"),
        public: form.get("kind") == Some("public"),
        // One field per grant type: a form may not repeat a field.
        grants: ["authorization_code", "refresh_token", "client_credentials"]
            .into_iter()
            .filter(|grant| form.get(&format!("grant_{grant}")) == Some("yes"))
            .map(str::to_owned)
            .collect(),
        id_token_alg: text("id_token_alg"),
        access_token_alg: text("access_token_alg"),
        ..ClientForm::default()
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}
