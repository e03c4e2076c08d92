//! Global business settings.

use actix_web::{HttpResponse, get, patch, web};
use serde_json::{Map, Value};

use crate::context::AppContext;
use crate::domain::settings::BusinessSettings;
use crate::error::{ApiError, ErrorBody};
use crate::extractors::AdminCaller;
use crate::services::settings;

/// Settings in force where no store overrides them.
#[utoipa::path(context_path = "/api/v1", tag = "settings", security(("api_key" = [])), responses(
    (status = 200, body = BusinessSettings), (status = 401, body = ErrorBody)))]
#[get("/settings")]
pub async fn get_global(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(settings::effective(ctx.db.conn(), None).await?))
}

/// Change global settings; only the keys sent change, `null` restores the default.
#[utoipa::path(context_path = "/api/v1", tag = "settings", security(("api_key" = [])),
    request_body(content = Object, description = "Keys to change"), responses(
    (status = 200, body = BusinessSettings),
    (status = 400, description = "unknown_setting, invalid_setting", body = ErrorBody)))]
#[patch("/settings")]
pub async fn patch_global(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    settings::patch(&ctx, None, &body).await?;
    Ok(HttpResponse::Ok().json(settings::effective(ctx.db.conn(), None).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_global).service(patch_global);
}
