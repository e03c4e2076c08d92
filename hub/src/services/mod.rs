//! Use cases. Each opens a transaction, asks `domain` what is allowed, writes
//! through `store` (state, event and outbox rows together) and commits.

pub mod api_keys;
pub mod catalogue;
pub mod deadlines;
pub mod reservations;
pub mod settings;
pub mod stock;
pub mod tracking;

use schema::entities::store;

use crate::domain::opening_hours::{OpeningHours, WeeklyJson};
use crate::error::ApiError;

/// The stored timetable of a store. Stored rows were validated on save.
pub fn opening_hours_of(store: &store::Model) -> Result<OpeningHours, ApiError> {
    let weekly: WeeklyJson = serde_json::from_str(&store.opening_hours)
        .map_err(|e| anyhow::anyhow!("store {} opening hours: {e}", store.code))?;
    let closed: Vec<String> = serde_json::from_str(&store.closed_dates)
        .map_err(|e| anyhow::anyhow!("store {} closed dates: {e}", store.code))?;
    OpeningHours::parse(&store.time_zone, &weekly, &closed)
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("store {}: {e}", store.code)))
}

pub fn unknown_store(code: &str) -> ApiError {
    ApiError::not_found(
        "unknown_store",
        format!("There is no store with code `{code}`."),
    )
}

/// Who is calling the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A web shop or till, with an API key.
    Integration { key_id: i64, name: String },
}

impl Caller {
    /// Idempotency keys are unique per caller, not globally.
    pub fn scope(&self) -> String {
        match self {
            Caller::Integration { key_id, .. } => format!("key:{key_id}"),
        }
    }

    pub fn event_actor(&self) -> crate::store::events::EventActor {
        match self {
            Caller::Integration { name, .. } => crate::store::events::EventActor {
                kind: "integration",
                id: Some(name.clone()),
            },
        }
    }

    /// Where a reservation came from, as recorded on it.
    pub fn source(&self) -> &'static str {
        match self {
            Caller::Integration { .. } => "integration",
        }
    }
}
