//! Push transports (Web Push, FCM) and the staff web app.
//!
//! This crate knows devices and messages, never reservations: the hub turns
//! its events into [`PushMessage`]s and a [`PushTarget`] per device.

use serde::{Deserialize, Serialize};

/// Where a push goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "transport", rename_all = "snake_case")]
pub enum PushTarget {
    /// A browser's Web Push subscription (RFC 8030).
    WebPush {
        endpoint: String,
        p256dh: String,
        auth: String,
    },
    /// A native app's Firebase registration token.
    Fcm { token: String },
}

/// What a push says. Kept small: no personal data beyond a first name and a
/// reservation number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushMessage {
    pub title: String,
    pub body: String,
    /// A newer message with the same topic replaces an undelivered older one.
    pub topic: Option<String>,
    /// Team alerts go out with high urgency.
    pub urgent: bool,
    /// Seconds the push service may keep it for an offline device.
    pub ttl_seconds: u32,
}

/// How a delivery attempt ended, as a transport reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// Try again later (429, 5xx, network), after at least this many seconds if known.
    #[error("retry later: {reason}")]
    Retry {
        reason: String,
        after_seconds: Option<u64>,
    },
    /// The device is gone (404/410, UNREGISTERED): drop the subscription.
    #[error("subscription gone: {0}")]
    Gone(String),
    /// The message itself is wrong; retrying will not help.
    #[error("rejected: {0}")]
    Rejected(String),
}
