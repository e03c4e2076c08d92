//! The shopper's links: validation, tracking page and JSON, cancel.

use actix_web::{HttpResponse, get, post, web};

use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::pages;
use crate::services::retrying_lock_conflicts;
use crate::services::tracking::{self, TrackingView, ValidationResult};

/// The shopper's view of their reservation.
#[utoipa::path(context_path = "/api/v1", tag = "shopper", params(("token" = String, Path)), responses(
    (status = 200, body = TrackingView), (status = 404, description = "unknown_tracking_token", body = ErrorBody)))]
#[get("/tracking/{token}")]
pub async fn tracking_json(
    ctx: web::Data<AppContext>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(tracking::view(&ctx, &token).await?))
}

/// The shopper cancels; the stock is released.
#[utoipa::path(context_path = "/api/v1", tag = "shopper", params(("token" = String, Path)), responses(
    (status = 200, body = TrackingView),
    (status = 404, description = "unknown_tracking_token", body = ErrorBody),
    (status = 409, description = "reservation_already_handled", body = ErrorBody)))]
#[post("/tracking/{token}/cancel")]
pub async fn tracking_cancel(
    ctx: web::Data<AppContext>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(retrying_lock_conflicts(|| tracking::cancel(&ctx, &token)).await?))
}

/// Tracking page (HTML).
#[utoipa::path(tag = "shopper", params(("token" = String, Path)), responses(
    (status = 200, description = "HTML page", content_type = "text/html"),
    (status = 404, description = "HTML page saying the link is not valid")))]
#[get("/t/{token}")]
pub async fn tracking_page(ctx: web::Data<AppContext>, token: web::Path<String>) -> HttpResponse {
    match tracking::view(&ctx, &token).await {
        Ok(view) => pages::html(200, pages::tracking(&view, &token)),
        Err(err) => pages::error_page(&err),
    }
}

/// Email validation link (HTML answer).
#[utoipa::path(tag = "shopper", params(("token" = String, Path)), responses(
    (status = 200, description = "Confirmed: HTML page from the editable templates", content_type = "text/html"),
    (status = 404, description = "Unknown link"), (status = 409, description = "Link expired")))]
#[get("/r/validate/{token}")]
pub async fn validate_page(ctx: web::Data<AppContext>, token: web::Path<String>) -> HttpResponse {
    let page = match tracking::validate(&ctx, &token).await {
        Ok(result) => tracking::validated_page(&ctx, &result).await,
        Err(err) => Err(err),
    };
    match page {
        Ok((language, title, body)) => {
            pages::html(200, pages::layout_page(&language, &title, &body))
        }
        Err(err) => pages::error_page(&err),
    }
}

/// Email validation for scripts (JSON answer).
#[utoipa::path(tag = "shopper", params(("token" = String, Path)), responses(
    (status = 200, body = ValidationResult),
    (status = 404, description = "unknown_validation_token", body = ErrorBody),
    (status = 409, description = "validation_link_expired", body = ErrorBody)))]
#[post("/r/validate/{token}")]
pub async fn validate_json(
    ctx: web::Data<AppContext>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(tracking::validate(&ctx, &token).await?))
}

#[derive(Debug, serde::Deserialize)]
pub struct LangQuery {
    pub lang: Option<String>,
}

/// The page the web shop sends the shopper to after a request: "check your
/// mailbox" when validation is needed, "sent to the store" otherwise.
#[utoipa::path(tag = "shopper", params(("token" = String, Path)), responses(
    (status = 200, description = "HTML page from the editable templates", content_type = "text/html")))]
#[get("/t/{token}/done")]
pub async fn after_request_page(
    ctx: web::Data<AppContext>,
    token: web::Path<String>,
) -> HttpResponse {
    match crate::services::tracking::after_request_page(&ctx, &token).await {
        Ok((language, title, body)) => {
            pages::html(200, pages::layout_page(&language, &title, &body))
        }
        Err(err) => pages::error_page(&err),
    }
}

/// The terms of use shoppers accept (`?lang=en`).
#[utoipa::path(tag = "shopper", params(("lang" = Option<String>, Query)), responses(
    (status = 200, description = "HTML page from the editable templates", content_type = "text/html")))]
#[get("/terms")]
pub async fn terms_page(ctx: web::Data<AppContext>, query: web::Query<LangQuery>) -> HttpResponse {
    let language = query.lang.clone().unwrap_or_else(|| "fr".into());
    match crate::services::tracking::terms_page(&ctx, &language).await {
        Ok((title, body)) => pages::html(200, pages::layout_page(&language, &title, &body)),
        Err(err) => pages::error_page(&err),
    }
}

pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.service(tracking_json).service(tracking_cancel);
}

pub fn configure_pages(cfg: &mut web::ServiceConfig) {
    cfg.service(after_request_page)
        .service(terms_page)
        .service(tracking_page)
        .service(validate_page)
        .service(validate_json);
}
