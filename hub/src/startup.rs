//! Builds the application: connect, migrate, bind, start actors, mount routes.
//! Binding happens here, before running, so callers (tests) read the real port.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_http::{HttpService, KeepAlive};
use actix_service::{IntoServiceFactory, fn_service, map_config};
use actix_web::dev::{AppConfig, Server};
use actix_web::{App, HttpRequest, ResponseError, error, web};
use sea_orm_migration::MigratorTrait;
use tracing_actix_web::TracingLogger;

use crate::actors::directory::Directory;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::context::AppContext;
use crate::db::{Db, DbOptions};
use crate::error::ApiError;
use crate::notify::email::Mailer;
use crate::notify::links::LinkSigner;
use crate::notify::worker::{Senders, Worker};
use crate::routes;
use crate::telemetry;
use mobile_bridge::fcm::FcmSender;
use mobile_bridge::webpush::WebPushSender;

pub struct Application {
    port: u16,
    server: Server,
    ctx: AppContext,
}

/// Installs ring as the one rustls crypto provider of the process.
pub fn install_crypto_provider() {
    // Err means it is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Connects and migrates (if configured) without serving.
pub async fn connect_database(settings: &Settings) -> anyhow::Result<Db> {
    install_crypto_provider();
    let options = DbOptions {
        max_connections: settings.database.max_connections,
        log_sql: settings.log.sql,
        pin_sqlite_writer: settings.database.pin_sqlite_writer,
    };
    let db = Db::connect_with(&settings.database.url, options).await?;
    if settings.database.migrate_on_start {
        schema::Migrator::up(db.conn(), None).await?;
    }
    Ok(db)
}

fn json_error(err: error::JsonPayloadError, _: &HttpRequest) -> error::Error {
    let api = match &err {
        error::JsonPayloadError::Overflow { limit }
        | error::JsonPayloadError::OverflowKnownLength { limit, .. } => ApiError::TooLarge {
            code: "payload_too_large",
            message: format!("The body is larger than the {limit} bytes allowed."),
        },
        error::JsonPayloadError::ContentType => ApiError::invalid(
            "malformed_json",
            "Send the body as JSON with `Content-Type: application/json`.",
        ),
        other => ApiError::invalid(
            "malformed_json",
            format!("The JSON body was refused: {other}."),
        ),
    };
    error::InternalError::from_response(err, api.error_response()).into()
}

fn path_error(err: error::PathError, _: &HttpRequest) -> error::Error {
    let api = ApiError::invalid("invalid_path", format!("Bad path parameter: {err}."));
    error::InternalError::from_response(err, api.error_response()).into()
}

fn query_error(err: error::QueryPayloadError, _: &HttpRequest) -> error::Error {
    let api = ApiError::invalid("invalid_query", format!("Bad query string: {err}."));
    error::InternalError::from_response(err, api.error_response()).into()
}

/// The key action links are signed with: made once and kept in the
/// database, so links survive restarts and work on every hub instance.
pub async fn link_secret(db: &Db) -> anyhow::Result<Vec<u8>> {
    use rand::Rng;
    let conn = db.conn();
    let layer = crate::store::settings::layer(conn, "system").await?;
    if let Some(secret) = layer.get("link_secret").and_then(|v| v.as_str()) {
        return Ok(hex::decode(secret)?);
    }
    let fresh: [u8; 32] = rand::rng().random();
    let tx = db.write().await?;
    // Two hubs starting at once: the first write wins, both read it back.
    let value = serde_json::Value::String(hex::encode(fresh));
    if crate::store::settings::layer(&*tx, "system")
        .await?
        .get("link_secret")
        .is_none()
    {
        crate::store::settings::put(&*tx, "system", "link_secret", &value, chrono::Utc::now())
            .await?;
    }
    tx.commit().await?;
    let layer = crate::store::settings::layer(conn, "system").await?;
    let secret = layer
        .get("link_secret")
        .and_then(|v| v.as_str())
        .ok_or_else(|| anyhow::anyhow!("link secret missing after writing it"))?;
    Ok(hex::decode(secret)?)
}

/// The hub's one HTTP client, shared by every push transport.
fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .connect_timeout(std::time::Duration::from_secs(10))
        .pool_max_idle_per_host(32)
        .build()?)
}

/// Email, Web Push and FCM senders from the settings; each may be off.
async fn build_senders(settings: &Settings) -> anyhow::Result<(Senders, Option<Arc<str>>)> {
    let client = http_client()?;
    let mut senders = Senders::default();
    match &settings.email.smtp_url {
        Some(url) => {
            senders.mailer =
                Some(Mailer::new(url, &settings.email.from).map_err(anyhow::Error::msg)?);
        }
        None => tracing::warn!("STOREHUB_EMAIL__SMTP_URL is not set: no email will be sent"),
    }
    let mut public_key = None;
    match &settings.push.vapid_private_key {
        Some(key) => {
            let sender = WebPushSender::new(client.clone(), key, &settings.push.vapid_subject)
                .map_err(anyhow::Error::msg)?;
            public_key = Some(Arc::from(sender.public_key()));
            senders.web_push = Some(Arc::new(sender));
        }
        None => tracing::warn!("STOREHUB_PUSH__VAPID_PRIVATE_KEY is not set: Web Push is off"),
    }
    if let Some(path) = &settings.fcm.credentials_file {
        let json = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("STOREHUB_FCM__CREDENTIALS_FILE `{path}`: {e}"))?;
        let sender = FcmSender::new(
            client.clone(),
            &json,
            &settings.fcm.base_url,
            settings.fcm.token_uri.as_deref(),
        )
        .map_err(anyhow::Error::msg)?;
        senders.fcm = Some(Arc::new(sender));
    }
    Ok((senders, public_key))
}

