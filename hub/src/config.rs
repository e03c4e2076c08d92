//! Process settings: an optional TOML file, then `STOREHUB_*` environment
//! variables (`__` separates levels: `STOREHUB_DATABASE__URL`). Every setting
//! has a default, so `storehub serve` runs with none. Business settings
//! (limits, deadlines, opening hours) are database rows, not here.

use std::fmt;
use std::path::Path;

use serde::Deserialize;

/// Everything the process needs to start.
#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Address the HTTP server listens on.
    pub bind: String,
    /// Base URL of every link sent to shoppers and staff (tracking, validation).
    pub public_url: String,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub http: HttpSettings,
    pub realtime: RealtimeSettings,
    pub email: EmailSettings,
    pub push: PushSettings,
    pub fcm: FcmSettings,
    pub delivery: DeliverySettings,
}

#[derive(Clone, Deserialize, Default)]
#[serde(default)]
pub struct EmailSettings {
    /// lettre SMTP URL, e.g. `smtp://127.0.0.1:2525` or
    /// `smtps://user:pass@mail.example.com`; unset = no email (warned at start).
    pub smtp_url: Option<String>,
    /// Sender address of every message.
    pub from: String,
}

#[derive(Clone, Deserialize, Default)]
#[serde(default)]
pub struct PushSettings {
    /// VAPID private key, base64url (`storehub vapid-keys` makes one); unset = no Web Push.
    pub vapid_private_key: Option<String>,
    /// Contact push services may use: `mailto:ops@example.com`.
    pub vapid_subject: String,
}

#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct FcmSettings {
    /// Service-account JSON file; unset = no FCM.
    pub credentials_file: Option<String>,
    /// FCM API base (a local fake in tests).
    pub base_url: String,
    /// OAuth token endpoint; default: the one in the credentials file.
    pub token_uri: Option<String>,
}

#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct DeliverySettings {
    /// Attempts before a message is marked failed.
    pub max_attempts: i32,
    /// First retry delay in seconds; doubles each attempt, with jitter.
    pub base_backoff_secs: u64,
    /// Longest delay between attempts, in seconds.
    pub max_backoff_secs: u64,
    /// Messages sent at once.
    pub concurrency: usize,
    /// Most messages claimed in one write. More than `concurrency` wait in
    /// due order for a free slot; one that waits past half its lease is
    /// given back. A burst of alerts then takes a write per batch, not per
    /// free slot. 1 to 10,000.
    pub claim_batch: usize,
    /// Seconds a claimed message stays reserved for its worker; after a
    /// crash it is picked up again once this passes.
    pub lease_secs: u64,
    /// How often the worker looks for due messages, in milliseconds.
    pub poll_ms: u64,
}

#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// `sqlite://path?mode=rwc` (default, created on first run) or `postgres://...`.
    pub url: String,
    /// Connection pool size. SQLite writes are serialised by the hub anyway.
    pub max_connections: u32,
    /// Run pending migrations at start (`storehub migrate` does it on demand).
    pub migrate_on_start: bool,
    /// Keep SQLite's writer thread and its connection's worker thread on one
    /// core: each statement of a write is a round trip between the two, and
    /// a wake-up across cores costs more (most on virtual machines).
    pub pin_sqlite_writer: bool,
    /// How long creates and alerts may reuse the store, settings, articles,
    /// team and API key they read (changes through the hub apply at once;
    /// 0 reads them every time).
    pub read_cache_secs: u64,
}

#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    /// `tracing` filter, e.g. `info` or `hub=debug,info`; `RUST_LOG` wins when set.
    pub level: String,
    /// `text` for people, `json` for log shippers.
    pub format: String,
    /// Log every SQL statement (target `sqlx::query`, level info): for
    /// counting what a request costs; off in production.
    pub sql: bool,
}

#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct HttpSettings {
    /// Largest accepted JSON body, in bytes.
    pub max_body_bytes: usize,
    /// Worker threads of the HTTP server (0 = one per core).
    pub workers: usize,
    /// Kernel send buffer per connection in bytes (0 = the system's
    /// self-tuning default). Small values cap memory per idle WebSocket and
    /// make a stalled client's backlog reach the hub's own bounded queue.
    pub socket_send_buffer_bytes: usize,
    /// Response bytes the HTTP/1 layer gathers before it waits for the
    /// socket (at least 1024); actix-web's own default is 32 KiB. WebSockets
    /// do not go through it: they write their own batches.
    pub write_buffer_bytes: usize,
    /// Connections the kernel may hold for the hub before it accepts them
    /// (capped by `net.core.somaxconn`). A restart brings every phone back
    /// at once; a short queue drops their connection requests, and each
    /// dropped one waits out TCP's retry (1 s, then 3 s, then 7 s).
    pub listen_backlog: u32,
}

