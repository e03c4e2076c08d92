//! What every handler and actor can reach: database, clock, links, metrics.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::clock::SharedClock;
use crate::db::Db;

/// Shared application state, cheap to clone.
#[derive(Clone)]
pub struct AppContext {
    pub db: Db,
    pub clock: SharedClock,
    /// Base of links sent to people, without a trailing slash.
    pub public_url: Arc<str>,
    pub metrics: PrometheusHandle,
}

impl AppContext {
    pub fn tracking_url(&self, token: &str) -> String {
        format!("{}/t/{token}", self.public_url)
    }

    pub fn validation_url(&self, token: &str) -> String {
        format!("{}/r/validate/{token}", self.public_url)
    }
}
