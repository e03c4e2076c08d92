//! Staff sign-in, sign-out and "who am I".

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::extractors::{AdminCaller, ApiCaller, api_caller::bearer_token};
use crate::services::{Caller, staff};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

/// Sign in with email and password.
#[utoipa::path(context_path = "/api/v1", tag = "staff", request_body = LoginBody, responses(
    (status = 200, body = staff::LoginResult),
    (status = 401, description = "invalid_credentials", body = ErrorBody)))]
#[post("/auth/login")]
pub async fn login(
    ctx: web::Data<AppContext>,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(staff::login(&ctx, &body.email, &body.password).await?))
}

/// Sign out: the token stops working at once.
#[utoipa::path(context_path = "/api/v1", tag = "staff", security(("api_key" = [])), responses(
    (status = 204), (status = 401, body = ErrorBody)))]
#[post("/auth/logout")]
pub async fn logout(
    ctx: web::Data<AppContext>,
    _: ApiCaller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if let Some(token) = bearer_token(&req) {
        staff::logout(&ctx, &token).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in staff member, their role and stores.
#[utoipa::path(context_path = "/api/v1", tag = "staff", security(("api_key" = [])), responses(
    (status = 200, body = staff::StaffView),
    (status = 403, description = "staff_only", body = ErrorBody)))]
#[get("/me")]
pub async fn me(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
) -> Result<HttpResponse, ApiError> {
    match caller {
        Caller::Staff(identity) => {
            Ok(HttpResponse::Ok().json(staff::view(&ctx, identity.id).await?))
        }
        Caller::Integration { .. } => Err(ApiError::Forbidden {
            code: "staff_only",
            message: "This is for signed-in staff; an API key has no profile.".into(),
        }),
    }
}

/// Create a staff account (admins and integrations).
#[utoipa::path(context_path = "/api/v1", tag = "staff", security(("api_key" = [])), request_body = staff::NewStaff,
    responses((status = 201, body = staff::StaffView),
    (status = 400, description = "invalid_email, weak_password", body = ErrorBody),
    (status = 409, description = "staff_exists", body = ErrorBody)))]
#[post("/staff")]
pub async fn create(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    body: web::Json<staff::NewStaff>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(staff::create(&ctx, body.into_inner()).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(login)
        .service(logout)
        .service(me)
        .service(create);
}
