//! The outbox worker: claims due messages with a lease, delivers them
//! (email, Web Push, FCM), and records the outcome. At least once: a crash
//! mid-delivery leaves the lease to expire and the message is sent again;
//! every push carries its outbox key so a device can drop a repeat.
//! Failures retry with exponential backoff and jitter, never sooner than a
//! push service's `Retry-After`, up to a maximum number of attempts.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use mobile_bridge::{PushError, PushMessage, PushSender, PushTarget};
use rand::Rng;
use schema::entities::outbox;
use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore, mpsc};

use super::email::{MailError, Mailer};
use super::{DEVICE_PUSH, SHOPPER_EMAIL, SHOPPER_PUSH, TEAM_ALERT, message};
use crate::config::DeliverySettings;
use crate::context::AppContext;
use crate::store::{devices, outbox as queue};

/// Most outcomes written in one transaction.
const RECORD_BATCH: usize = 512;
/// Most messages claimed in one write, whatever the settings ask.
const MAX_CLAIM_BATCH: usize = 10_000;
/// How long the worker waits for company before a write: for more free
/// slots when few are free, for more commits after a wake, and for more
/// outcomes after the first. Each wait saves transactions, not work.
const CLAIM_GATHER: Duration = Duration::from_millis(5);

/// Where one device's push goes, as stored in its outbox row.
#[derive(serde::Deserialize)]
struct DeviceTarget {
    transport: String,
    address: String,
    p256dh: Option<String>,
    auth: Option<String>,
}

/// A claimed message and how its attempt went.
type Delivered = (outbox::Model, Outcome);

/// The senders the worker can use; any may be switched off.
#[derive(Clone, Default)]
pub struct Senders {
    pub mailer: Option<Mailer>,
    pub web_push: Option<Arc<dyn PushSender>>,
    pub fcm: Option<Arc<dyn PushSender>>,
}

/// What one attempt came to.
#[derive(Debug)]
pub enum Outcome {
    Sent,
    /// Sent on as one message per device; they are queued in the
    /// transaction that settles this one.
    Expanded(Vec<queue::NewMessage>),
    Retry {
        reason: String,
        after_seconds: Option<u64>,
    },
    /// The recipient's device or address no longer exists.
    Gone(String),
    Failed(String),
}

impl From<PushError> for Outcome {
    fn from(err: PushError) -> Self {
        match err {
            PushError::Retry {
                reason,
                after_seconds,
            } => Outcome::Retry {
                reason,
                after_seconds,
            },
            PushError::Gone(reason) => Outcome::Gone(reason),
            PushError::Rejected(reason) => Outcome::Failed(reason),
        }
    }
}

/// Delay before attempt `attempts + 1`: doubling from the base, capped,
/// ±20 % jitter so retries of a burst spread out, and never under `after`.
pub fn backoff(settings: &DeliverySettings, attempts: i32, after_seconds: Option<u64>) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let base = settings
        .base_backoff_secs
        .saturating_mul(2u64.saturating_pow(exponent))
        .min(settings.max_backoff_secs);
    let jitter: f64 = rand::rng().random_range(0.8..1.2);
    let delay = Duration::from_secs_f64(base as f64 * jitter);
    delay.max(Duration::from_secs(after_seconds.unwrap_or(0)))
}

pub struct Worker {
    ctx: AppContext,
    senders: Senders,
    settings: DeliverySettings,
    wake: Arc<Notify>,
}

