//! The only place that reads "now" and waits for a time. Production uses the
//! system clock; tests inject a [`TestClock`] and move time by hand, so no
//! test sleeps for minutes, and every timer wakes when the test clock passes
//! its due time.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Duration, DurationRound, Utc};
use tokio::sync::watch;

/// A future that completes at a given time.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Source of the current time for every deadline and timestamp.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// Completes once `now() >= at`.
    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep;
}

/// Wall-clock time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        // Microseconds: what PostgreSQL stores, so a value reads back equal.
        let now = Utc::now();
        now.duration_trunc(Duration::microseconds(1)).unwrap_or(now)
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep {
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that only moves when told to; shared by clones.
#[derive(Debug, Clone)]
pub struct TestClock {
    now: Arc<watch::Sender<DateTime<Utc>>>,
}

impl TestClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(watch::Sender::new(start)),
        }
    }

    /// Moves time forward (or back, with a negative duration); wakes timers.
    pub fn advance(&self, by: Duration) {
        self.now.send_modify(|now| *now += by);
    }

    pub fn set(&self, to: DateTime<Utc>) {
        self.now.send_replace(to);
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep {
        let mut changes = self.now.subscribe();
        Box::pin(async move {
            // Err means the clock is gone (app shut down): never wake.
            if changes.wait_for(|now| *now >= at).await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

/// Shared handle to whichever clock the application runs on.
pub type SharedClock = Arc<dyn Clock>;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn test_clock_wakes_sleepers_when_it_passes_their_time() {
        let clock = TestClock::new(Utc::now());
        let due = clock.now() + Duration::minutes(20);
        let sleeper = tokio::spawn(clock.sleep_until(due));
        clock.advance(Duration::minutes(19));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!sleeper.is_finished());
        clock.advance(Duration::minutes(1));
        tokio::time::timeout(std::time::Duration::from_secs(2), sleeper)
            .await
            .expect("woke up")
            .unwrap();
    }
}
