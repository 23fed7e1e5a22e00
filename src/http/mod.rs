//! HTTP: the only module that knows actix-web. One file per endpoint group; handlers
//! extract, make one domain call and map its outcome.

pub mod health;

use actix_web::web;

/// Registers every route. GET routes answer HEAD too (RFC 9110 §9.1).
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/healthz", web::get().to(health::healthz))
        .route("/healthz", web::head().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/readyz", web::head().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics));
}
