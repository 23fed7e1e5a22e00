//! `/admin/keys` (the signing keys, their state and age; rotate) and `/admin/audit`
//! (the events, newest first, filtered by action and target, 100 a page; the chain's
//! verification; a JSON-lines export).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::{gate, gate_form};
use crate::admin::Access;
use crate::http::{approvals::with_csrf, pages, AppState};
use crate::manage::{self, ManageError};
use crate::oidc::params::Params;
use crate::store::{self, AuditRow, StoreError};

/// Events on one page of the trail.
const PAGE: i64 = 100;

#[derive(Template)]
#[template(path = "admin/keys.html")]
struct KeysPage {
    csrf_token: String,
    keys: Vec<KeyLine>,
}

struct KeyLine {
    kid: String,
    alg: String,
    state: String,
    created: String,
    retire_at: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chain: String,
    chain_ok: bool,
    action: String,
    target: String,
    events: Vec<EventLine>,
    older: Option<String>,
}

struct EventLine {
    seq: i64,
    at: String,
    action: String,
    target: String,
    actor: String,
}

/// `GET /admin/keys`.
pub async fn keys(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Err(refusal) = gate(&state, &req, Access::Read).await {
        return *refusal;
    }
    let (store, now) = (state.console.store.clone(), state.clock.now());
    match crate::http::blocking(move || manage::list_keys(&store, now)).await {
        Ok(rows) => with_csrf(&state, &req, |csrf_token| {
            let keys = rows
                .into_iter()
                .map(|k| KeyLine {
                    kid: k.kid,
                    alg: k.alg.to_string(),
                    state: k.state.to_string(),
                    created: pages::time(k.created_at),
                    retire_at: k.retire_at.map(pages::time),
                })
                .collect();
            pages::render(StatusCode::OK, &KeysPage { csrf_token, keys })
        }),
        Err(error) => crate::http::server_error_page(&error),
    }
}

/// `POST /admin/keys/rotate`.
pub async fn rotate_keys(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let (admin, _) = match gate_form(&state, &req, &body).await {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let provider = state.provider.clone();
    let (store, actor, now) = (
        state.console.store.clone(),
        admin.actor(),
        state.clock.now(),
    );
    let rotated = crate::http::blocking(move || {
        // As `keys rotate`: the old keys verify until the longest signed token expires.
        let longest = provider.lifetimes.access.max(provider.lifetimes.id);
        let retire_after = std::time::Duration::from_secs(u64::try_from(longest).unwrap_or(0));
        manage::rotate_keys(&store, &provider.keys, retire_after, &actor, now)
    });
    match rotated.await {
        Ok(_) => crate::http::see_other("/admin/keys"),
        Err(error) => crate::http::server_error_page(&error),
    }
}

/// `GET /admin/audit?action=&target=&before=SEQ`.
pub async fn audit(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Err(refusal) = gate(&state, &req, Access::Read).await {
        return *refusal;
    }
    let query = Params::parse(req.query_string().as_bytes()).unwrap_or_default();
    let action = query.get("action").unwrap_or_default().trim().to_owned();
    let target = query.get("target").unwrap_or_default().trim().to_owned();
    let before: Option<i64> = query.get("before").and_then(|b| b.parse().ok());
    let store = state.console.store.clone();
    let (wanted_action, wanted_target) = (action.clone(), target.clone());
    let read = crate::http::blocking(move || -> Result<_, ManageError> {
        Ok(store.read(|c| -> Result<_, StoreError> {
            let verification = crate::audit::verify(c)?;
            let rows = store::audit_rows_before(
                c,
                before,
                (!wanted_action.is_empty()).then_some(wanted_action.as_str()),
                (!wanted_target.is_empty()).then_some(wanted_target.as_str()),
                PAGE,
            )?;
            Ok((verification, rows))
        })?)
    });
    let (verification, rows) = match read.await {
        Ok(read) => read,
        Err(error) => return crate::http::server_error_page(&error),
    };
    let chain_ok = verification.broken.is_none();
    let chain = match &verification.broken {
        None => format!(
            "The chain verifies: {} events, head #{}.",
            verification.checked, verification.head.0
        ),
        Some(broken) => format!(
            "The chain is BROKEN at #{}: {}.",
            broken.seq, broken.problem
        ),
    };
    let older = (rows.len() == usize::try_from(PAGE).unwrap_or(usize::MAX))
        .then(|| rows.last().map(|r| r.seq))
        .flatten()
        .map(|seq| {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs([("action", action.as_str()), ("target", target.as_str())])
                .append_pair("before", &seq.to_string())
                .finish();
            format!("/admin/audit?{query}")
        });
    let events = rows.into_iter().map(event_line).collect();
    pages::render(
        StatusCode::OK,
        &AuditPage {
            chain,
            chain_ok,
            action,
            target,
            events,
            older,
        },
    )
}

/// `GET /admin/audit/export`: the whole trail as JSON lines (as `audit export`).
pub async fn export(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Err(refusal) = gate(&state, &req, Access::Read).await {
        return *refusal;
    }
    let store = state.console.store.clone();
    let exported = crate::http::blocking(move || -> Result<String, ManageError> {
        let mut out = Vec::new();
        store
            .read(|c| crate::audit::export(c, crate::audit::Since::Seq(0), &mut out))
            .map_err(|e| ManageError::Internal(e.to_string()))?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    });
    match exported.await {
        Ok(lines) => HttpResponse::Ok()
            .content_type("application/x-ndjson")
            .insert_header((
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.jsonl\"",
            ))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(lines),
        Err(error) => crate::http::server_error_page(&error),
    }
}

fn event_line(row: AuditRow) -> EventLine {
    EventLine {
        seq: row.seq,
        at: pages::time(row.at),
        action: row.action,
        target: row.target,
        actor: row.actor,
    }
}
