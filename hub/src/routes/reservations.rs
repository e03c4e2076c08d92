//! Reservations: create, read, search, and what integrations and staff do with them.

use actix_web::{HttpResponse, get, http::StatusCode, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::extractors::{ApiCaller, IdempotencyKey};
use crate::services::handling::{self, CollectBody, PutBackBody, RejectBody};
use crate::services::reservations::{
    self, CreateReservation, ReservationView, SearchPage, SearchQuery,
};
use crate::services::retrying_lock_conflicts;

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
    ApiCaller(caller): ApiCaller,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(reservations::search(&ctx, &caller, query.into_inner()).await?))
}

/// One reservation with its lines and history.
#[utoipa::path(context_path = "/api/v1", tag = "reservations", security(("api_key" = [])), params(("number" = String, Path)), responses(
    (status = 200, body = ReservationView), (status = 404, description = "unknown_reservation", body = ErrorBody)))]
#[get("/reservations/{number}")]
pub async fn get_one(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(reservations::get(&ctx, &caller, &number).await?))
}

/// The printable preparation slip (HTML), for the staff app's print button.
#[utoipa::path(context_path = "/api/v1", tag = "reservations", security(("api_key" = [])), params(("number" = String, Path)), responses(
    (status = 200, description = "Print-styled HTML page with EAN barcodes", content_type = "text/html"),
    (status = 403, description = "not_your_store", body = ErrorBody),
    (status = 404, description = "unknown_reservation", body = ErrorBody)))]
#[get("/reservations/{number}/slip")]
pub async fn slip(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let page = crate::services::board::slip(&ctx, Some(&caller), &number).await?;
    Ok(crate::pages::html(200, page))
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
    Ok(HttpResponse::Ok().json(
        retrying_lock_conflicts(|| reservations::cancel(&ctx, &caller, &number, reason.clone()))
            .await?,
    ))
}

/// Confirm: the article is set aside for the shopper, who is told it is ready.
#[utoipa::path(context_path = "/api/v1", tag = "reservations", security(("api_key" = [])), params(("number" = String, Path)), responses(
    (status = 200, body = ReservationView),
    (status = 403, description = "not_your_store", body = ErrorBody),
    (status = 404, description = "unknown_reservation", body = ErrorBody),
    (status = 409, description = "reservation_already_handled (says who and when)", body = ErrorBody)))]
#[post("/reservations/{number}/set-aside")]
pub async fn set_aside(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(retrying_lock_conflicts(|| handling::set_aside(&ctx, &caller, &number)).await?))
}

/// Refuse the reservation with a reason; the stock is released.
#[utoipa::path(context_path = "/api/v1", tag = "reservations", security(("api_key" = [])), params(("number" = String, Path)),
    request_body = RejectBody, responses(
    (status = 200, body = ReservationView),
    (status = 400, description = "missing_reason", body = ErrorBody),
    (status = 409, description = "reservation_already_handled", body = ErrorBody)))]
#[post("/reservations/{number}/reject")]
pub async fn reject(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    number: web::Path<String>,
    body: web::Json<RejectBody>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(
        retrying_lock_conflicts(|| handling::reject(&ctx, &caller, &number, body.0.clone()))
            .await?,
    ))
}

/// Hand over: optional barcode check, order reference, real customer, added articles.
#[utoipa::path(context_path = "/api/v1", tag = "reservations", security(("api_key" = [])), params(("number" = String, Path)),
    request_body = CollectBody, responses(
    (status = 200, body = ReservationView),
    (status = 409, description = "reservation_already_handled", body = ErrorBody),
    (status = 422, description = "scan_mismatch, out_of_stock", body = ErrorBody)))]
#[post("/reservations/{number}/collect")]
pub async fn collect(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    number: web::Path<String>,
    body: Option<web::Json<CollectBody>>,
) -> Result<HttpResponse, ApiError> {
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    Ok(HttpResponse::Ok().json(
        retrying_lock_conflicts(|| handling::collect(&ctx, &caller, &number, body.clone())).await?,
    ))
}

/// After an uncollected set-aside reservation ended: what went back on the shelf.
#[utoipa::path(context_path = "/api/v1", tag = "reservations", security(("api_key" = [])), params(("number" = String, Path)),
    request_body = PutBackBody, responses(
    (status = 200, body = ReservationView),
    (status = 409, description = "nothing_to_put_back, already_put_back", body = ErrorBody)))]
#[post("/reservations/{number}/put-back")]
pub async fn put_back(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    number: web::Path<String>,
    body: web::Json<PutBackBody>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(
        retrying_lock_conflicts(|| handling::put_back(&ctx, &caller, &number, body.0.clone()))
            .await?,
    ))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create)
        .service(search)
        .service(get_one)
        .service(slip)
        .service(cancel)
        .service(set_aside)
        .service(reject)
        .service(collect)
        .service(put_back);
}
