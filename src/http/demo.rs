//! The built-in demo relying party (`serve --demo`): a real authorization code flow
//! with PKCE S256, state and nonce against this server, as an unmodified RP would run
//! it, and a page showing the verified ID token and its `approval` claim. Its own
//! state (state, nonce, verifier) lives in a cookie scoped to `/demo`.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

use super::pages::{self, DemoPage, DemoResultPage};
use super::AppState;
use crate::crypto;
use crate::demo::Demo;
use crate::manage;
use crate::oidc::params::Params;

const COOKIE: &str = "cs_demo_rp";

fn demo(state: &AppState) -> Option<Demo> {
    state.demo.clone()
}

/// `GET /demo`.
pub async fn index(state: web::Data<AppState>) -> HttpResponse {
    match demo(&state) {
        Some(_) => pages::render(StatusCode::OK, &DemoPage),
        None => HttpResponse::NotFound().finish(),
    }
}

/// `GET /demo/start?scope=…`: begins the code flow.
pub async fn start(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(demo) = demo(&state) else {
        return HttpResponse::NotFound().finish();
    };
    let query = Params::parse(req.query_string().as_bytes()).unwrap_or_default();
    let scope = query.get("scope").unwrap_or("openid profile email");
    let (rp_state, nonce, verifier) = (
        crypto::random_token(16),
        crypto::random_token(16),
        crypto::random_token(32),
    );
    let location = url::Url::parse_with_params(
        &format!("{}/authorize", state.provider.issuer),
        &[
            ("response_type", "code"),
            ("client_id", demo.client_id.as_str()),
            ("redirect_uri", demo.redirect_uri.as_str()),
            ("scope", scope),
            ("state", rp_state.as_str()),
            ("nonce", nonce.as_str()),
            (
                "code_challenge",
                crypto::sha256_b64url(verifier.as_bytes()).as_str(),
            ),
            ("code_challenge_method", "S256"),
        ],
    );
    let Ok(location) = location else {
        return super::server_error_page(&"bad issuer URL");
    };
    let cookie = Cookie::build(COOKIE, format!("{rp_state}.{nonce}.{verifier}"))
        .path("/demo")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies())
        .finish();
    let mut response = super::see_other(location.as_str());
    let _ = response.add_cookie(&cookie);
    response
}

fn failed(message: String) -> HttpResponse {
    let page = DemoResultPage {
        error: Some(message),
        subject_name: String::new(),
        approvers: vec![],
        access_until: None,
        id_token_claims: String::new(),
        access_token_claims: String::new(),
        logout_url: None,
    };
    pages::render(StatusCode::BAD_REQUEST, &page)
}

fn payload(jwt: &str) -> Value {
    jwt.split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

/// `GET /demo/callback`: checks state and `iss`, redeems the code with the PKCE
/// verifier, verifies the ID token and shows it.
pub async fn callback(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(demo) = demo(&state) else {
        return HttpResponse::NotFound().finish();
    };
    let query = Params::parse(req.query_string().as_bytes()).unwrap_or_default();
    if let Some(error) = query.get("error") {
        return failed(format!(
            "{error}: {}",
            query.get("error_description").unwrap_or("")
        ));
    }
    let saved = req
        .cookie(COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let mut parts = saved.split('.');
    let (Some(rp_state), Some(nonce), Some(verifier)) = (parts.next(), parts.next(), parts.next())
    else {
        return failed("the demo has no pending sign-in in this browser; start again".into());
    };
    if query.get("state") != Some(rp_state)
        || query.get("iss") != Some(state.provider.issuer.as_str())
    {
        return failed("state or iss does not match the request this browser sent".into());
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", query.get("code").unwrap_or_default())
        .append_pair("redirect_uri", &demo.redirect_uri)
        .append_pair("client_id", demo.client_id.as_str())
        .append_pair("code_verifier", verifier)
        .finish();
    let (provider, now, nonce, client_id) = (
        state.provider.clone(),
        state.clock.now(),
        nonce.to_owned(),
        demo.client_id.clone(),
    );
    let store = state.store.clone();
    let outcome = web::block(move || {
        let tokens = provider
            .token(None, true, body.as_bytes(), now)
            .map_err(|e| e.error.to_string())?;
        let id_token = tokens.id_token.clone().ok_or("no ID token")?;
        let claims = provider
            .verify_id_token(&id_token, client_id.as_str(), &nonce, now)
            .map_err(|e| e.to_string())?;
        let approvers: Vec<String> = claims["approval"]["approvers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let names = manage::display_names(&store, &approvers).map_err(|e| e.to_string())?;
        Ok::<_, String>((tokens, id_token, claims, names))
    })
    .await;
    let (tokens, id_token, claims, approvers) = match outcome {
        Ok(Ok(result)) => result,
        Ok(Err(message)) => return failed(message),
        Err(error) => return super::server_error_page(&error),
    };
    let logout_url = url::Url::parse_with_params(
        &format!("{}/logout", state.provider.issuer),
        &[
            ("id_token_hint", id_token.as_str()),
            (
                "post_logout_redirect_uri",
                &format!("{}/demo", state.provider.issuer),
            ),
        ],
    )
    .ok()
    .map(String::from);
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let page = DemoResultPage {
        error: None,
        subject_name: claims["name"].as_str().unwrap_or("someone").to_owned(),
        approvers,
        access_until: claims["approval"]["access_until"].as_i64().map(pages::time),
        id_token_claims: pretty(&claims),
        access_token_claims: pretty(&payload(&tokens.access_token)),
        logout_url,
    };
    let mut response = pages::render(StatusCode::OK, &page);
    let mut gone = Cookie::build(COOKIE, "").path("/demo").finish();
    gone.make_removal();
    let _ = response.add_cookie(&gone);
    response
}
