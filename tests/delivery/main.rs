//! Delivery tests against real peers: SMTP (aiosmtpd), a Web Push service
//! that verifies VAPID and decrypts independently (Python http_ece), and a
//! fake FCM v1 with its token endpoint.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod email;
mod push;
mod templates;

use storehub_tests::services::{FakeFcm, SmtpServer};
use storehub_tests::{TestApp, spawn_app_with};

/// A hub wired to the given peers, retrying fast.
pub async fn hub_with(smtp: Option<&SmtpServer>, push: bool, fcm: Option<&FakeFcm>) -> TestApp {
    let smtp_url = smtp.map(|s| s.url());
    let vapid = push.then(|| {
        mobile_bridge::webpush::generate_vapid_keys()
            .unwrap()
            .private_key
    });
    let fcm_settings = fcm.map(|f| (f.credentials_file.display().to_string(), f.base_url.clone()));
    spawn_app_with(move |settings| {
        settings.email.smtp_url = smtp_url;
        settings.email.from = "Storehub <hub@shop.test>".into();
        settings.push.vapid_private_key = vapid;
        settings.push.vapid_subject = "mailto:ops@shop.test".into();
        if let Some((file, base)) = fcm_settings {
            settings.fcm.credentials_file = Some(file);
            settings.fcm.token_uri = Some(format!("{base}/token"));
            settings.fcm.base_url = base;
        }
        settings.delivery.poll_ms = 20;
        settings.delivery.base_backoff_secs = 1;
        settings.delivery.max_attempts = 4;
    })
    .await
}

/// Waits until every message of a reservation left the queue.
pub async fn settled(app: &TestApp, number: &str) -> Vec<serde_json::Value> {
    let mut rows = Vec::new();
    for _ in 0..600 {
        rows = app
            .get(&format!("/api/v1/reservations/{number}/notifications"))
            .await
            .body
            .as_array()
            .unwrap()
            .clone();
        if !rows.is_empty() && rows.iter().all(|r| r["status"] != "queued") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    rows
}
