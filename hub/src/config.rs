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
}

#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    /// `tracing` filter, e.g. `info` or `hub=debug,info`; `RUST_LOG` wins when set.
    pub level: String,
    /// `text` for people, `json` for log shippers.
    pub format: String,
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
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://storehub.db?mode=rwc".into(),
            max_connections: 10,
            migrate_on_start: true,
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: "text".into(),
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            workers: 0,
            socket_send_buffer_bytes: 0,
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
