//! The fan-out load generator behind `POST /api/v1/load/fan-out` (off
//! unless `realtime.load_generator` is set). It offers synthetic frames to
//! every running store actor on a fixed schedule, so a benchmark measures
//! the hub's fan-out (store actor -> session tasks -> sockets) at a chosen
//! rate without the database in the loop. Each frame carries its scheduled
//! send time, and clients measure latency from it.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::actors::directory::RunningStores;
use crate::actors::store::LoadFrame;
use crate::context::AppContext;
use crate::error::ApiError;

/// Most events per second and seconds one run may ask for.
const MAX_RATE: u32 = 1_000_000;
const MAX_SECONDS: u32 = 600;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FanOutLoad {
    /// Events per second across all stores (each reaches every session of
    /// its store).
    pub events_per_sec: u32,
    pub seconds: u32,
    /// Each frame is padded to this size (default 512 bytes, about an
    /// event frame with one article).
    #[serde(default = "typical_frame_bytes")]
    pub frame_bytes: usize,
}

fn typical_frame_bytes() -> usize {
    512
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FanOutReport {
    pub stores: usize,
    pub events: u64,
    /// How far behind its schedule the generator fell at worst, in µs.
    pub max_send_lag_us: u64,
}

/// Runs one load phase to its end.
pub async fn fan_out(app: &AppContext, load: FanOutLoad) -> Result<FanOutReport, ApiError> {
    if !app.realtime.load_generator {
        return Err(ApiError::Forbidden {
            code: "load_generator_off",
            message: "The load generator is off; start the hub with STOREHUB_REALTIME__LOAD_GENERATOR=true.".into(),
        });
    }
    if load.events_per_sec == 0 || load.events_per_sec > MAX_RATE {
        return Err(ApiError::Invalid {
            code: "invalid_rate",
            message: format!("events_per_sec must be between 1 and {MAX_RATE}."),
        });
    }
    if load.frame_bytes > 65_536 {
        return Err(ApiError::Invalid {
            code: "invalid_frame_bytes",
            message: "frame_bytes must be at most 65536.".into(),
        });
    }
    if load.seconds == 0 || load.seconds > MAX_SECONDS {
        return Err(ApiError::Invalid {
            code: "invalid_duration",
            message: format!("seconds must be between 1 and {MAX_SECONDS}."),
        });
    }
    let directory = app
        .directory
        .get()
        .ok_or_else(|| anyhow::anyhow!("the actors are not running"))?;
    let stores = directory
        .send(RunningStores)
        .await
        .map_err(|err| anyhow::anyhow!("directory: {err}"))?;
    if stores.is_empty() {
        return Err(ApiError::Conflict {
            code: "no_store_running",
            message: "No store has a subscriber yet; connect and subscribe first.".into(),
        });
    }
    let events = u64::from(load.events_per_sec) * u64::from(load.seconds);
    let interval_ns = 1_000_000_000 / u64::from(load.events_per_sec);
    let start = tokio::time::Instant::now() + Duration::from_millis(5);
    let start_us = (chrono::Utc::now() + chrono::Duration::milliseconds(5)).timestamp_micros();
    let mut max_lag = Duration::ZERO;
    for n in 0..events {
        let offset = Duration::from_nanos(n * interval_ns);
        let due = start + offset;
        let now = tokio::time::Instant::now();
        if due > now {
            tokio::time::sleep_until(due).await;
        } else {
            max_lag = max_lag.max(now - due);
        }
        let store = &stores[(n % stores.len() as u64) as usize];
        store.do_send(LoadFrame {
            n,
            scheduled_us: start_us + offset.as_micros() as i64,
            frame_bytes: load.frame_bytes,
        });
    }
    Ok(FanOutReport {
        stores: stores.len(),
        events,
        max_send_lag_us: max_lag.as_micros() as u64,
    })
}
