//! Articles and availability.

use actix_web::{HttpResponse, get, post, put, web};
use serde::Deserialize;

use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::extractors::AdminCaller;
use crate::services::{catalogue, stock};

/// All articles.
#[utoipa::path(context_path = "/api/v1", tag = "articles", security(("api_key" = [])), responses(
    (status = 200, body = Vec<catalogue::ArticleBody>)))]
#[get("/articles")]
pub async fn list(ctx: web::Data<AppContext>, _: AdminCaller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(catalogue::list_articles(&ctx).await?))
}

/// One article.
#[utoipa::path(context_path = "/api/v1", tag = "articles", security(("api_key" = [])), params(("sku" = String, Path)), responses(
    (status = 200, body = catalogue::ArticleBody), (status = 404, description = "unknown_sku", body = ErrorBody)))]
#[get("/articles/{sku}")]
pub async fn get_one(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    sku: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(catalogue::get_article(&ctx, &sku).await?))
}

/// Create or replace an article variant.
#[utoipa::path(context_path = "/api/v1", tag = "articles", security(("api_key" = [])), params(("sku" = String, Path)),
    request_body = catalogue::ArticleBody, responses(
    (status = 200, body = catalogue::ArticleBody),
    (status = 400, description = "invalid_article, invalid_ean", body = ErrorBody)))]
#[put("/articles/{sku}")]
pub async fn replace(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    sku: web::Path<String>,
    body: web::Json<catalogue::ArticleBody>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(catalogue::put_article(&ctx, &sku, body.into_inner()).await?))
}

/// Switch many articles reservable or not, by SKU list or filter.
#[utoipa::path(context_path = "/api/v1", tag = "articles", security(("api_key" = [])), request_body = catalogue::BulkReservable, responses(
    (status = 200, body = catalogue::BulkReservableResult),
    (status = 400, description = "invalid_selection, invalid_filter", body = ErrorBody)))]
#[post("/articles/reservable")]
pub async fn bulk_reservable(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    body: web::Json<catalogue::BulkReservable>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(catalogue::bulk_reservable(&ctx, body.into_inner()).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AvailabilityQuery {
    /// The article's SKU.
    pub sku: String,
}

/// Availability of an article in every store, for the product page.
#[utoipa::path(context_path = "/api/v1", tag = "stock", security(("api_key" = [])), params(AvailabilityQuery), responses(
    (status = 200, body = Vec<stock::Availability>), (status = 404, description = "unknown_sku", body = ErrorBody)))]
#[get("/availability")]
pub async fn availability(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    query: web::Query<AvailabilityQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(stock::availability(&ctx, &query.sku).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The literal path goes first so `reservable` is not taken for a SKU.
    cfg.service(bulk_reservable)
        .service(list)
        .service(get_one)
        .service(replace)
        .service(availability);
}
