//! Test harness: the real hub on port 0 with its own database and a test
//! clock. `STOREHUB_TEST_DATABASE=postgres` runs the same tests on
//! PostgreSQL (`STOREHUB_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432`), each test on a copy of a migrated
//! template database; otherwise each test gets a fresh SQLite file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod services;

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hub::clock::TestClock;
use hub::config::Settings;
use hub::context::AppContext;
use hub::startup::Application;
use sea_orm::{ConnectionTrait, Database};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Which database the tests run on.
pub fn on_postgres() -> bool {
    std::env::var("STOREHUB_TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

fn postgres_server() -> String {
    std::env::var("STOREHUB_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// Name of the template for the current migration list, so a new migration
/// gets a new template instead of a stale one.
fn template_name() -> String {
    let names: Vec<String> = schema::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let digest = hex::encode(Sha256::digest(names.join(",").as_bytes()));
    format!("storehub_tpl_{}", &digest[..12])
}

/// A fresh database URL for one test.
pub async fn fresh_database_url() -> String {
    if on_postgres() {
        let server = postgres_server();
        let admin = Database::connect(format!("{server}/postgres"))
            .await
            .unwrap();
        // One template build at a time across test processes.
        admin
            .execute_unprepared("SELECT pg_advisory_lock(727274)")
            .await
            .unwrap();
        let template = template_name();
        let exists = admin
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                format!("SELECT 1 FROM pg_database WHERE datname = '{template}'"),
            ))
            .await
            .unwrap()
            .is_some();
        if !exists {
            admin
                .execute_unprepared(&format!("CREATE DATABASE {template}"))
                .await
                .unwrap();
            let conn = Database::connect(format!("{server}/{template}"))
                .await
                .unwrap();
            schema::Migrator::up(&conn, None).await.unwrap();
            conn.close().await.unwrap();
        }
        let name = format!("storehub_test_{}", hex::encode(rand_bytes()));
        let created = admin
            .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await;
        admin
            .execute_unprepared("SELECT pg_advisory_unlock(727274)")
            .await
            .unwrap();
        created.unwrap();
        admin.close().await.unwrap();
        format!("{server}/{name}")
    } else {
        let dir = std::env::temp_dir().join("storehub-tests");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.db", hex::encode(rand_bytes())));
        format!("sqlite://{}?mode=rwc", path.display())
    }
}

fn rand_bytes() -> [u8; 8] {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let counter = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let digest = Sha256::digest(format!("{nanos}-{counter}-{}", std::process::id()));
    digest[..8].try_into().unwrap()
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Wednesday 2026-11-25 10:00 in Paris: the demo-like stores are open.
pub fn wednesday_morning() -> DateTime<Utc> {
    chrono_tz::Europe::Paris
        .with_ymd_and_hms(2026, 11, 25, 10, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// A running hub for one test.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub api_key: String,
    pub clock: TestClock,
    pub ctx: AppContext,
    pub database_url: String,
    running: Option<(Running, std::thread::JoinHandle<()>)>,
    /// What the hub was started with, for a restart.
    settings: Settings,
}

/// Starts the hub on port 0 with a new database. Call from `#[actix_web::test]`.
pub async fn spawn_app() -> TestApp {
    spawn_app_on(
        fresh_database_url().await,
        TestClock::new(wednesday_morning()),
    )
    .await
}

/// Starts the hub with some settings changed.
pub async fn spawn_app_with(change: impl FnOnce(&mut Settings) + Send + 'static) -> TestApp {
    let url = fresh_database_url().await;
    start(url, TestClock::new(wednesday_morning()), Box::new(change)).await
}

/// Starts a hub on a new database where PostgreSQL waits a minute before
/// it breaks a deadlock (it waits one second by default), so that a
/// deadlock shows as a test that hangs past its bound instead of as a
/// retry. On SQLite, one writer at a time: the same as [`spawn_app`].
pub async fn spawn_app_where_deadlocks_hang() -> TestApp {
    let url = fresh_database_url().await;
    if on_postgres() {
        let name = url.rsplit('/').next().unwrap().split('?').next().unwrap();
        Database::connect(&url)
            .await
            .unwrap()
            .execute_unprepared(&format!(
                "ALTER DATABASE \"{name}\" SET deadlock_timeout = '60s'"
            ))
            .await
            .unwrap();
    }
    spawn_app_on(url, TestClock::new(wednesday_morning())).await
}

/// Runs `race` on an app from [`spawn_app_where_deadlocks_hang`]: a
/// deadlock there lasts a minute, so work still running after 40 s fails
/// the test as one.
pub async fn without_deadlock<F: std::future::Future>(what: &str, race: F) -> F::Output {
    match tokio::time::timeout(std::time::Duration::from_secs(40), race).await {
        Ok(done) => done,
        Err(_) => panic!("{what} stopped moving: a deadlock"),
    }
}

/// Starts a hub on an existing database (a "restart").
pub async fn spawn_app_on(database_url: String, clock: TestClock) -> TestApp {
    start(database_url, clock, Box::new(|_| {})).await
}

type SettingsChange = Box<dyn FnOnce(&mut Settings) + Send>;

async fn start(database_url: String, clock: TestClock, change: SettingsChange) -> TestApp {
    if let Ok(level) = std::env::var("TEST_LOG") {
        hub::telemetry::init_tracing(&hub::config::LogSettings {
            level,
            format: "text".into(),
            sql: false,
        });
    }
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        public_url: String::new(),
        ..Settings::default()
    };
    settings.database.url = database_url.clone();
    settings.database.max_connections = 5;
    settings.http.workers = 1;
    change(&mut settings);
    let kept_settings = settings.clone();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let app_clock = clock.clone();
    // The hub runs in its own actix System on its own thread, so a test can
    // stop it whole (actors, timers, server) as a crash or restart would.
    let thread = std::thread::spawn(move || {
        let system = actix::System::new();
        system.block_on(async move {
            let started = async {
                let app = Application::build(settings, Arc::new(app_clock)).await?;
                let key = hub::services::api_keys::create(app.context(), "tests")
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                anyhow::Ok((app, key.key))
            }
            .await;
            match started {
                Ok((app, key)) => {
                    let running = Running {
                        port: app.port(),
                        ctx: app.context().clone(),
                        server: app.server_handle(),
                        system: actix::System::current(),
                        api_key: key,
                    };
                    actix::spawn(app.run_until_stopped());
                    let _ = started_tx.send(Ok(running));
                }
                Err(err) => {
                    let _ = started_tx.send(Err(format!("{err:#}")));
                }
            }
        });
        let _ = system.run();
    });
    let running = tokio::task::spawn_blocking(move || started_rx.recv())
        .await
        .unwrap()
        .expect("the hub thread answers")
        .expect("the hub starts");
    TestApp {
        address: format!("http://127.0.0.1:{}", running.port),
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .unwrap(),
        api_key: running.api_key.clone(),
        clock,
        ctx: running.ctx.clone(),
        database_url,
        running: Some((running, thread)),
        settings: kept_settings,
    }
}

/// What a test needs to stop a hub it started.
struct Running {
    port: u16,
    ctx: AppContext,
    server: actix_web::dev::ServerHandle,
    system: actix::System,
    api_key: String,
}

impl TestApp {
    /// Stops the hub like a crash would: server, actors and timers gone at once.
    pub async fn stop(&mut self) {
        if let Some((running, thread)) = self.running.take() {
            running.server.stop(false).await;
            running.system.stop();
            tokio::task::spawn_blocking(move || thread.join())
                .await
                .unwrap()
                .unwrap();
        }
    }

    /// Stops this hub and starts a new one on the same database, clock and settings.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let settings = self.settings.clone();
        start(
            self.database_url.clone(),
            self.clock.clone(),
            Box::new(move |s| *s = settings),
        )
        .await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((running, _thread)) = self.running.take() {
            // Best effort when a test ends without stopping: the thread exits with the system.
            running.system.stop();
        }
    }
}

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// The `error` code of an error answer.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
}

async fn read(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        text,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A request with the API key (or `token` when given), JSON body optional.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        read(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, Some(&self.api_key), None)
            .await
    }

    pub async fn get_anonymous(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, None, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(reqwest::Method::POST, path, Some(&self.api_key), Some(body))
            .await
    }

    pub async fn post_anonymous(&self, path: &str) -> Answer {
        self.send(reqwest::Method::POST, path, None, None).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Answer {
        self.send(reqwest::Method::PUT, path, Some(&self.api_key), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Answer {
        self.send(
            reqwest::Method::PATCH,
            path,
            Some(&self.api_key),
            Some(body),
        )
        .await
    }

    /// Creates a reservation, optionally with an Idempotency-Key.
    pub async fn reserve(&self, body: &Value, key: Option<&str>) -> Answer {
        let mut request = self
            .client
            .post(self.url("/api/v1/reservations"))
            .bearer_auth(&self.api_key)
            .json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        read(request.send().await.unwrap()).await
    }

    /// Creates a reservation that must be accepted; its number.
    pub async fn reserve_number(&self, body: &Value) -> String {
        let made = self.reserve(body, None).await;
        assert_eq!(made.status, 201, "{made:?}");
        made.body["number"].as_str().unwrap().to_string()
    }

    /// A store open Monday to Saturday 09:00-19:00 in Paris.
    pub async fn seed_store(&self, code: &str) {
        let week: serde_json::Map<String, Value> = ["mon", "tue", "wed", "thu", "fri", "sat"]
            .iter()
            .map(|d| ((*d).to_string(), json!([["09:00", "19:00"]])))
            .collect();
        let answer = self
            .put(
                &format!("/api/v1/stores/{code}"),
                &json!({
                    "name": format!("Store {code}"),
                    "email": format!("{}@shop.test", code.to_lowercase()),
                    "time_zone": "Europe/Paris",
                    "opening_hours": week,
                    "address": "1 rue de la Paix, Paris"
                }),
            )
            .await;
        assert!(answer.status == 201 || answer.status == 200, "{answer:?}");
    }

    pub async fn seed_article(&self, sku: &str, reservable: bool) {
        let answer = self
            .put(
                &format!("/api/v1/articles/{sku}"),
                &json!({"designation": format!("Article {sku}"), "variant": "Blue, M", "ean": "4006381333931", "reservable": reservable}),
            )
            .await;
        assert_eq!(answer.status, 200, "{answer:?}");
    }

    pub async fn set_stock(&self, store: &str, sku: &str, on_hand: i64) -> Answer {
        self.put(
            &format!("/api/v1/stores/{store}/stock"),
            &json!([{"sku": sku, "on_hand": on_hand}]),
        )
        .await
    }

    pub async fn settings(&self, patch: Value) {
        let answer = self.patch("/api/v1/settings", &patch).await;
        assert_eq!(answer.status, 200, "{answer:?}");
    }

    /// Store PAR01, article SKU1 with `on_hand` units, module on.
    pub async fn shop_with_stock(&self, on_hand: i64) {
        self.seed_store("PAR01").await;
        self.seed_article("SKU1", true).await;
        assert_eq!(self.set_stock("PAR01", "SKU1", on_hand).await.status, 200);
        self.settings(json!({"module_active": true})).await;
    }

    /// (on_hand, held, available) of one store and SKU.
    pub async fn stock_of(&self, store: &str, sku: &str) -> (i64, i64, i64) {
        let answer = self.get(&format!("/api/v1/stores/{store}/stock")).await;
        let line = answer
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["sku"] == sku)
            .cloned()
            .unwrap_or(json!({"on_hand": 0, "held": 0, "available": 0}));
        (
            line["on_hand"].as_i64().unwrap(),
            line["held"].as_i64().unwrap(),
            line["available"].as_i64().unwrap(),
        )
    }

    /// The database's own word on the invariant: for every stock row,
    /// `held` equals the units of open reservations, and on_hand >= held >= 0.
    pub async fn assert_stock_invariant(&self) {
        let sql = "SELECT s.store_id, s.article_id, s.on_hand, s.held, \
            CAST(COALESCE((SELECT SUM(l.quantity) FROM reservation_lines l \
              JOIN reservations r ON r.id = l.reservation_id \
              WHERE r.store_id = s.store_id AND l.article_id = s.article_id \
              AND r.state IN ('awaiting_validation','pending','set_aside')), 0) AS BIGINT) AS open_units \
            FROM stock_levels s";
        let rows = self
            .ctx
            .db
            .conn()
            .query_all_raw(sea_orm::Statement::from_string(
                self.ctx.db.backend(),
                sql.to_string(),
            ))
            .await
            .unwrap();
        for row in rows {
            let on_hand: i64 = row.try_get("", "on_hand").unwrap();
            let held: i64 = row.try_get("", "held").unwrap();
            let open_units: i64 = row.try_get("", "open_units").unwrap();
            assert!(
                held >= 0 && on_hand >= held,
                "on_hand {on_hand} held {held}"
            );
            assert_eq!(
                held, open_units,
                "held must equal the open reservations' units"
            );
        }
    }

    /// Moves the test clock and waits until every timer due by then fired.
    pub async fn advance_and_settle(&self, by: Duration) {
        self.clock.advance(by);
        self.settle().await;
    }

    /// Waits until every reservation actor has fired what is due now.
    pub async fn settle(&self) {
        let directory = self.ctx.directory.get().expect("actors run").clone();
        directory
            .send(hub::actors::directory::Settle)
            .await
            .unwrap();
    }

    /// Creates a staff account and signs it in; returns the token.
    pub async fn staff(&self, email: &str, role: &str, stores: &[&str]) -> String {
        let made = self
            .post(
                "/api/v1/staff",
                &json!({"email": email, "name": email.split('@').next().unwrap(), "password": STAFF_PASSWORD, "role": role, "stores": stores}),
            )
            .await;
        assert_eq!(made.status, 201, "{made:?}");
        self.login(email).await
    }

    pub async fn login(&self, email: &str) -> String {
        let answer = self
            .post_anonymous_json(
                "/api/v1/auth/login",
                &json!({"email": email, "password": STAFF_PASSWORD}),
            )
            .await;
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.body["token"].as_str().unwrap().to_string()
    }

    pub async fn post_anonymous_json(&self, path: &str, body: &Value) -> Answer {
        self.send(reqwest::Method::POST, path, None, Some(body))
            .await
    }

    /// A request with a staff token instead of the API key.
    pub async fn as_staff(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Answer {
        self.send(method, path, Some(token), body).await
    }

    /// Puts a staff member on a store's alert list with these channels.
    pub async fn join_alert_list(&self, token: &str, store: &str, channels: &[&str]) {
        let path = format!("/api/v1/stores/{store}/alert-list/me");
        let body = json!({ "channels": channels });
        let answer = self
            .as_staff(token, reqwest::Method::PUT, &path, Some(&body))
            .await;
        assert_eq!(answer.status, 200, "{answer:?}");
    }

    /// Opens the staff WebSocket with a token in the URL.
    pub async fn websocket(&self, token: &str) -> WsClient {
        self.websocket_with_buffer(token, 0).await
    }

    /// Opens the staff WebSocket on a socket with a small receive buffer
    /// (`bytes` > 0), like a phone on a slow network.
    pub async fn websocket_with_buffer(&self, token: &str, bytes: u32) -> WsClient {
        let url = format!(
            "{}/api/v1/ws?token={token}",
            self.address.replace("http://", "ws://")
        );
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        if bytes > 0 {
            socket.set_recv_buffer_size(bytes).unwrap();
        }
        let address = self.address.trim_start_matches("http://").parse().unwrap();
        let tcp = socket.connect(address).await.unwrap();
        let plain = tokio_tungstenite::MaybeTlsStream::Plain(tcp);
        let (stream, _) = tokio_tungstenite::client_async(url, plain).await.unwrap();
        let mut client = WsClient { stream };
        let hello = client.next_json().await;
        assert_eq!(hello["type"], "hello", "{hello}");
        client
    }

    /// The hub's current time (the test clock).
    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use hub::clock::Clock;
        self.clock.now()
    }

    /// Counts rows of a table.
    pub async fn count(&self, table: &str) -> i64 {
        let row = self
            .ctx
            .db
            .conn()
            .query_one_raw(sea_orm::Statement::from_string(
                self.ctx.db.backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "n").unwrap()
    }
}

/// A reservation body for one line.
pub fn reservation_body(store: &str, sku: &str, quantity: i64, customer: Value) -> Value {
    json!({
        "store": store,
        "customer": customer,
        "lines": [{"sku": sku, "quantity": quantity}],
        "accept_terms": true
    })
}

/// An identified shopper (no validation step).
pub fn identified(id: &str) -> Value {
    json!({
        "first_name": "Marie",
        "last_name": "Curie",
        "email": format!("{id}@example.fr"),
        "identified": true,
        "external_id": id
    })
}

/// An anonymous shopper.
pub fn anonymous(email: &str) -> Value {
    json!({"first_name": "Paul", "email": email})
}

/// The password of every staff account the tests make.
pub const STAFF_PASSWORD: &str = "correct horse battery";

/// A WebSocket client speaking JSON text frames.
pub struct WsClient {
    pub stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl WsClient {
    pub async fn send_json(&mut self, value: &Value) {
        use futures_util::SinkExt;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::text(
                value.to_string(),
            ))
            .await
            .unwrap();
    }

    /// The next JSON frame, skipping pings; panics after 5 s.
    pub async fn next_json(&mut self) -> Value {
        self.try_next_json(std::time::Duration::from_secs(5))
            .await
            .expect("a frame within 5 s")
    }

    /// The next JSON frame, or None after `wait` or when the socket closes.
    pub async fn try_next_json(&mut self, wait: std::time::Duration) -> Option<Value> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            match next.ok()? {
                Message::Text(text) => return serde_json::from_str(text.as_str()).ok(),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// The close frame's reason, waiting up to 5 s.
    pub async fn close_reason(&mut self) -> Option<String> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??
            {
                Ok(Message::Close(Some(frame))) => return Some(frame.reason.to_string()),
                Ok(Message::Close(None)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Subscribes and collects frames until every store said `subscribed`.
    pub async fn subscribe(&mut self, stores: Value) -> Vec<Value> {
        let expected = stores.as_object().unwrap().len();
        self.send_json(&json!({"type": "subscribe", "stores": stores}))
            .await;
        let mut frames = Vec::new();
        let mut done = 0;
        while done < expected {
            let frame = self.next_json().await;
            if frame["type"] == "subscribed"
                || (frame["type"] == "error" && frame["store"].is_string())
            {
                done += 1;
            }
            frames.push(frame);
        }
        frames
    }
}
