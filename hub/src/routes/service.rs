//! Health, readiness and metrics.

use actix_web::{HttpResponse, get, web};

use crate::context::AppContext;
use crate::error::ErrorBody;

/// The process is up.
#[utoipa::path(tag = "service", responses((status = 200, description = "Running")))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// The database answers and the timers run.
#[utoipa::path(tag = "service", responses(
    (status = 200, description = "Ready"),
    (status = 503, description = "Database unreachable", body = ErrorBody),
))]
#[get("/ready")]
pub async fn ready(ctx: web::Data<AppContext>) -> HttpResponse {
    if ctx.db.ping().await {
        HttpResponse::Ok().json(serde_json::json!({"status": "ready"}))
    } else {
        HttpResponse::ServiceUnavailable().json(ErrorBody {
            error: "not_ready".into(),
            message: "The database does not answer.".into(),
            handled: None,
        })
    }
}

/// Prometheus metrics in the text format.
#[utoipa::path(tag = "service", responses((status = 200, description = "Prometheus text", content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(ctx: web::Data<AppContext>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(ctx.metrics.render())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health).service(ready).service(metrics);
}
