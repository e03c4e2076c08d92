//! Reservations for integrations (and, later, staff).

use actix_web::{HttpResponse, get, http::StatusCode, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::extractors::{ApiCaller, IdempotencyKey};
use crate::services::reservations::{
    self, CreateReservation, ReservationView, SearchPage, SearchQuery,
};

/// Reserve articles in a store. Holds the stock at once.
#[utoipa::path(context_path = "/api/v1", tag = "reservations", security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key + same body replays the first answer")),
    request_body = CreateReservation, responses(
    (status = 201, body = ReservationView),
    (status = 400, description = "terms_not_accepted, invalid_email, invalid_phone, invalid_quantity, no_lines, duplicate_line, missing_external_id", body = ErrorBody),
    (status = 404, description = "unknown_store, unknown_sku", body = ErrorBody),
    (status = 409, description = "idempotency_key_reused", body = ErrorBody),
    (status = 422, description = "module_inactive, article_not_reservable, out_of_stock, too_many_lines, quantity_limit_exceeded, open_reservations_limit_exceeded, items_held_limit_exceeded", body = ErrorBody)))]
#[post("/reservations")]
pub async fn create(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    IdempotencyKey(key): IdempotencyKey,
    body: web::Json<CreateReservation>,
) -> Result<HttpResponse, ApiError> {
    let outcome = reservations::create(&ctx, &caller, body.into_inner(), key).await?;
    let status = StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::CREATED);
    let mut response = HttpResponse::build(status);
    if outcome.replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(response.content_type("application/json").body(outcome.body))
}

/// Back-office search, newest first.
#[utoipa::path(context_path = "/api/v1", tag = "reservations", security(("api_key" = [])), params(SearchQuery), responses(
    (status = 200, body = SearchPage), (status = 400, description = "invalid_query", body = ErrorBody)))]
#[get("/reservations")]
pub async fn search(
    ctx: web::Data<AppContext>,
    _: ApiCaller,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(reservations::search(&ctx, query.into_inner()).await?))
}

/// One reservation with its lines and history.
#[utoipa::path(context_path = "/api/v1", tag = "reservations", security(("api_key" = [])), params(("number" = String, Path)), responses(
    (status = 200, body = ReservationView), (status = 404, description = "unknown_reservation", body = ErrorBody)))]
#[get("/reservations/{number}")]
pub async fn get_one(
    ctx: web::Data<AppContext>,
    _: ApiCaller,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(reservations::get(&ctx, &number).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    #[serde(default)]
    pub reason: Option<String>,
}

/// Cancel for the shopper; releases the stock.
#[utoipa::path(context_path = "/api/v1", tag = "reservations", security(("api_key" = [])), params(("number" = String, Path)),
    request_body(content = Option<CancelBody>), responses(
    (status = 200, body = ReservationView),
    (status = 404, description = "unknown_reservation", body = ErrorBody),
    (status = 409, description = "reservation_already_handled", body = ErrorBody)))]
#[post("/reservations/{number}/cancel")]
pub async fn cancel(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    number: web::Path<String>,
    body: Option<web::Json<CancelBody>>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.and_then(|b| b.into_inner().reason);
    Ok(HttpResponse::Ok().json(reservations::cancel(&ctx, &caller, &number, reason).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create)
        .service(search)
        .service(get_one)
        .service(cancel);
}
