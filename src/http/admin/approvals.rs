//! `/admin/approvals`: every approval, filtered by state, client, requester, approver
//! and creation date, newest first, 50 a page. Each links to its page, which shows
//! every vote and comment and offers the revocation (admins may revoke any).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::gate;
use crate::admin::Access;
use crate::approval::ApprovalState;
use crate::http::{pages, AppState};
use crate::ids::{ClientId, UserId};
use crate::oidc::params::Params;
use crate::store::{self, ApprovalFilter, StoreError};

/// Approvals on one page.
const PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "admin/approvals.html")]
struct ApprovalsPage {
    states: Vec<(&'static str, bool)>,
    client: String,
    requester: String,
    approver: String,
    since: String,
    error: Option<String>,
    rows: Vec<Line>,
    previous: Option<String>,
    next: Option<String>,
}

struct Line {
    id: String,
    requester: String,
    client: String,
    scopes: String,
    state: &'static str,
    created: String,
}

/// `GET /admin/approvals?state=&client=&requester=&approver=&since=&page=`.
pub async fn approvals(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Err(refusal) = gate(&state, &req, Access::Read).await {
        return *refusal;
    }
    let query = Params::parse(req.query_string().as_bytes()).unwrap_or_default();
    let text = |name: &str| query.get(name).unwrap_or_default().trim().to_owned();
    let page: i64 = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let chosen = ApprovalState::parse(&text("state"));
    let since = text("since");
    let (since_at, error) = match since.as_str() {
        "" => (None, None),
        day => match chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") {
            Ok(date) => (
                date.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp()),
                None,
            ),
            Err(_) => (
                None,
                Some("The date is not YYYY-MM-DD; it was ignored.".to_owned()),
            ),
        },
    };
    let (client, requester, approver) = (text("client"), text("requester"), text("approver"));
    let store = state.console.store.clone();
    let wanted = (client.clone(), requester.clone(), approver.clone());
    let found = crate::http::blocking(move || {
        store.read(|c| -> Result<Vec<Line>, StoreError> {
            let user =
                |c: &mut store::DbConn, name: &str| -> Result<Option<Option<UserId>>, StoreError> {
                    Ok(match name {
                        "" => None,
                        name => Some(store::user_by_username(c, name)?.map(|u| u.id)),
                    })
                };
            let (requester_id, approver_id) = (user(c, &wanted.1)?, user(c, &wanted.2)?);
            // A username that names nobody matches nothing.
            if matches!(requester_id, Some(None)) || matches!(approver_id, Some(None)) {
                return Ok(Vec::new());
            }
            let filter = ApprovalFilter {
                state: chosen,
                client_id: (!wanted.0.is_empty()).then(|| ClientId::new(&wanted.0)),
                requester_id: requester_id.flatten(),
                approver_id: approver_id.flatten(),
                since: since_at,
                until: None,
            };
            let rows = store::search_approvals(c, &filter, PAGE + 1, (page - 1) * PAGE)?;
            let mut lines = Vec::new();
            for row in rows {
                let requester = store::user_by_id(c, &row.requester_id)?
                    .map_or_else(|| row.requester_id.to_string(), |u| u.username);
                lines.push(Line {
                    id: row.id.into_string(),
                    requester,
                    client: row.client_id.into_string(),
                    scopes: row.scopes.to_string(),
                    state: row.state.as_str(),
                    created: pages::time(row.created_at),
                });
            }
            Ok(lines)
        })
    });
    let mut rows = match found.await {
        Ok(rows) => rows,
        Err(error) => return crate::http::server_error_page(&error),
    };
    let more = rows.len() > usize::try_from(PAGE).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(PAGE).unwrap_or(usize::MAX));
    let link = |to: i64| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("state", chosen.map(|s| s.as_str()).unwrap_or_default()),
                ("client", client.as_str()),
                ("requester", requester.as_str()),
                ("approver", approver.as_str()),
                ("since", since.as_str()),
                ("page", to.to_string().as_str()),
            ])
            .finish();
        format!("/admin/approvals?{query}")
    };
    let view = ApprovalsPage {
        states: ApprovalState::ALL
            .iter()
            .map(|s| (s.as_str(), Some(*s) == chosen))
            .collect(),
        previous: (page > 1).then(|| link(page - 1)),
        next: more.then(|| link(page + 1)),
        client: client.clone(),
        requester: requester.clone(),
        approver: approver.clone(),
        since: since.clone(),
        error,
        rows,
    };
    pages::render(StatusCode::OK, &view)
}
