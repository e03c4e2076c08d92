//! Delivery status and the message template editor.

use actix_web::{HttpResponse, get, post, put, web};

use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::extractors::{AdminCaller, ApiCaller};
use crate::notify::templates::{Rendered, TemplateSource};
use crate::services::notifications::{self, NotificationView};

/// Every message of a reservation and its delivery status.
#[utoipa::path(context_path = "/api/v1", tag = "reservations", security(("api_key" = [])), params(("number" = String, Path)),
    responses((status = 200, body = Vec<NotificationView>), (status = 404, description = "unknown_reservation", body = ErrorBody)))]
#[get("/reservations/{number}/notifications")]
pub async fn for_reservation(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(notifications::for_reservation(&ctx, &caller, &number).await?))
}

/// A message template in one language (the saved one, else the default).
#[utoipa::path(context_path = "/api/v1", tag = "templates", security(("api_key" = [])),
    params(("name" = String, Path), ("lang" = String, Path)),
    responses((status = 200, body = TemplateSource), (status = 404, description = "unknown_template", body = ErrorBody)))]
#[get("/templates/{name}/{lang}")]
pub async fn get_template(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (name, lang) = path.into_inner();
    Ok(HttpResponse::Ok().json(notifications::get(&ctx, &name, &lang).await?))
}

/// Save a template: refused with the part, line and reason if it does not
/// parse, uses an unknown variable, or fails on sample data.
#[utoipa::path(context_path = "/api/v1", tag = "templates", security(("api_key" = [])),
    params(("name" = String, Path), ("lang" = String, Path)), request_body = TemplateSource,
    responses((status = 200, description = "Saved; the sample rendering", body = Rendered),
    (status = 400, description = "invalid_template", body = ErrorBody)))]
#[put("/templates/{name}/{lang}")]
pub async fn put_template(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    path: web::Path<(String, String)>,
    body: web::Json<TemplateSource>,
) -> Result<HttpResponse, ApiError> {
    let (name, lang) = path.into_inner();
    Ok(HttpResponse::Ok().json(notifications::put(&ctx, &name, &lang, body.into_inner()).await?))
}

/// Render a template with sample data (the body's, or the saved one).
#[utoipa::path(context_path = "/api/v1", tag = "templates", security(("api_key" = [])),
    params(("name" = String, Path), ("lang" = String, Path)), request_body(content = Option<TemplateSource>),
    responses((status = 200, body = Rendered), (status = 400, description = "invalid_template", body = ErrorBody)))]
#[post("/templates/{name}/{lang}/preview")]
pub async fn preview(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    path: web::Path<(String, String)>,
    body: Option<web::Json<TemplateSource>>,
) -> Result<HttpResponse, ApiError> {
    let (name, lang) = path.into_inner();
    let source = body.map(web::Json::into_inner);
    Ok(HttpResponse::Ok().json(notifications::preview(&ctx, &name, &lang, source).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(for_reservation)
        .service(get_template)
        .service(put_template)
        .service(preview);
}
