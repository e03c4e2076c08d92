//! `GET /api/v1/ws`: the staff WebSocket (protocol in `realtime::protocol`).

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;

use crate::context::AppContext;
use crate::realtime::session;

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

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(websocket);
}
