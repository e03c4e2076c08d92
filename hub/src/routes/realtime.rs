//! `GET /api/v1/ws`: the staff WebSocket (protocol in `realtime::protocol`).
//!
//! actix-http hands every request that asks for a WebSocket (`Upgrade:
//! websocket`) to [`upgrade`] with its connection, before actix-web routes
//! it; the socket then runs on its own task with buffers of its own. A plain
//! request to the path reaches [`websocket`] and is told to upgrade.

use actix_codec::Framed;
use actix_http::body::{BodySize, BoxBody, MessageBody};
use actix_http::h1::{self, Message};
use actix_http::ws::{self, HandshakeError};
use actix_http::{ConnectionType, Request, Response};
use actix_web::{HttpResponse, ResponseError, get, post, web};
use futures_util::SinkExt;
use serde::Deserialize;
use tokio::net::TcpStream;

use crate::context::AppContext;
use crate::error::{ApiError, ErrorBody};
use crate::extractors::AdminCaller;
use crate::realtime::session;
use crate::realtime::socket::WsSocket;
use crate::services::load::{self, FanOutLoad, FanOutReport};

/// Where the staff WebSocket is served.
pub const WS_PATH: &str = "/api/v1/ws";

#[derive(Debug, Deserialize)]
pub struct WsQuery {
    /// Staff token; or send `{"type":"auth","token":...}` first.
    pub token: Option<String>,
}

/// Upgrades to a WebSocket; the session runs on its own task. A request that
/// reaches this handler did not ask for the upgrade.
#[utoipa::path(context_path = "/api/v1", tag = "staff", params(("token" = Option<String>, Query, description = "Staff token")),
    responses((status = 101, description = "Switching protocols; see the WebSocket section of API.md"),
        (status = 400, body = ErrorBody, description = "Not a WebSocket handshake")))]
#[get("/ws")]
pub async fn websocket() -> Result<HttpResponse, ApiError> {
    Err(ApiError::invalid(
        "websocket_required",
        "Connect with a WebSocket client (GET with `Upgrade: websocket`).",
    ))
}

/// Answers one WebSocket handshake on the connection actix-http hands over.
pub async fn upgrade(
    app: AppContext,
    request: Request,
    mut framed: Framed<TcpStream, h1::Codec>,
) -> Result<(), actix_web::Error> {
    let query = web::Query::<WsQuery>::from_query(request.uri().query().unwrap_or(""));
    let refusal = if request.path() != WS_PATH {
        Some(ApiError::not_found(
            "not_found",
            format!(
                "No WebSocket at {}; staff connect to {WS_PATH}.",
                request.path()
            ),
        ))
    } else if let Err(err) = ws::verify_handshake(request.head()) {
        Some(handshake_refusal(err))
    } else if let Err(err) = &query {
        Some(ApiError::invalid(
            "invalid_query",
            format!("The query string is not understood: {err}."),
        ))
    } else {
        None
    };
    if let Some(error) = refusal {
        tracing::info!(
            path = request.path(),
            error = error.code(),
            "websocket refused"
        );
        return send_refusal(&mut framed, &error).await;
    }
    let token = query.ok().and_then(|query| query.into_inner().token);
    let accepted = ws::handshake_response(request.head()).finish().drop_body();
    framed
        .send(Message::Item((accepted, BodySize::None)))
        .await?;
    let parts = framed.into_parts();
    let socket = WsSocket::new(parts.io, parts.read_buf, app.realtime.max_frame_bytes);
    actix_web::rt::spawn(session::run(app, socket, token));
    Ok(())
}

fn handshake_refusal(err: HandshakeError) -> ApiError {
    let sentence = match err {
        HandshakeError::GetMethodRequired => "A WebSocket opens with GET.",
        HandshakeError::NoWebsocketUpgrade | HandshakeError::NoConnectionUpgrade => {
            "Ask for the upgrade: `Connection: Upgrade` and `Upgrade: websocket`."
        }
        HandshakeError::NoVersionHeader | HandshakeError::UnsupportedVersion => {
            "Only WebSocket version 13 is served (`Sec-WebSocket-Version: 13`)."
        }
        HandshakeError::BadWebsocketKey => {
            "The `Sec-WebSocket-Key` header is missing or malformed."
        }
    };
    ApiError::invalid("websocket_handshake", sentence)
}

/// Writes an error response on the raw connection and ends it.
async fn send_refusal(
    framed: &mut Framed<TcpStream, h1::Codec>,
    error: &ApiError,
) -> Result<(), actix_web::Error> {
    let response: Response<BoxBody> = error.error_response().into();
    let (mut head, body) = response.into_parts();
    let body = body.try_into_bytes().unwrap_or_default();
    head.head_mut().set_connection_type(ConnectionType::Close);
    // One write: a client may read no further than what came with the head.
    framed
        .feed(Message::Item((head, BodySize::Sized(body.len() as u64))))
        .await?;
    framed.feed(Message::Chunk(Some(body))).await?;
    framed.send(Message::Chunk(None)).await?;
    Ok(())
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
