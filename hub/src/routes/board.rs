//! A store's live board.

use actix_web::{HttpResponse, get, web};

use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::extractors::ApiCaller;
use crate::services::{board, catalogue};

/// Pending, set aside and to put back, with counts and the event number.
#[utoipa::path(context_path = "/api/v1", tag = "staff", security(("api_key" = [])), params(("code" = String, Path)), responses(
    (status = 200, body = board::Board),
    (status = 403, description = "not_your_store", body = ErrorBody),
    (status = 404, description = "unknown_store", body = ErrorBody)))]
#[get("/stores/{code}/board")]
pub async fn get_board(
    ctx: web::Data<AppContext>,
    ApiCaller(caller): ApiCaller,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let store = catalogue::get_store(&ctx, &code).await?;
    caller.require_store(store.id, &store.code)?;
    // From the database: a caller sees its own action at once, even before
    // the store's actor has fanned it out.
    Ok(HttpResponse::Ok().json(board::load_board(&ctx, store.id, &store.code).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_board);
}
