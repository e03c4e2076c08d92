//! What every handler and actor can reach: database, clock, links, metrics.

use std::sync::{Arc, OnceLock};

use actix::Addr;
use schema::entities::{reservation, reservation_event};

use crate::actors::directory::Directory;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::clock::SharedClock;
use crate::db::Db;
use crate::services::board::BoardItem;

/// Shared application state, cheap to clone.
#[derive(Clone)]
pub struct AppContext {
    pub db: Db,
    pub clock: SharedClock,
    /// Base of links sent to people, without a trailing slash.
    pub public_url: Arc<str>,
    pub metrics: PrometheusHandle,
    pub realtime: crate::config::RealtimeSettings,
    /// Wakes the outbox worker when new messages are committed.
    pub delivery_wake: Arc<tokio::sync::Notify>,
    /// Signs the action links of emails and push buttons.
    pub links: crate::notify::links::LinkSigner,
    /// The Web Push public key browsers subscribe with, when Web Push is on.
    pub vapid_public_key: Option<Arc<str>>,
    /// The actor directory: committed events go live through it (store
    /// fan-out, reservation timers). Set once the actors run.
    pub directory: Arc<OnceLock<Addr<Directory>>>,
    /// Bounds the WebSocket subscriptions reading their catch-up at once, so
    /// a reconnect storm queues here instead of holding half-built queries
    /// in memory (each one kilobytes) while it waits for a connection.
    pub catch_up_gate: Arc<tokio::sync::Semaphore>,
    /// Stores, settings and articles as creates read them ahead.
    pub catalogue: Arc<crate::catalogue_cache::CatalogueCache>,
}

/// A committed event, with its reservation as that commit left it when the
/// publisher has the rows at hand: the live side then builds the frame and
/// schedules the timer without reading them back.
#[derive(Debug, Clone)]
pub struct Published {
    pub event: reservation_event::Model,
    pub after: Option<Arc<AfterCommit>>,
}

/// A reservation as one commit left it.
#[derive(Debug)]
pub struct AfterCommit {
    pub row: reservation::Model,
    pub item: BoardItem,
}

impl From<reservation_event::Model> for Published {
    fn from(event: reservation_event::Model) -> Self {
        Self { event, after: None }
    }
}

/// Events a transaction committed, in the order it appended them.
#[derive(actix::Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct Committed {
    pub events: Vec<Published>,
    /// Fired by the timers: the reservation actors learn their new row from
    /// the firing queue's answer, so they need no refresh.
    pub by_timers: bool,
}

impl AppContext {
    /// One catch-up per database connection at a time.
    pub fn catch_up_gate(max_connections: u32) -> Arc<tokio::sync::Semaphore> {
        Arc::new(tokio::sync::Semaphore::new(max_connections.max(1) as usize))
    }

    pub fn catalogue_cache(
        database: &crate::config::DatabaseSettings,
    ) -> Arc<crate::catalogue_cache::CatalogueCache> {
        Arc::new(crate::catalogue_cache::CatalogueCache::new(
            std::time::Duration::from_secs(database.read_cache_secs),
        ))
    }

    /// Tells the live side about committed events. Call after `commit`.
    pub fn publish(&self, events: Vec<reservation_event::Model>) {
        self.publish_from(events.into_iter().map(Published::from).collect(), false);
    }

    /// `publish` for the events of one reservation that the publisher holds
    /// as their commit left it.
    pub fn publish_with_row(&self, events: Vec<reservation_event::Model>, after: AfterCommit) {
        let after = Arc::new(after);
        let published = events
            .into_iter()
            .map(|event| Published {
                // Another reservation's event (none today) is read as usual.
                after: (event.reservation_id == after.row.id).then(|| after.clone()),
                event,
            })
            .collect();
        self.publish_from(published, false);
    }

    /// `publish` for the events the timers fired.
    pub fn publish_fired(&self, events: Vec<Published>) {
        self.publish_from(events, true);
    }

    fn publish_from(&self, events: Vec<Published>, by_timers: bool) {
        if events.is_empty() {
            return;
        }
        self.delivery_wake.notify_one();
        if let Some(directory) = self.directory.get() {
            directory.do_send(Committed { events, by_timers });
        }
    }

    pub fn tracking_url(&self, token: &str) -> String {
        format!("{}/t/{token}", self.public_url)
    }

    /// A signed link that lets `staff_id` (0: the store mailbox) do `action`
    /// on a reservation for the next three days.
    pub fn action_url(&self, number: &str, action: &str, staff_id: i64) -> String {
        let claims = crate::notify::links::LinkClaims {
            r: number.to_string(),
            a: action.to_string(),
            s: staff_id,
            e: (self.clock.now() + chrono::Duration::days(3)).timestamp(),
        };
        format!("{}/a/{}", self.public_url, self.links.sign(&claims))
    }

    /// A link to the printable preparation slip, valid three days.
    pub fn slip_url(&self, number: &str) -> String {
        let claims = crate::notify::links::LinkClaims {
            r: number.to_string(),
            a: "slip".into(),
            s: 0,
            e: (self.clock.now() + chrono::Duration::days(3)).timestamp(),
        };
        format!("{}/slip/{}", self.public_url, self.links.sign(&claims))
    }

    pub fn validation_url(&self, token: &str) -> String {
        format!("{}/r/validate/{token}", self.public_url)
    }
}