#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct RealtimeSettings {
    /// Frames a staff WebSocket may have waiting; a client further behind is
    /// disconnected (it catches up by sequence number when it reconnects).
    pub queue_frames: usize,
    /// Seconds between pings to each staff WebSocket.
    pub heartbeat_secs: u64,
    /// Seconds without any message from a client before it is dropped.
    pub client_timeout_secs: u64,
    /// Most missed events replayed on resubscribe; further behind gets a snapshot.
    pub replay_limit: u64,
    /// Largest message a client may send, in bytes.
    pub max_frame_bytes: usize,
    /// Turns on `POST /api/v1/load/fan-out` (admin only), which sends
    /// synthetic frames through every store's fan-out for load tests.
    pub load_generator: bool,
}

impl RealtimeSettings {
    /// How long a client may stay silent, or leave our writes untaken.
    pub fn client_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.client_timeout_secs.max(2))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            public_url: "http://127.0.0.1:8080".into(),
            database: DatabaseSettings::default(),
            log: LogSettings::default(),
            http: HttpSettings::default(),
            realtime: RealtimeSettings::default(),
            email: EmailSettings {
                smtp_url: None,
                from: "Storehub <no-reply@storehub.invalid>".into(),
            },
            push: PushSettings {
                vapid_private_key: None,
                vapid_subject: "mailto:ops@storehub.invalid".into(),
            },
            fcm: FcmSettings::default(),
            delivery: DeliverySettings::default(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://storehub.db?mode=rwc".into(),
            max_connections: 10,
            migrate_on_start: true,
            pin_sqlite_writer: true,
            read_cache_secs: 10,
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: "text".into(),
            sql: false,
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            workers: 0,
            socket_send_buffer_bytes: 0,
            write_buffer_bytes: 8 * 1024,
            listen_backlog: 4096,
        }
    }
}

impl Default for FcmSettings {
    fn default() -> Self {
        Self {
            credentials_file: None,
            base_url: "https://fcm.googleapis.com".into(),
            token_uri: None,
        }
    }
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_backoff_secs: 5,
            max_backoff_secs: 3600,
            concurrency: 16,
            claim_batch: 128,
            lease_secs: 60,
            poll_ms: 250,
        }
    }
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self {
            queue_frames: 256,
            heartbeat_secs: 15,
            client_timeout_secs: 45,
            replay_limit: 1000,
            max_frame_bytes: 4096,
            load_generator: false,
        }
    }
}

impl Settings {
    /// Reads the optional file, then the environment over it.
    pub fn load(file: Option<&Path>) -> Result<Self, config::ConfigError> {
        let mut builder = config::Config::builder();
        if let Some(path) = file {
            builder = builder.add_source(config::File::from(path).required(true));
        }
        builder
            .add_source(
                config::Environment::with_prefix("STOREHUB")
                    .prefix_separator("_")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()?
            .try_deserialize()
    }
}

/// Hides the password of a database URL.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("migrate_on_start", &self.migrate_on_start)
            .field("read_cache_secs", &self.read_cache_secs)
            .finish()
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field("database", &self.database)
            .field("log.level", &self.log.level)
            .field("http.max_body_bytes", &self.http.max_body_bytes)
            .field("realtime.queue_frames", &self.realtime.queue_frames)
            .field(
                "email.smtp_url",
                &self.email.smtp_url.as_deref().map(redact_url),
            )
            .field(
                "push.vapid_private_key",
                &self.push.vapid_private_key.as_ref().map(|_| "***"),
            )
            .field("fcm.credentials_file", &self.fcm.credentials_file)
            .field("fcm.base_url", &self.fcm.base_url)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_password_is_redacted() {
        assert_eq!(
            redact_url("postgres://app:secret@db:5432/storehub"),
            "postgres://app:***@db:5432/storehub"
        );
        assert_eq!(
            redact_url("sqlite://storehub.db?mode=rwc"),
            "sqlite://storehub.db?mode=rwc"
        );
    }
}
