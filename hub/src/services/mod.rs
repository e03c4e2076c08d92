//! Use cases. Each opens a transaction, asks `domain` what is allowed, writes
//! through `store` (state, event and outbox rows together) and commits.

pub mod alert_lists;
pub mod api_keys;
pub mod board;
pub mod catalogue;
pub mod devices;
pub mod handling;
pub mod load;
pub mod notifications;
pub mod reservations;
pub mod settings;
pub mod staff;
pub mod stock;
pub mod timers;
pub mod tracking;

use std::future::Future;

use schema::entities::store;

use crate::domain::opening_hours::{OpeningHours, WeeklyJson};
use crate::error::ApiError;

/// Runs a write transaction again when PostgreSQL aborted it to break a
/// deadlock (at most three attempts). Stock rows are taken in article id
/// order, but a timer batch ending several reservations, or a hand-over
/// adding articles, can still meet another writer the other way round.
pub async fn retrying_lock_conflicts<T, F, Fut>(mut attempt: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut attempts = 1;
    loop {
        match attempt().await {
            Err(err) if err.is_lock_conflict() && attempts < 3 => {
                metrics::counter!("storehub_lock_conflicts_total").increment(1);
                tracing::info!(attempts, "deadlock broken by the database; running again");
                attempts += 1;
            }
            other => return other,
        }
    }
}

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

/// A signed-in staff member, as the API sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffIdentity {
    pub id: i64,
    pub name: String,
    pub role: staff::Role,
    /// Stores they belong to (managers: the stores they manage).
    pub store_ids: Vec<i64>,
}

/// Who is calling the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A web shop or till, with an API key; acts as admin.
    Integration { key_id: i64, name: String },
    /// A person signed in to the staff app.
    Staff(StaffIdentity),
}

impl Caller {
    /// Idempotency keys are unique per caller, not globally.
    pub fn scope(&self) -> String {
        match self {
            Caller::Integration { key_id, .. } => format!("key:{key_id}"),
            Caller::Staff(staff) => format!("staff:{}", staff.id),
        }
    }

    pub fn event_actor(&self) -> crate::store::events::EventActor {
        match self {
            Caller::Integration { key_id, name } => crate::store::events::EventActor {
                kind: "integration",
                id: Some(key_id.to_string()),
                name: Some(name.clone()),
            },
            Caller::Staff(staff) => crate::store::events::EventActor {
                kind: "staff",
                id: Some(staff.id.to_string()),
                name: Some(staff.name.clone()),
            },
        }
    }

    /// Where a reservation came from, as recorded on it.
    pub fn source(&self) -> &'static str {
        match self {
            Caller::Integration { .. } => "integration",
            Caller::Staff(_) => "staff",
        }
    }

    /// Catalogue, stock, settings and keys: integrations and admins.
    pub fn is_admin(&self) -> bool {
        match self {
            Caller::Integration { .. } => true,
            Caller::Staff(staff) => staff.role == staff::Role::Admin,
        }
    }

    /// Whether the caller may act on reservations of this store.
    pub fn can_act_on(&self, store_id: i64) -> bool {
        self.is_admin()
            || matches!(self, Caller::Staff(staff) if staff.store_ids.contains(&store_id))
    }

    /// Refuses callers that are not admins.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                code: "admin_only",
                message: "Only an admin or an integration key may do this.".into(),
            })
        }
    }

    /// Refuses callers that do not belong to the store.
    pub fn require_store(&self, store_id: i64, store_code: &str) -> Result<(), ApiError> {
        if self.can_act_on(store_id) {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                code: "not_your_store",
                message: format!("You are not a member of store `{store_code}`."),
            })
        }
    }
}
