//! Stores, their settings and articles, as a create reads them ahead of its
//! transaction, each store's team (its alert list and its members, who
//! hear the alerts) and the integration keys requests present, kept in
//! memory for a short while.
//!
//! A create would otherwise read them on every request, while they change
//! rarely. Every change the hub makes to them clears the cache once it
//! has committed (see [`CatalogueCache::changed`]). A change made around
//! the hub (SQL by hand, a second hub on the same database) shows within
//! `database.read_cache_secs`. Nothing that moves with each reservation
//! (stock, customers, event numbers) is kept here.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use schema::entities::{alert_subscription, api_key, article, staff, store};

use crate::domain::settings::BusinessSettings;

/// At most this many rows of each kind are kept, so a catalogue of any size
/// costs a bounded amount of memory.
const MAX_ROWS: usize = 20_000;

/// A store as a create needs it.
#[derive(Debug)]
pub struct StoreAhead {
    pub store: store::Model,
    pub settings: BusinessSettings,
}

/// A store's team as alerts are addressed from it: the alert list with
/// each subscriber, and the store's active members. Who is in quiet hours
/// is worked out from these at each use.
#[derive(Debug, Default)]
pub struct TeamAhead {
    pub list: Vec<(alert_subscription::Model, staff::Model)>,
    pub members: Vec<staff::Model>,
}

/// Taken before reading from the database: what was read may be kept only
/// if nothing changed meanwhile, and only for the time-to-live from here.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    generation: u64,
    taken_at: Instant,
}

struct Kept<V> {
    generation: u64,
    read_at: Instant,
    value: V,
}

/// One kind of row, by its key.
struct Shelf<V> {
    rows: Mutex<HashMap<String, Kept<V>>>,
    capacity: usize,
}

