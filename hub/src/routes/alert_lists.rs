//! Store alert lists: subscribe yourself, see the members (managers).

use actix_web::{HttpResponse, delete, get, put, web};

use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::extractors::ApiCaller;
use crate::services::alert_lists::{self, ListMember, MyList, Subscription};

/// Members of the list and their channels (managers of the store, admins).
#[utoipa::path(context_path = "/api/v1", tag = "staff", security(("api_key" = [])), params(("code" = String, Path)), responses(
    (status = 200, body = Vec<ListMember>),
    (status = 403, description = "manager_only", body = ErrorBody)))]
#[get("/stores/{code}/alert-list")]
pub async fn members(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(alert_lists::list(&ctx, &caller, &code).await?))
}

/// Subscribe yourself, or change your channels and quiet hours.
#[utoipa::path(context_path = "/api/v1", tag = "staff", security(("api_key" = [])), params(("code" = String, Path)),
    request_body = Subscription, responses(
    (status = 200, body = ListMember),
    (status = 400, description = "unknown_channel, no_channels", body = ErrorBody),
    (status = 403, description = "not_your_store, staff_only", body = ErrorBody)))]
#[put("/stores/{code}/alert-list/me")]
pub async fn subscribe(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    code: web::Path<String>,
    body: web::Json<Subscription>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(alert_lists::subscribe(&ctx, &caller, &code, body.into_inner()).await?))
}

/// Leave the list.
#[utoipa::path(context_path = "/api/v1", tag = "staff", security(("api_key" = [])), params(("code" = String, Path)), responses(
    (status = 204), (status = 404, description = "not_subscribed", body = ErrorBody)))]
#[delete("/stores/{code}/alert-list/me")]
pub async fn unsubscribe(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    alert_lists::unsubscribe(&ctx, &caller, &code).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The lists you are on, with your channels and quiet hours.
#[utoipa::path(context_path = "/api/v1", tag = "staff", security(("api_key" = [])), responses(
    (status = 200, body = Vec<MyList>),
    (status = 403, description = "staff_only", body = ErrorBody)))]
#[get("/me/alert-lists")]
pub async fn mine(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(alert_lists::mine(&ctx, &caller).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(members)
        .service(mine)
        .service(subscribe)
        .service(unsubscribe);
}
