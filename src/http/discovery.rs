//! `GET /.well-known/openid-configuration`, `/.well-known/oauth-authorization-server`
//! (OIDC Discovery §4, RFC 8414 §3) and `GET /jwks.json` (RFC 7517).

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::AppState;

/// Provider metadata.
pub async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    let (provider, now) = (state.provider.clone(), state.clock.now());
    // Served from memory without a blocking-pool hop when fresh.
    let cached = match provider.metadata.fresh(now) {
        Some(document) if !provider.store.is_unreachable() => Ok(document),
        _ => super::blocking(move || provider.discovery(now)).await,
    };
    match cached {
        Ok(document) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
            .content_type("application/json")
            .body(document.to_string()),
        Err(error) => {
            tracing::error!(%error, "discovery failed");
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}

/// The JWK Set. Short cache: after `keys rotate`, clients see the new key within minutes
/// and refetch at once when a token names an unknown `kid`.
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    let (provider, now) = (state.provider.clone(), state.clock.now());
    let fresh = provider.keys.fresh(now).map(|keys| keys.jwks());
    let set = match fresh {
        Some(set) if !provider.store.is_unreachable() => Ok(set),
        _ => super::blocking(move || provider.jwks(now)).await,
    };
    match set {
        Ok(set) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
            // application/json rather than jwk-set+json: some RP libraries accept only it.
            .content_type("application/json")
            .body(set.to_string()),
        Err(error) => {
            tracing::error!(%error, "JWKS failed");
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}