impl<V: Clone> Shelf<V> {
    fn new(capacity: usize) -> Self {
        Self {
            rows: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    fn get(&self, key: &str, generation: u64, ttl: Duration) -> Option<V> {
        let rows = self.rows.lock().unwrap_or_else(|p| p.into_inner());
        rows.get(key)
            .filter(|kept| kept.generation == generation && kept.read_at.elapsed() < ttl)
            .map(|kept| kept.value.clone())
    }

    fn put(&self, ticket: Ticket, entries: impl IntoIterator<Item = (String, V)>, ttl: Duration) {
        let mut rows = self.rows.lock().unwrap_or_else(|p| p.into_inner());
        for (key, value) in entries {
            if rows.len() >= self.capacity && !rows.contains_key(&key) {
                rows.retain(|_, kept| {
                    kept.generation == ticket.generation && kept.read_at.elapsed() < ttl
                });
                // Still full of live rows: start again rather than look
                // for the oldest on every insert.
                if rows.len() >= self.capacity {
                    rows.clear();
                }
            }
            rows.insert(
                key,
                Kept {
                    generation: ticket.generation,
                    read_at: ticket.taken_at,
                    value,
                },
            );
        }
    }

    fn clear(&self) {
        self.rows.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

pub struct CatalogueCache {
    ttl: Duration,
    generation: AtomicU64,
    stores: Shelf<Arc<StoreAhead>>,
    articles: Shelf<article::Model>,
    teams: Shelf<Arc<TeamAhead>>,
    /// Valid keys only, by digest: an unknown key is read every time.
    api_keys: Shelf<api_key::Model>,
}

impl CatalogueCache {
    /// A `ttl` of zero keeps nothing: every create reads the database.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            stores: Shelf::new(MAX_ROWS),
            articles: Shelf::new(MAX_ROWS),
            teams: Shelf::new(MAX_ROWS),
            api_keys: Shelf::new(MAX_ROWS),
        }
    }

    fn current(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Take it before reading what you will [`keep_store`](Self::keep_store)
    /// or [`keep_articles`](Self::keep_articles).
    pub fn ticket(&self) -> Ticket {
        Ticket {
            generation: self.current(),
            taken_at: Instant::now(),
        }
    }

    /// A change to stores, settings, articles, staff accounts, alert lists
    /// or API keys has committed: nothing read before it may be used again.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.stores.clear();
        self.articles.clear();
        self.teams.clear();
        self.api_keys.clear();
    }

    pub fn api_key(&self, digest: &str) -> Option<api_key::Model> {
        self.api_keys.get(digest, self.current(), self.ttl)
    }

    pub fn keep_api_key(&self, ticket: Ticket, digest: &str, key: api_key::Model) {
        if self.keeps(ticket) {
            self.api_keys
                .put(ticket, [(digest.to_string(), key)], self.ttl);
        }
    }

    pub fn team(&self, store_id: i64) -> Option<Arc<TeamAhead>> {
        self.teams
            .get(&store_id.to_string(), self.current(), self.ttl)
    }

    pub fn keep_team(&self, ticket: Ticket, store_id: i64, team: Arc<TeamAhead>) {
        if self.keeps(ticket) {
            self.teams
                .put(ticket, [(store_id.to_string(), team)], self.ttl);
        }
    }

    pub fn store(&self, code: &str) -> Option<Arc<StoreAhead>> {
        self.stores.get(code, self.current(), self.ttl)
    }

    pub fn keep_store(&self, ticket: Ticket, code: &str, found: Arc<StoreAhead>) {
        if self.keeps(ticket) {
            self.stores
                .put(ticket, [(code.to_string(), found)], self.ttl);
        }
    }

    /// The articles kept for `skus`, and the skus to read.
    pub fn articles(&self, skus: &[String]) -> (Vec<article::Model>, Vec<String>) {
        let generation = self.current();
        let mut found = Vec::with_capacity(skus.len());
        let mut missing = Vec::new();
        for sku in skus {
            match self.articles.get(sku, generation, self.ttl) {
                Some(article) => found.push(article),
                None => missing.push(sku.clone()),
            }
        }
        (found, missing)
    }

    pub fn keep_articles(&self, ticket: Ticket, read: &[article::Model]) {
        if self.keeps(ticket) {
            let entries = read.iter().map(|a| (a.sku.clone(), a.clone()));
            self.articles.put(ticket, entries, self.ttl);
        }
    }

    /// What was read since `ticket` is worth keeping: the cache is on and
    /// nothing changed since the ticket was taken.
    fn keeps(&self, ticket: Ticket) -> bool {
        !self.ttl.is_zero() && ticket.generation == self.current()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(id: i64, sku: &str, reservable: bool) -> article::Model {
        article::Model {
            id,
            sku: sku.to_string(),
            designation: format!("Article {sku}"),
            variant: None,
            ean: None,
            reservable,
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn kept_articles_are_served_until_a_change() {
        let cache = CatalogueCache::new(Duration::from_secs(60));
        let ticket = cache.ticket();
        cache.keep_articles(ticket, &[article(1, "A", true)]);
        let (found, missing) = cache.articles(&["A".into(), "B".into()]);
        assert_eq!(found.iter().map(|a| a.id).collect::<Vec<_>>(), [1]);
        assert_eq!(missing, ["B"]);

        cache.changed();
        let (found, missing) = cache.articles(&["A".into()]);
        assert!(found.is_empty());
        assert_eq!(missing, ["A"]);
    }

    #[test]
    fn a_kept_team_is_served_until_a_change() {
        let cache = CatalogueCache::new(Duration::from_secs(60));
        assert!(cache.team(7).is_none());
        cache.keep_team(cache.ticket(), 7, Arc::new(TeamAhead::default()));
        assert!(cache.team(7).is_some());
        assert!(cache.team(8).is_none());

        cache.changed();
        assert!(cache.team(7).is_none());
    }

    #[test]
    fn a_read_that_a_change_overtook_is_not_kept() {
        let cache = CatalogueCache::new(Duration::from_secs(60));
        // The read starts, a change commits, then the read comes back with
        // what may be the row from before the change.
        let ticket = cache.ticket();
        cache.changed();
        cache.keep_articles(ticket, &[article(1, "A", true)]);
        assert!(cache.articles(&["A".into()]).0.is_empty());
    }

    #[test]
    fn rows_expire_after_the_time_to_live_and_zero_keeps_nothing() {
        let cache = CatalogueCache::new(Duration::from_millis(20));
        cache.keep_articles(cache.ticket(), &[article(1, "A", true)]);
        assert_eq!(cache.articles(&["A".into()]).0.len(), 1);
        std::thread::sleep(Duration::from_millis(30));
        assert!(cache.articles(&["A".into()]).0.is_empty());

        let off = CatalogueCache::new(Duration::ZERO);
        off.keep_articles(off.ticket(), &[article(1, "A", true)]);
        assert!(off.articles(&["A".into()]).0.is_empty());
    }

    #[test]
    fn a_full_shelf_drops_expired_rows_first_then_starts_again() {
        let shelf = Shelf::new(2);
        let ttl = Duration::from_secs(60);
        let ticket = |age: Duration| Ticket {
            generation: 0,
            taken_at: Instant::now() - age,
        };
        shelf.put(
            ticket(Duration::from_secs(120)),
            [("expired".into(), 1)],
            ttl,
        );
        shelf.put(ticket(Duration::ZERO), [("live".into(), 2)], ttl);
        shelf.put(ticket(Duration::ZERO), [("new".into(), 3)], ttl);
        assert_eq!(shelf.get("live", 0, ttl), Some(2));
        assert_eq!(shelf.get("new", 0, ttl), Some(3));

        shelf.put(ticket(Duration::ZERO), [("third".into(), 4)], ttl);
        assert_eq!(shelf.get("live", 0, ttl), None);
        assert_eq!(shelf.get("third", 0, ttl), Some(4));
        // Refreshing a row already kept needs no room.
        shelf.put(ticket(Duration::ZERO), [("third".into(), 5)], ttl);
        assert_eq!(shelf.get("third", 0, ttl), Some(5));
    }
}
