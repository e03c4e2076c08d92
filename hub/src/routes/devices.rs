//! Push devices: staff phones, shoppers' browsers, and the VAPID public key.

use actix_web::{HttpResponse, delete, get, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::extractors::ApiCaller;
use crate::services::devices::{self, DeviceView, FcmRegistration, WebPushSubscription};

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicKey {
    /// base64url application server key for `pushManager.subscribe`.
    pub public_key: String,
}

/// The key browsers subscribe to Web Push with.
#[utoipa::path(context_path = "/api/v1", tag = "push", responses(
    (status = 200, body = PublicKey), (status = 404, description = "web_push_off", body = ErrorBody)))]
#[get("/push/public-key")]
pub async fn public_key(ctx: web::Data<AppContext>) -> Result<HttpResponse, ApiError> {
    let key = ctx.vapid_public_key.clone().ok_or_else(|| {
        ApiError::not_found("web_push_off", "Web Push is not configured on this hub.")
    })?;
    Ok(HttpResponse::Ok().json(PublicKey {
        public_key: key.to_string(),
    }))
}

/// Register this browser for Web Push.
#[utoipa::path(context_path = "/api/v1", tag = "push", security(("api_key" = [])), request_body = WebPushSubscription,
    responses((status = 201, body = DeviceView), (status = 400, description = "invalid_subscription", body = ErrorBody)))]
#[post("/me/push-subscriptions")]
pub async fn add_web_push(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    body: web::Json<WebPushSubscription>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created()
        .json(devices::add_staff_web_push(&ctx, &caller, body.into_inner()).await?))
}

/// Forget a Web Push device.
#[utoipa::path(context_path = "/api/v1", tag = "push", security(("api_key" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 404, description = "unknown_device", body = ErrorBody)))]
#[delete("/me/push-subscriptions/{id}")]
pub async fn remove_web_push(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    devices::remove_staff_device(&ctx, &caller, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Register a native app's FCM token.
#[utoipa::path(context_path = "/api/v1", tag = "push", security(("api_key" = [])), request_body = FcmRegistration,
    responses((status = 201, body = DeviceView)))]
#[post("/me/fcm-tokens")]
pub async fn add_fcm(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    body: web::Json<FcmRegistration>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(devices::add_staff_fcm(&ctx, &caller, &body.token).await?))
}

/// Forget an FCM token.
#[utoipa::path(context_path = "/api/v1", tag = "push", security(("api_key" = [])), params(("token" = String, Path)),
    responses((status = 204), (status = 404, description = "unknown_device", body = ErrorBody)))]
#[delete("/me/fcm-tokens/{token}")]
pub async fn remove_fcm(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    devices::remove_staff_device(&ctx, &caller, &token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A shopper opts in to Web Push from the tracking page.
#[utoipa::path(context_path = "/api/v1", tag = "shopper", params(("token" = String, Path)), request_body = WebPushSubscription,
    responses((status = 201, body = DeviceView), (status = 404, description = "unknown_tracking_token", body = ErrorBody)))]
#[post("/tracking/{token}/push-subscriptions")]
pub async fn add_shopper_web_push(
    ctx: web::Data<AppContext>,
    token: web::Path<String>,
    body: web::Json<WebPushSubscription>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created()
        .json(devices::add_shopper_web_push(&ctx, &token, body.into_inner()).await?))
}

/// The retailer's app registers the shopper's FCM token for a reservation.
#[utoipa::path(context_path = "/api/v1", tag = "push", security(("api_key" = [])), params(("number" = String, Path)),
    request_body = FcmRegistration, responses((status = 201, body = DeviceView),
    (status = 404, description = "unknown_reservation", body = ErrorBody)))]
#[post("/reservations/{number}/fcm-tokens")]
pub async fn add_shopper_fcm(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    number: web::Path<String>,
    body: web::Json<FcmRegistration>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created()
        .json(devices::add_shopper_fcm(&ctx, &caller, &number, &body.token).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(public_key)
        .service(add_web_push)
        .service(remove_web_push)
        .service(add_fcm)
        .service(remove_fcm)
        .service(add_shopper_web_push)
        .service(add_shopper_fcm);
}
