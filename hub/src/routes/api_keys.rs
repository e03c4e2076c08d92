//! Integration key management (an integration key acts as admin).

use actix_web::{HttpResponse, delete, get, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::extractors::AdminCaller;
use crate::services::api_keys::{self, ApiKeyView, CreatedApiKey};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    pub name: String,
}

/// List keys (never the keys themselves).
#[utoipa::path(context_path = "/api/v1", tag = "api-keys", security(("api_key" = [])), responses(
    (status = 200, body = Vec<ApiKeyView>), (status = 401, body = ErrorBody)))]
#[get("/api-keys")]
pub async fn list(ctx: web::Data<AppContext>, _: AdminCaller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(api_keys::list(&ctx).await?))
}

/// Make a key; the answer is the only time it is shown.
#[utoipa::path(context_path = "/api/v1", tag = "api-keys", security(("api_key" = [])), request_body = NewApiKey, responses(
    (status = 201, body = CreatedApiKey), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[post("/api-keys")]
pub async fn create(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    body: web::Json<NewApiKey>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(api_keys::create(&ctx, &body.name).await?))
}

/// Revoke a key.
#[utoipa::path(context_path = "/api/v1", tag = "api-keys", security(("api_key" = [])), params(("id" = i64, Path)), responses(
    (status = 204), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[delete("/api-keys/{id}")]
pub async fn revoke(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    api_keys::revoke(&ctx, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(create).service(revoke);
}