/// Binds like `TcpListener::bind`, but with our accept queue length: the
/// standard library always asks for 128, too few for a reconnect storm.
pub fn bind_listener(address: &str, backlog: u32) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    use std::net::ToSocketAddrs;
    let listen_on = |addr: std::net::SocketAddr| -> std::io::Result<TcpListener> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
        // As the standard library does: a restarted hub rebinds at once.
        socket.set_reuse_address(true)?;
        socket.bind(&addr.into())?;
        socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
        Ok(socket.into())
    };
    let mut last_error = None;
    for addr in address.to_socket_addrs()? {
        match listen_on(addr) {
            Ok(listener) => return Ok(listener),
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("`{address}` resolves to no address"),
        )
    }))
}

impl Application {
    pub async fn build(settings: Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let db = connect_database(&settings).await?;
        let listener = bind_listener(&settings.bind, settings.http.listen_backlog)?;
        let address = listener.local_addr()?;
        let public_url = if settings.public_url.trim().is_empty() {
            format!("http://{address}")
        } else {
            settings.public_url.trim_end_matches('/').to_string()
        };
        let (senders, vapid_public_key) = build_senders(&settings).await?;
        let db_for_links = db.clone();
        let ctx = AppContext {
            db,
            clock,
            public_url: Arc::from(public_url),
            metrics: telemetry::metrics_handle(),
            directory: Default::default(),
            realtime: settings.realtime.clone(),
            catch_up_gate: AppContext::catch_up_gate(settings.database.max_connections),
            catalogue: AppContext::catalogue_cache(&settings.database),
            delivery_wake: Default::default(),
            vapid_public_key,
            links: LinkSigner::new(&link_secret(&db_for_links).await?),
        };
        let worker = Worker::new(
            ctx.clone(),
            senders,
            settings.delivery.clone(),
            ctx.delivery_wake.clone(),
        );
        actix_web::rt::spawn(worker.run());
        let directory = Directory::start_for(ctx.clone());
        // Only this function sets it, once per context.
        let _ = ctx.directory.set(directory);

        let data = web::Data::new(ctx.clone());
        let max_body = settings.http.max_body_bytes;
        let send_buffer = settings.http.socket_send_buffer_bytes;
        let write_buffer = settings.http.write_buffer_bytes.max(1024);
        let app_factory = move || {
            App::new()
                .app_data(data.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(max_body)
                        .error_handler(json_error),
                )
                .app_data(web::PathConfig::default().error_handler(path_error))
                .app_data(web::QueryConfig::default().error_handler(query_error))
                .wrap(TracingLogger::default())
                .configure(routes::configure)
                .default_service(web::to(not_found))
        };
        let ws_ctx = ctx.clone();
        // actix-web's `HttpServer` cannot take an upgrade service, so the
        // server is put together from its parts, with actix-web's defaults.
        let mut server = Server::build();
        if settings.http.workers > 0 {
            server = server.workers(settings.http.workers);
        }
        let server = server.listen("storehub-http", listener, move || {
            let ws_ctx = ws_ctx.clone();
            HttpService::build()
                // Staff frames are small writes: with Nagle's algorithm a
                // frame sent while the last is unacknowledged waited for the
                // phone's delayed ACK, up to 40 ms.
                .tcp_nodelay(true)
                .keep_alive(KeepAlive::Timeout(Duration::from_secs(5)))
                .client_request_timeout(Duration::from_secs(5))
                .client_disconnect_timeout(Duration::from_secs(1))
                .h1_write_buffer_size(write_buffer)
                .local_addr(address)
                .on_connect_ext(move |stream: &actix_web::rt::net::TcpStream, _| {
                    if send_buffer > 0
                        && let Err(err) =
                            socket2::SockRef::from(stream).set_send_buffer_size(send_buffer)
                    {
                        tracing::warn!(error = %err, "could not size the socket send buffer");
                    }
                })
                .upgrade(fn_service(move |(request, framed)| {
                    routes::realtime::upgrade(ws_ctx.clone(), request, framed)
                }))
                .finish(map_config(app_factory().into_factory(), |_| {
                    // Host and address only feed URL generation, which the hub does not use.
                    AppConfig::default()
                }))
                .tcp()
        })?;
        tracing::info!(%address, "storehub listening");
        Ok(Self {
            port: address.port(),
            server: server.run(),
            ctx,
        })
    }

    /// Stops the HTTP server (tests use it to simulate a restart).
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn context(&self) -> &AppContext {
        &self.ctx
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found(
        "not_found",
        format!(
            "Nothing at {} {}; see /api/docs/.",
            req.method(),
            req.path()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use std::net::TcpStream;
    use std::time::Duration;

    use super::bind_listener;

    /// Connections the kernel completes for a listener nobody accepts from,
    /// trying up to `tries`: they stop at its accept queue's length.
    fn completed_without_accept(backlog: u32, tries: usize) -> usize {
        let listener = bind_listener("127.0.0.1:0", backlog).expect("bind");
        let address = listener.local_addr().expect("address");
        let mut held = Vec::new();
        for _ in 0..tries {
            match TcpStream::connect_timeout(&address, Duration::from_millis(300)) {
                Ok(stream) => held.push(stream),
                Err(_) => break,
            }
        }
        held.len()
    }

    #[test]
    fn the_accept_queue_has_the_length_asked_for() {
        // Linux holds backlog + 1 complete connections, then drops requests.
        let small = completed_without_accept(16, 100);
        assert!((16..=17).contains(&small), "backlog 16 held {small}");
        // Past the standard library's fixed 128.
        assert_eq!(completed_without_accept(1024, 400), 400);
    }
}