impl Worker {
    pub fn new(
        ctx: AppContext,
        senders: Senders,
        settings: DeliverySettings,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            ctx,
            senders,
            settings,
            wake,
        }
    }

    /// Runs until the process (or test system) stops. Claims up to
    /// `claim_batch` due messages a write (more when more slots are free)
    /// and hands them to free delivery slots in due order, so a slow push
    /// service holds one slot, not a whole batch, and a burst of quick
    /// deliveries does not take a write transaction per slot. Outcomes are
    /// written in batches.
    pub async fn run(self) {
        let poll = Duration::from_millis(self.settings.poll_ms.max(10));
        let concurrency = self.settings.concurrency.max(1);
        let claim_batch = self.settings.claim_batch.clamp(1, MAX_CLAIM_BATCH);
        let worker = Arc::new(self);
        let slots = Arc::new(Semaphore::new(concurrency));
        let (done, outcomes) = mpsc::unbounded_channel();
        actix_web::rt::spawn(worker.clone().record_outcomes(outcomes));
        // Claimed, not yet handed to a slot; each still under its lease.
        let mut claimed: VecDeque<outbox::Model> = VecDeque::new();
        loop {
            let Ok(first) = slots.clone().acquire_owned().await else {
                return;
            };
            if claimed.is_empty() && slots.available_permits() + 1 < concurrency.div_ceil(4) {
                // Let a few more finish: one claim per freed slot would
                // make a write transaction per message.
                tokio::time::sleep(CLAIM_GATHER).await;
            }
            let mut permits = vec![first];
            while let Ok(permit) = slots.clone().try_acquire_owned() {
                permits.push(permit);
            }
            let stale = worker.take_stale(&mut claimed);
            if !stale.is_empty() {
                worker.release(&stale).await;
            }
            if claimed.len() < permits.len() {
                let limit = claim_batch.max(permits.len()) - claimed.len();
                match worker.claim(limit).await {
                    Ok(rows) => claimed.extend(rows),
                    Err(err) => {
                        drop(permits);
                        tracing::warn!(error = %err, "outbox claim failed; retrying");
                        tokio::time::sleep(poll).await;
                        continue;
                    }
                }
            }
            if claimed.is_empty() {
                drop(permits);
                tokio::select! {
                    _ = worker.wake.notified() => {
                        // Every commit that queues a message wakes the
                        // worker: a moment's wait lets the commits right
                        // behind it share the claim's transaction.
                        tokio::time::sleep(CLAIM_GATHER).await;
                    }
                    _ = tokio::time::sleep(poll) => {}
                }
                continue;
            }
            for permit in permits {
                let Some(row) = claimed.pop_front() else {
                    break;
                };
                let (worker, done) = (worker.clone(), done.clone());
                actix_web::rt::spawn(async move {
                    let outcome = worker.deliver(&row).await;
                    let _ = done.send((row, outcome));
                    drop(permit);
                });
            }
        }
    }

    /// Takes out the claimed messages that waited for a slot past half
    /// their lease: sent now, one could still be in flight when the lease
    /// ends and another claim sends it again.
    fn take_stale(&self, claimed: &mut VecDeque<outbox::Model>) -> Vec<(i64, DateTime<Utc>)> {
        let half_lease =
            chrono::Duration::seconds(i64::try_from(self.settings.lease_secs / 2).unwrap_or(30));
        let fresh_until = self.ctx.clock.now() + half_lease;
        let mut stale = Vec::new();
        claimed.retain(|row| match row.lease_until {
            Some(lease) if lease < fresh_until => {
                stale.push((row.id, lease));
                false
            }
            _ => true,
        });
        stale
    }

    /// Gives messages back unsent, their attempt not counted; if that
    /// fails they go again when their lease ends.
    async fn release(&self, claims: &[(i64, DateTime<Utc>)]) {
        let write = async {
            let tx = self.ctx.db.write().await?;
            queue::release_all(&*tx, claims).await?;
            tx.commit().await
        };
        match write.await {
            Ok(()) => tracing::info!(
                count = claims.len(),
                "gave back messages that waited too long for a delivery slot"
            ),
            Err(err) => {
                tracing::warn!(count = claims.len(), error = %err, "could not give back claimed messages; they go again when their lease ends")
            }
        }
    }

    /// Claims up to `limit` due messages under a lease.
    async fn claim(&self, limit: usize) -> Result<Vec<outbox::Model>, sea_orm::DbErr> {
        let now = self.ctx.clock.now();
        let lease =
            now + chrono::Duration::seconds(i64::try_from(self.settings.lease_secs).unwrap_or(60));
        let db = self.ctx.db.clone();
        let claiming = async move {
            let tx = db.write().await?;
            let rows = queue::claim(&*tx, now, lease, limit as u64).await?;
            tx.commit().await?;
            Ok(rows)
        };
        self.ctx.db.on_writer_thread(claiming).await?
    }

    /// Writes outcomes as they come, everything waiting in one transaction:
    /// on SQLite every write waits for the single writer, and one commit
    /// per push capped throughput. A crash before the commit leaves the
    /// leases to expire, and those messages go again: at least once.
    async fn record_outcomes(self: Arc<Self>, mut outcomes: mpsc::UnboundedReceiver<Delivered>) {
        while let Some(first) = outcomes.recv().await {
            // Deliveries of one claim end close together: wait for them, so
            // they settle in one transaction rather than one each.
            tokio::time::sleep(CLAIM_GATHER).await;
            let mut batch = vec![first];
            while batch.len() < RECORD_BATCH {
                match outcomes.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            let count = batch.len();
            if let Err(err) = self.record(batch).await {
                tracing::warn!(count, error = %err, "could not record deliveries; they will go again");
            }
        }
    }

    async fn deliver(&self, row: &outbox::Model) -> Outcome {
        let payload: Value = match serde_json::from_str(&row.payload) {
            Ok(payload) => payload,
            Err(err) => return Outcome::Failed(format!("unreadable payload: {err}")),
        };
        let channel = payload["channel"].as_str().unwrap_or_default();
        match (row.topic.as_str(), channel) {
            (SHOPPER_EMAIL, _) | (TEAM_ALERT, "email") => self.email(&payload).await,
            (TEAM_ALERT, "web_push" | "fcm") => {
                let staff_id = payload["staff_id"].as_i64().unwrap_or_default();
                self.expand(row, &payload, "staff", staff_id, Some(channel))
                    .await
            }
            (SHOPPER_PUSH, _) => {
                let Some(reservation_id) = row.reservation_id else {
                    return Outcome::Failed("shopper push without its reservation".into());
                };
                self.expand(row, &payload, "reservation", reservation_id, None)
                    .await
            }
            (DEVICE_PUSH, _) => self.push(&payload).await,
            (topic, channel) => Outcome::Failed(format!("no sender for {topic}/{channel}")),
        }
    }

    async fn email(&self, payload: &Value) -> Outcome {
        let Some(mailer) = &self.senders.mailer else {
            return Outcome::Failed(
                "email is switched off (STOREHUB_EMAIL__SMTP_URL is not set)".into(),
            );
        };
        let to = payload["to"].as_str().unwrap_or_default().to_string();
        let rendered = match message::render_email(&self.ctx, payload).await {
            Ok(rendered) => rendered,
            Err(reason) => return Outcome::Failed(reason),
        };
        // The QR code of the number, when the message shows it.
        let mut inline = Vec::new();
        if rendered.html.contains(&format!("cid:{}", message::QR_CID))
            && let Some(number) = payload["number"].as_str()
        {
            match super::qr::png(number) {
                Ok(png) => inline.push((message::QR_CID.to_string(), png)),
                Err(err) => return Outcome::Failed(format!("QR code: {err}")),
            }
        }
        match mailer.send(&to, &rendered, &inline).await {
            Ok(()) => Outcome::Sent,
            Err(MailError::Retry(reason)) => Outcome::Retry {
                reason,
                after_seconds: None,
            },
            Err(MailError::Rejected(reason)) => Outcome::Failed(reason),
        }
    }

    /// Turns one alert into one row per device, so each device retries on
    /// its own and none gets the message twice.
    async fn expand(
        &self,
        row: &outbox::Model,
        payload: &Value,
        owner_kind: &str,
        owner_id: i64,
        transport: Option<&str>,
    ) -> Outcome {
        let conn = self.ctx.db.conn();
        let targets = match devices::for_owner(conn, owner_kind, owner_id, transport).await {
            Ok(targets) => targets,
            Err(err) => {
                return Outcome::Retry {
                    reason: err.to_string(),
                    after_seconds: None,
                };
            }
        };
        if targets.is_empty() {
            return Outcome::Gone("no registered device".into());
        }
        let push = match message::push_message(&self.ctx, payload, &row.dedup_key).await {
            Ok(push) => push,
            Err(reason) => return Outcome::Failed(reason),
        };
        let children = targets
            .iter()
            .map(|device| queue::NewMessage {
                topic: DEVICE_PUSH,
                dedup_key: format!("{}:dev:{}", row.dedup_key, device.id),
                // The target travels with the row: no device read per push.
                payload: json!({
                    "device_id": device.id,
                    "message": push,
                    "device": {
                        "transport": device.transport,
                        "address": device.address,
                        "p256dh": device.p256dh,
                        "auth": device.auth,
                    },
                }),
                reservation_id: row.reservation_id,
            })
            .collect();
        Outcome::Expanded(children)
    }

    async fn push(&self, payload: &Value) -> Outcome {
        let device_id = payload["device_id"].as_i64().unwrap_or_default();
        let message: PushMessage = match serde_json::from_value(payload["message"].clone()) {
            Ok(message) => message,
            Err(err) => return Outcome::Failed(format!("unreadable push: {err}")),
        };
        let device = match serde_json::from_value::<DeviceTarget>(payload["device"].clone()) {
            Ok(device) => device,
            // Rows queued before the target travelled with them.
            Err(_) => match devices::find(self.ctx.db.conn(), device_id).await {
                Ok(Some(device)) => DeviceTarget {
                    transport: device.transport,
                    address: device.address,
                    p256dh: device.p256dh,
                    auth: device.auth,
                },
                Ok(None) => return Outcome::Gone("device was removed".into()),
                Err(err) => {
                    return Outcome::Retry {
                        reason: err.to_string(),
                        after_seconds: None,
                    };
                }
            },
        };
        let (sender, target) = match device.transport.as_str() {
            "web_push" => (
                &self.senders.web_push,
                PushTarget::WebPush {
                    endpoint: device.address,
                    p256dh: device.p256dh.unwrap_or_default(),
                    auth: device.auth.unwrap_or_default(),
                },
            ),
            _ => (
                &self.senders.fcm,
                PushTarget::Fcm {
                    token: device.address,
                },
            ),
        };
        let Some(sender) = sender else {
            return Outcome::Failed(format!("{} is switched off", device.transport));
        };
        match sender.send(&target, &message).await {
            Ok(()) => Outcome::Sent,
            Err(PushError::Gone(reason)) => {
                // The push service forgot this device: so do we.
                let _ = self.forget_device(device_id).await;
                Outcome::Gone(format!("subscription gone ({reason}); device removed"))
            }
            Err(other) => other.into(),
        }
    }

    async fn forget_device(&self, id: i64) -> Result<(), sea_orm::DbErr> {
        let tx = self.ctx.db.write().await?;
        devices::remove(&*tx, id).await?;
        tx.commit().await
    }

    /// What the row becomes after this attempt.
    fn settlement(&self, row: &outbox::Model, outcome: &Outcome) -> queue::Settled<'static> {
        let now = self.ctx.clock.now();
        let ended = |status, last_error: Option<&String>| queue::Settled {
            status,
            next_attempt_at: None,
            last_error: last_error.cloned(),
            sent_at: None,
        };
        match outcome {
            Outcome::Sent | Outcome::Expanded(_) => queue::Settled {
                sent_at: Some(now),
                ..ended("sent", None)
            },
            Outcome::Gone(reason) => ended("gone", Some(reason)),
            Outcome::Failed(reason) => {
                tracing::warn!(id = row.id, topic = %row.topic, %reason, "delivery failed");
                ended("failed", Some(reason))
            }
            Outcome::Retry {
                reason,
                after_seconds,
            } => {
                if row.attempts >= self.settings.max_attempts {
                    tracing::warn!(id = row.id, topic = %row.topic, %reason, "giving up after the last attempt");
                    ended("failed", Some(reason))
                } else {
                    let delay = backoff(&self.settings, row.attempts, *after_seconds);
                    let next = now
                        + chrono::Duration::from_std(delay)
                            .unwrap_or_else(|_| chrono::Duration::seconds(60));
                    queue::Settled {
                        next_attempt_at: Some(next),
                        ..ended("queued", Some(reason))
                    }
                }
            }
        }
    }

    /// Settles a batch of attempts, and queues the per-device messages of
    /// the expanded ones, in one transaction: an alert is never settled
    /// without its pushes, nor its pushes queued twice.
    async fn record(&self, outcomes: Vec<Delivered>) -> Result<(), sea_orm::DbErr> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let mut settled = Vec::with_capacity(outcomes.len());
        let mut children = Vec::new();
        for (row, outcome) in outcomes {
            settled.push((self.settlement(&row, &outcome), row));
            if let Outcome::Expanded(more) = outcome {
                children.extend(more);
            }
        }
        let guarded: Vec<_> = settled
            .iter()
            .filter_map(|(settled, row)| Some((row.id, row.lease_until?, settled.clone())))
            .collect();
        let queues_more = !children.is_empty();
        let now = self.ctx.clock.now();
        let db = self.ctx.db.clone();
        let recording = async move {
            let tx = db.write().await?;
            queue::enqueue_all(&*tx, children, now).await?;
            queue::settle_all(&*tx, &guarded).await?;
            tx.commit().await
        };
        self.ctx.db.on_writer_thread(recording).await??;
        if queues_more {
            self.wake.notify_one();
        }
        for (settled, row) in settled {
            metrics::counter!("storehub_deliveries_total", "topic" => row.topic, "status" => settled.status).increment(1);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_honours_retry_after() {
        let settings = DeliverySettings {
            base_backoff_secs: 5,
            max_backoff_secs: 60,
            ..DeliverySettings::default()
        };
        let first = backoff(&settings, 1, None).as_secs_f64();
        assert!((4.0..=6.0).contains(&first), "{first}");
        let third = backoff(&settings, 3, None).as_secs_f64();
        assert!((16.0..=24.0).contains(&third), "{third}");
        let capped = backoff(&settings, 20, None).as_secs_f64();
        assert!(capped <= 72.0, "{capped}");
        assert!(backoff(&settings, 1, Some(120)).as_secs() >= 120);
    }
}
