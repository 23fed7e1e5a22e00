//! Server-rendered pages (askama, HTML auto-escaped). Page structs hold display-ready
//! strings only. Every page is served with a CSP of `default-src 'self'` (no inline
//! script or style), `no-store`, and no framing.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;

/// The sign-in form.
#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    /// CSRF token for the form.
    pub csrf_token: String,
    /// The stored authorization request to continue.
    pub request: Option<String>,
    /// A local path to go to afterwards.
    pub return_to: Option<String>,
    /// Prefilled username (`login_hint`, or the last attempt).
    pub username: String,
    /// The client the user signs in for.
    pub client_name: Option<String>,
    /// What went wrong last time.
    pub error: Option<String>,
    /// "Sign in with NAME" buttons: `(name, href)`.
    pub upstreams: Vec<(String, String)>,
    /// The password form is offered (`local_passwords`).
    pub passwords: bool,
    /// The passkey button is offered (passwords on, and the issuer can be a WebAuthn
    /// relying party).
    pub passkeys: bool,
}

/// A consented scope line.
pub struct ScopeItem {
    /// Scope name.
    pub name: String,
    /// What it allows.
    pub description: String,
    /// Who must countersign it, for sensitive scopes.
    pub countersigned_by: Option<String>,
}

/// The consent page.
#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage {
    /// CSRF token.
    pub csrf_token: String,
    /// The stored request.
    pub request: String,
    /// Client display name.
    pub client_name: String,
    /// Signed-in username.
    pub username: String,
    /// Requested scopes.
    pub scopes: Vec<ScopeItem>,
    /// Ask for a justification.
    pub justification_required: bool,
    /// The RFC 9396 `authorization_details` asked for, field by field.
    pub actions: Vec<crate::approval::details::DetailLines>,
}

/// An error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Heading.
    pub title: String,
    /// A sentence for the user.
    pub message: String,
    /// The protocol error code, when there is one.
    pub code: Option<String>,
    /// The request id for support.
    pub request_id: Option<String>,
}

/// The auto-submitting form of `response_mode=form_post`.
#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPostPage {
    /// The client's redirect URI.
    pub action: String,
    /// Response parameters.
    pub fields: Vec<(String, String)>,
}

/// Logout confirmation.
#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage {
    /// CSRF token.
    pub csrf_token: String,
    /// The client asking, if known.
    pub client_name: Option<String>,
    /// Parameters to carry through.
    pub carry: Vec<(String, String)>,
}

/// Confirming the link of a Slack account to the signed-in user.
#[derive(Template)]
#[template(path = "slack_link.html")]
pub struct SlackLinkPage {
    /// CSRF token.
    pub csrf_token: String,
    /// The link token, carried to the POST.
    pub token: String,
    /// The Slack user id the token names.
    pub slack_user_id: String,
    /// Who is signed in.
    pub username: String,
}

/// A short message with an optional link.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    /// Heading.
    pub title: String,
    /// Text.
    pub message: String,
    /// (href, label).
    pub link: Option<(String, String)>,
}

/// Renders `page` with `status` and the page security headers.
pub fn render(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => with_page_headers(HttpResponse::build(status))
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(error) => {
            tracing::error!(%error, "template failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("the page could not be rendered")
        }
    }
}

