//! `GET /api/v1/ws`: the staff WebSocket (protocol in `realtime::protocol`).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;

use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::extractors::AdminCaller;
use crate::realtime::session;
use crate::services::load::{self, FanOutLoad, FanOutReport};

#[derive(Debug, Deserialize)]
pub struct WsQuery {
    /// Staff token; or send `{"type":"auth","token":...}` first.
    pub token: Option<String>,
}

/// Upgrades to a WebSocket; the session runs on its own task.
#[utoipa::path(context_path = "/api/v1", tag = "staff", params(("token" = Option<String>, Query, description = "Staff token")),
    responses((status = 101, description = "Switching protocols; see the WebSocket section of API.md")))]
#[get("/ws")]
pub async fn websocket(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    body: web::Payload,
    query: web::Query<WsQuery>,
) -> actix_web::Result<HttpResponse> {
    let (response, ws, stream) = actix_ws::handle(&req, body)?;
    let app = ctx.get_ref().clone();
    actix_web::rt::spawn(session::run(app, ws, stream, query.into_inner().token));
    Ok(response)
}

/// Load tests only (`STOREHUB_REALTIME__LOAD_GENERATOR=true`): sends
/// synthetic `load` frames through every running store's fan-out at a fixed
/// rate and answers when the phase is over.
#[utoipa::path(context_path = "/api/v1", tag = "staff", security(("api_key" = [])), request_body = FanOutLoad, responses(
    (status = 200, body = FanOutReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/load/fan-out")]
pub async fn fan_out_load(
    ctx: web::Data<AppContext>,
    _: AdminCaller,
    body: web::Json<FanOutLoad>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(load::fan_out(&ctx, body.into_inner()).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(websocket).service(fan_out_load);
}
