//! Operations endpoints: `/healthz` (the process answers), `/readyz` (the database
//! answers and is migrated), `/metrics` (Prometheus text format 0.0.4).

use actix_web::{web, HttpResponse};

use super::AppState;
use crate::telemetry;

/// `GET /healthz`.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok\n")
}

/// `GET /readyz`: 200 when the database is reachable and migrations are current, else 503.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let provider = state.provider.clone();
    let ready = super::blocking(move || provider.ready()).await;
    let (status, body) = match ready {
        Ok(true) => (actix_web::http::StatusCode::OK, "ready\n"),
        Ok(false) => (
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "migrations pending\n",
        ),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "database unavailable\n",
            )
        }
    };
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}

/// `GET /metrics`.
pub async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(telemetry::metrics_handle().render())
}
