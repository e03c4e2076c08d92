//! Push transports (Web Push, FCM HTTP v1) and the staff web app.
//!
//! This crate knows devices and messages, never reservations: the hub turns
//! its events into a [`PushMessage`] and a [`PushTarget`] per device, and a
//! [`PushSender`] says whether to retry, drop the device, or give up.

pub mod fcm;
pub mod webapp;
pub mod webpush;

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

/// A button on a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushAction {
    /// `set_aside`, `reject`, ...
    pub action: String,
    pub title: String,
    /// A signed link that performs the action when POSTed.
    pub url: String,
}

/// What a push says. Kept small: no personal data beyond a first name and a
/// reservation number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushMessage {
    pub title: String,
    pub body: String,
    /// A newer message with the same topic replaces an undelivered older one
    /// (Web Push `Topic`, FCM collapse key, notification tag).
    pub topic: Option<String>,
    /// Team alerts go out with high urgency.
    pub urgent: bool,
    /// Seconds the push service may keep it for an offline device.
    pub ttl_seconds: u32,
    /// Where a tap on the notification leads.
    pub url: Option<String>,
    #[serde(default)]
    pub actions: Vec<PushAction>,
    /// Extra key/values for the app (reservation number, kind...).
    #[serde(default)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

/// How a delivery attempt failed, as a transport reports it.
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
    /// The message or the configuration is wrong; retrying will not help.
    #[error("rejected: {0}")]
    Rejected(String),
}

/// A transport that delivers pushes.
#[async_trait::async_trait]
pub trait PushSender: Send + Sync {
    /// Delivers one message to one device.
    async fn send(&self, target: &PushTarget, message: &PushMessage) -> Result<(), PushError>;
}

/// Reads a `Retry-After` header given in seconds (the HTTP-date form is
/// rare from push services and treated as unknown).
pub fn retry_after_seconds(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Maps an HTTP status from a push service to what to do.
pub fn classify(status: u16, retry_after: Option<u64>, body: &str) -> Result<(), PushError> {
    match status {
        200..=299 => Ok(()),
        404 | 410 => Err(PushError::Gone(format!("{status}: {body}"))),
        429 | 500..=599 => Err(PushError::Retry {
            reason: format!("{status}: {body}"),
            after_seconds: retry_after,
        }),
        _ => Err(PushError::Rejected(format!("{status}: {body}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_retry_gone_or_rejected() {
        assert_eq!(classify(201, None, ""), Ok(()));
        assert!(matches!(classify(410, None, ""), Err(PushError::Gone(_))));
        assert!(matches!(classify(404, None, ""), Err(PushError::Gone(_))));
        assert_eq!(
            classify(429, Some(30), "slow down"),
            Err(PushError::Retry {
                reason: "429: slow down".into(),
                after_seconds: Some(30)
            })
        );
        assert!(matches!(
            classify(503, None, ""),
            Err(PushError::Retry { .. })
        ));
        assert!(matches!(
            classify(400, None, ""),
            Err(PushError::Rejected(_))
        ));
        assert!(matches!(
            classify(413, None, ""),
            Err(PushError::Rejected(_))
        ));
    }
}