/// Adds the headers every HTML page carries.
pub fn with_page_headers(
    mut builder: actix_web::HttpResponseBuilder,
) -> actix_web::HttpResponseBuilder {
    builder
        .insert_header((
            "Content-Security-Policy",
            "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("Cache-Control", "no-store"));
    builder
}

tokio::task_local! {
    /// The id of the request being answered (the one in its log lines).
    static REQUEST_ID: String;
}

/// The current request's id, when answered inside [`with_request_id`].
fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Middleware: makes the request id (set by the tracing middleware, and logged with
/// every line of the request) available to error pages, so a user can quote it.
pub async fn with_request_id(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::HttpMessage;
    let id = request
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(ToString::to_string)
        .unwrap_or_default();
    REQUEST_ID.scope(id, next.call(request)).await
}

/// An error page (the request id is shown when known).
pub fn error_page(
    status: StatusCode,
    title: &str,
    message: &str,
    code: Option<&str>,
) -> HttpResponse {
    render(
        status,
        &ErrorPage {
            title: title.into(),
            message: message.into(),
            code: code.map(str::to_owned),
            request_id: current_request_id(),
        },
    )
}

/// A message page.
pub fn message(
    status: StatusCode,
    title: &str,
    text: &str,
    link: Option<(&str, &str)>,
) -> HttpResponse {
    render(
        status,
        &MessagePage {
            title: title.into(),
            message: text.into(),
            link: link.map(|(h, l)| (h.into(), l.into())),
        },
    )
}

/// One line of the approver inbox.
pub struct InboxItem {
    /// Approval id.
    pub id: String,
    /// Requester's display name.
    pub requester: String,
    /// Client display name.
    pub client: String,
    /// Requested scopes.
    pub scopes: String,
    /// "12 min".
    pub time_left: String,
}

/// The approver inbox.
#[derive(Template)]
#[template(path = "approval/inbox.html")]
pub struct InboxPage {
    /// Signed-in username.
    pub username: String,
    /// Requests the user may decide (one page).
    pub items: Vec<InboxItem>,
    /// The previous page, if this is not the first.
    pub newer: Option<String>,
    /// The next page, if there is one.
    pub older: Option<String>,
}

/// A scope on the review page.
pub struct ReviewScope {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Needs approval.
    pub sensitive: bool,
}

/// A vote on the review page.
pub struct ReviewVote {
    /// Approver name.
    pub approver: String,
    /// approve or deny.
    pub decision: String,
    /// Comment.
    pub comment: Option<String>,
    /// When.
    pub at: String,
}

/// The approver's review page.
#[derive(Template)]
#[template(path = "approval/review.html")]
pub struct ReviewPage {
    /// CSRF token.
    pub csrf_token: String,
    /// Approval id.
    pub id: String,
    /// State name.
    pub state: String,
    /// Requester display name.
    pub requester: String,
    /// Requester email.
    pub requester_email: String,
    /// Client name.
    pub client_name: String,
    /// Who must approve.
    pub required: String,
    /// When requested.
    pub created_at: String,
    /// Time left while pending.
    pub time_left: String,
    /// Access end, once approved.
    pub access_until: Option<String>,
    /// Requester IP.
    pub ip: String,
    /// Requester user agent.
    pub user_agent: String,
    /// Justification.
    pub justification: Option<String>,
    /// Scopes.
    pub scopes: Vec<ReviewScope>,
    /// Votes so far.
    pub votes: Vec<ReviewVote>,
    /// Why the viewer cannot decide; `None` shows the form.
    pub cannot_decide: Option<String>,
    /// What the decision asks for besides the click ("a code from your authenticator
    /// app"); `None` when nothing.
    pub factor: Option<String>,
    /// Show the code field (TOTP or a recovery code).
    pub asks_code: bool,
    /// Offer "approve/deny with passkey" (`static/passkeys.js`).
    pub asks_passkey: bool,
    /// Show the revoke form.
    pub can_revoke: bool,
    /// The RFC 9396 `authorization_details` to approve, field by field.
    pub actions: Vec<crate::approval::details::DetailLines>,
    /// False when the stored details were altered after the request (see the view).
    pub details_intact: bool,
    /// What the requester's device shows (CIBA `binding_message`).
    pub binding_message: Option<String>,
    /// Asked for by a client on the back channel for the requester.
    pub backchannel: bool,
}

/// The requester's waiting page.
#[derive(Template)]
#[template(path = "approval/waiting.html")]
pub struct WaitingPage {
    /// CSRF token (cancel form).
    pub csrf_token: String,
    /// Approval id.
    pub id: String,
    /// Client name.
    pub client_name: String,
    /// Requested scopes.
    pub scopes: String,
    /// Who must approve.
    pub required: String,
    /// State name.
    pub state: String,
    /// Decided: the way on is shown (without JavaScript too) and refreshing stops.
    pub decided: bool,
    /// Time left.
    pub time_left: String,
    /// Expiry, unix seconds (for the countdown).
    pub expires_at_unix: i64,
    /// Server time, unix seconds (to correct the browser's clock).
    pub now_unix: i64,
    /// Where to continue once decided.
    pub continue_url: String,
}

/// "2026-11-22 21:40 UTC".
pub fn time(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// "14 min", "45 s".
pub fn time_left(until: i64, now: i64) -> String {
    let left = (until - now).max(0);
    if left >= 120 {
        format!("{} min", left / 60)
    } else {
        format!("{left} s")
    }
}

/// The demo relying party's start page.
#[derive(Template)]
#[template(path = "demo.html")]
pub struct DemoPage;

/// The demo relying party's result page.
#[derive(Template)]
#[template(path = "demo_result.html")]
pub struct DemoResultPage {
    /// What went wrong, if it did.
    pub error: Option<String>,
    /// The signed-in user's name.
    pub subject_name: String,
    /// `(sub, name)` of each approver.
    pub approvers: Vec<(String, String)>,
    /// End of the approval's access window.
    pub access_until: Option<String>,
    /// Pretty JSON.
    pub id_token_claims: String,
    /// Pretty JSON.
    pub access_token_claims: String,
    /// RP-initiated logout link.
    pub logout_url: Option<String>,
}
