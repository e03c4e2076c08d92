//! Stores, their stock and their settings.

use actix_web::{HttpResponse, get, patch, post, put, web};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::context::AppContext;
use crate::domain::settings::BusinessSettings;
use crate::error::{ApiError, ErrorBody};
use crate::extractors::AdminCaller;
use crate::services::{catalogue, retrying_lock_conflicts, settings, stock};

/// All stores.
#[utoipa::path(context_path = "/api/v1", tag = "stores", security(("api_key" = [])), responses(
    (status = 200, body = Vec<catalogue::StoreBody>), (status = 401, body = ErrorBody)))]
#[get("/stores")]
pub async fn list(ctx: web::Data<AppContext>, _: AdminCaller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(catalogue::list_stores(&ctx).await?))
}

/// Create a store (`code` in the body).
#[utoipa::path(context_path = "/api/v1", tag = "stores", security(("api_key" = [])), request_body = catalogue::StoreBody, responses(
    (status = 201, body = catalogue::StoreBody), (status = 400, body = ErrorBody),
    (status = 409, description = "store_exists", body = ErrorBody)))]
#[post("/stores")]
pub async fn create(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    body: web::Json<catalogue::StoreBody>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(catalogue::create_store(&ctx, body.into_inner()).await?))
}

/// One store.
#[utoipa::path(context_path = "/api/v1", tag = "stores", security(("api_key" = [])), params(("code" = String, Path)), responses(
    (status = 200, body = catalogue::StoreBody), (status = 404, description = "unknown_store", body = ErrorBody)))]
#[get("/stores/{code}")]
pub async fn get_one(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let model = catalogue::get_store(&ctx, &code).await?;
    Ok(HttpResponse::Ok().json(catalogue::store_view(&model)))
}

/// Create or replace a store.
#[utoipa::path(context_path = "/api/v1", tag = "stores", security(("api_key" = [])), params(("code" = String, Path)),
    request_body = catalogue::StoreBody, responses(
    (status = 200, body = catalogue::StoreBody), (status = 201, body = catalogue::StoreBody),
    (status = 400, description = "invalid_opening_hours, invalid_email", body = ErrorBody)))]
#[put("/stores/{code}")]
pub async fn replace(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    code: web::Path<String>,
    body: web::Json<catalogue::StoreBody>,
) -> Result<HttpResponse, ApiError> {
    let (view, created) = catalogue::put_store(&ctx, &code, body.into_inner()).await?;
    Ok(if created {
        HttpResponse::Created().json(view)
    } else {
        HttpResponse::Ok().json(view)
    })
}

/// Absolute counts from the till. Lower counts auto-cancel the newest
/// unhandled reservations that no longer fit.
#[utoipa::path(context_path = "/api/v1", tag = "stock", security(("api_key" = [])), params(("code" = String, Path)),
    request_body = Vec<stock::StockCount>, responses(
    (status = 200, body = stock::StockUpdateResult),
    (status = 404, description = "unknown_store, unknown_sku", body = ErrorBody),
    (status = 422, description = "stock_below_set_aside", body = ErrorBody)))]
#[put("/stores/{code}/stock")]
pub async fn put_stock(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    code: web::Path<String>,
    body: web::Json<Vec<stock::StockCount>>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(retrying_lock_conflicts(|| stock::put_counts(&ctx, &code, body.0.clone())).await?))
}

/// Stock levels of a store.
#[utoipa::path(context_path = "/api/v1", tag = "stock", security(("api_key" = [])), params(("code" = String, Path)), responses(
    (status = 200, body = Vec<stock::StockLine>), (status = 404, body = ErrorBody)))]
#[get("/stores/{code}/stock")]
pub async fn get_stock(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(stock::store_levels(&ctx, &code).await?))
}

/// A store's settings: what is in force and what the store overrides.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreSettings {
    pub effective: BusinessSettings,
    #[schema(value_type = Object)]
    pub overrides: Map<String, Value>,
}

/// Settings in force for one store.
#[utoipa::path(context_path = "/api/v1", tag = "settings", security(("api_key" = [])), params(("code" = String, Path)), responses(
    (status = 200, body = StoreSettings), (status = 404, body = ErrorBody)))]
#[get("/stores/{code}/settings")]
pub async fn get_settings(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let store = catalogue::get_store(&ctx, &code).await?;
    let view = settings::for_store(&ctx, store.id).await?;
    Ok(HttpResponse::Ok().json(StoreSettings {
        effective: view.effective,
        overrides: view.overrides,
    }))
}

/// Override settings for one store; `null` removes an override.
#[utoipa::path(context_path = "/api/v1", tag = "settings", security(("api_key" = [])), params(("code" = String, Path)),
    request_body(content = Object, description = "Keys to change"), responses(
    (status = 200, body = StoreSettings),
    (status = 400, description = "unknown_setting, invalid_setting", body = ErrorBody)))]
#[patch("/stores/{code}/settings")]
pub async fn patch_settings(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    code: web::Path<String>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let store = catalogue::get_store(&ctx, &code).await?;
    settings::patch(&ctx, Some(store.id), &body).await?;
    let view = settings::for_store(&ctx, store.id).await?;
    Ok(HttpResponse::Ok().json(StoreSettings {
        effective: view.effective,
        overrides: view.overrides,
    }))
}

/// Ask to be told when an out-of-stock article is back at this store.
#[utoipa::path(context_path = "/api/v1", tag = "stock", security(("api_key" = [])), params(("code" = String, Path)),
    request_body = stock::RestockRequest, responses(
    (status = 201, body = stock::RestockAccepted),
    (status = 422, description = "already_available", body = ErrorBody),
    (status = 404, description = "unknown_store, unknown_sku", body = ErrorBody)))]
#[post("/stores/{code}/restock-requests")]
pub async fn request_restock(
    ctx: web::Data<AppContext>,
    crate::extractors::ApiCaller(caller): crate::extractors::ApiCaller,
    code: web::Path<String>,
    body: web::Json<stock::RestockRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created()
        .json(stock::request_restock(&ctx, &caller, &code, body.into_inner()).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get_one)
        .service(replace)
        .service(put_stock)
        .service(get_stock)
        .service(get_settings)
        .service(patch_settings)
        .service(request_restock);
}
