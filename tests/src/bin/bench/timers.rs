//! Timers: N pending reservations, each with a reminder due, rebuilt after a
//! crash and fired. The hub side makes one reservation through the API,
//! copies it N-1 times in SQL (the API would take minutes for 100,000),
//! and measures:
//! * the rebuild after a restart: time until every reservation's actor has
//!   read its row and scheduled its timer (`storehub_timers_scheduled_total`);
//! * resident memory per pending reservation, actor included;
//! * fire lag: all reminders due within N / 20,000 seconds (20,000 fires/s
//!   asked), lag = arrival of the `reminder` frame on a staff WebSocket minus
//!   its due time (the event is stamped with its due time);
//! * the team alerts of those reminders (one outbox row each): how many
//!   still wait for the delivery worker when the last frame arrives, and
//!   how fast it settles them over the next 10 s at most.
//!
//! Baseline: a tokio `DelayQueue` holding the same due times, in a process
//! of its own (`bench delay-queue`), with its memory and lag.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::Mode;
use super::clients::new_histogram;
use super::create::{self, Endpoint, Load, STORE};
use super::measure::{Hub, Plan, Sample, Scratch, bytes_each, cpu_time, progress, rss_kib};

/// The rate the reminders fall due at.
const FIRES_PER_SEC: u64 = 20_000;

pub async fn run(plan: &Plan) -> anyhow::Result<Vec<Sample>> {
    // Firing a million reminders would take minutes a round at the hub's
    // rate, so the largest size measures the rebuild and memory only.
    let sizes: &[(u64, Fire)] = match plan.mode {
        Mode::Quick => &[(5_000, Fire::Yes)],
        Mode::Full => &[(100_000, Fire::Yes), (1_000_000, Fire::No)],
    };
    let mut samples = Vec::new();
    for &(count, fire) in sizes {
        let scenario = format!("timers-{count}");
        for round in 1..=plan.rounds {
            progress(&format!("{scenario}: round {round}/{}: hub", plan.rounds));
            samples.push(Sample {
                scenario: scenario.clone(),
                side: "hub",
                round,
                figures: hub_side(plan, count, fire, round).await?,
            });
            progress(&format!(
                "{scenario}: round {round}/{}: baseline (DelayQueue)",
                plan.rounds
            ));
            samples.push(Sample {
                scenario: scenario.clone(),
                side: "baseline",
                round,
                figures: baseline_side(count, fire).await?,
            });
        }
    }
    Ok(samples)
}

/// Whether a run fires the reminders after measuring the rebuild.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Fire {
    Yes,
    No,
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or_default()
}

/// SQLite text for a time `offset_ms` after Unix time `base_ms`, exactly as
/// the hub stores one (RFC 3339, only the fraction digits needed, `+00:00`):
/// its guarded updates compare the stored text.
fn sql_time(base_ms: i64, offset_ms: &str) -> String {
    format!(
        "replace(strftime('%Y-%m-%dT%H:%M:%f', ({base_ms} + {offset_ms}) / 1000.0, 'unixepoch') || '+00:00', '.000+', '+')"
    )
}

async fn hub_side(plan: &Plan, count: u64, fire: Fire, round: u32) -> anyhow::Result<Value> {
    let scratch = Scratch::new("timers", round)?;
    let url = scratch.url.clone();
    let mut hub = Hub::start(&plan.hub, &url, &[]).await?;
    let load = Load {
        skus: 1,
        phase: Duration::ZERO,
        rate: 0,
    };
    create::seed(&hub, load).await?;
    let made = create::create_one(&reqwest::Client::new(), &Endpoint::of(&hub), load, 1).await?;
    if made.is_none() {
        bail!("the model reservation was refused");
    }
    let token = hub.admin_token(STORE).await?;
    // The size with one pending reservation, read from a restarted hub like
    // the loaded size below: the set-up's sign-in (argon2's 19 MiB) must
    // not count, and an allocator that keeps freed memory would hide it.
    hub.restart().await?;
    wait_scheduled(&hub, 1, Duration::from_secs(30)).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_kib = rss_kib(hub.pid())?;

    // Copies of the model, due in an hour: the rebuild and memory phase.
    hub.child.kill().await?;
    let db = hub::db::Db::connect(&url, 1).await?;
    let far = now_us() / 1000 + 3_600_000;
    let copy = copy_statement(db.conn(), count - 1, &sql_time(far, "0")).await?;
    db.conn().execute_unprepared(&copy).await?;
    let started = Instant::now();
    hub.start_again().await?;
    let rebuild = wait_scheduled(&hub, count, Duration::from_secs(300)).await?;
    let rebuild_secs = started.elapsed().as_secs_f64().min(rebuild);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let loaded_kib = rss_kib(hub.pid())?;
    let bytes_per_pending = bytes_each(idle_kib, loaded_kib, count);
    if fire == Fire::No {
        hub.stop().await;
        return Ok(json!({
            "rebuild_secs": rebuild_secs,
            "bytes_per_pending": bytes_per_pending,
        }));
    }

    // Fire: due times spread so that 20,000 fall due each second, starting
    // after a second rebuild (another crash) has had time to finish.
    hub.child.kill().await?;
    let window_ms = count * 1000 / FIRES_PER_SEC;
    let first_due = now_us() / 1000 + (rebuild_secs * 1500.0) as i64 + 5_000;
    let spread = format!(
        "UPDATE reservations SET next_reminder_at = {} WHERE state = 'pending'",
        sql_time(
            first_due,
            &format!("(id % {count}) * {window_ms}.0 / {count}")
        )
    );
    db.conn().execute_unprepared(&spread).await?;
    // Subscribe from the store's current event: the phone wants the
    // reminders, not a snapshot of every pending reservation (at 100,000,
    // tens of megabytes, behind which its queue overflows and it is cut).
    let seq_row = db
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(
            db.conn().get_database_backend(),
            format!("SELECT event_seq FROM stores WHERE code = '{STORE}'"),
        ))
        .await?
        .context("the bench store")?;
    let last_seq: i64 = seq_row.try_get("", "event_seq")?;
    hub.start_again().await?;
    let ws_url = format!("ws://127.0.0.1:{}/api/v1/ws?token={token}", hub.port);
    let (mut socket, _) = tokio_tungstenite::connect_async(&ws_url).await?;
    socket
        .send(tokio_tungstenite::tungstenite::Message::text(
            json!({"type": "subscribe", "stores": {STORE: last_seq}}).to_string(),
        ))
        .await?;
    // From here to the last reminder the hub does little but fire (its
    // rebuild took `rebuild_secs`, and the first is due seconds later).
    let cpu_before = cpu_time(hub.pid())?;
    let mut lags: Histogram<u64> = new_histogram();
    let deadline = Instant::now()
        + Duration::from_millis((first_due - now_us() / 1000).max(0) as u64)
        + Duration::from_secs(180);
    while lags.len() < count && Instant::now() < deadline {
        let Ok(Some(Ok(message))) =
            tokio::time::timeout(Duration::from_secs(5), socket.next()).await
        else {
            continue;
        };
        let Ok(text) = message.to_text() else {
            continue;
        };
        let frame: Value = serde_json::from_str(text).unwrap_or_default();
        if frame["event"]["kind"] == "reminder"
            && let Some(at) = frame["event"]["at"].as_str()
            && let Ok(at) = chrono::DateTime::parse_from_rfc3339(at)
        {
            lags.saturating_record((now_us() - at.timestamp_micros()).max(1) as u64);
        }
    }
    let cpu = cpu_time(hub.pid())? - cpu_before;
    let drain = outbox_drain(db.conn()).await?;
    hub.stop().await;
    let ms = |q: f64| lags.value_at_quantile(q) as f64 / 1000.0;
    Ok(json!({
        "alerts_queued_at_last_fire": drain.queued_at_start,
        "alerts_settled_per_sec_after": drain.settled_per_sec,
        "cpu_us_per_fire": cpu.as_secs_f64() * 1e6 / lags.len().max(1) as f64,
        "rebuild_secs": rebuild_secs,
        "bytes_per_pending": bytes_per_pending,
        "fired_share": lags.len() as f64 / count as f64,
        "fires_per_sec": lags.len() as f64 / ((lags.max() as f64 / 1e6) + window_ms as f64 / 1000.0).max(0.001),
        "lag_p50_ms": ms(0.5),
        "lag_p99_ms": ms(0.99),
        "lag_max_ms": lags.max() as f64 / 1000.0,
    }))
}

/// How long the outbox is watched after the last firing.
const DRAIN_WINDOW: Duration = Duration::from_secs(10);

/// The team alerts of the firings, as the delivery worker settles them
/// after the last one.
struct Drain {
    /// Alerts still waiting for their delivery when the last frame came.
    queued_at_start: i64,
    /// Alerts settled a second over the window (or until none waited).
    settled_per_sec: f64,
}

async fn queued_messages(conn: &impl ConnectionTrait) -> anyhow::Result<i64> {
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM outbox WHERE status = 'queued'".to_string(),
        ))
        .await?
        .context("a count")?;
    Ok(row.try_get("", "n")?)
}

/// Watches the outbox for `DRAIN_WINDOW` at most, from the last firing.
async fn outbox_drain(conn: &impl ConnectionTrait) -> anyhow::Result<Drain> {
    let started = Instant::now();
    let queued_at_start = queued_messages(conn).await?;
    let mut queued = queued_at_start;
    while queued > 0 && started.elapsed() < DRAIN_WINDOW {
        tokio::time::sleep(Duration::from_millis(100)).await;
        queued = queued_messages(conn).await?;
    }
    let settled = (queued_at_start - queued) as f64;
    Ok(Drain {
        queued_at_start,
        settled_per_sec: settled / started.elapsed().as_secs_f64().max(0.001),
    })
}

/// `INSERT ... SELECT` making `copies` copies of reservation 1 with their
/// own numbers and tokens and the reminder at `due`.
async fn copy_statement(
    conn: &impl ConnectionTrait,
    copies: u64,
    due: &str,
) -> anyhow::Result<String> {
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT name FROM pragma_table_info('reservations')".to_string(),
        ))
        .await?;
    let mut columns = Vec::new();
    let mut values = Vec::new();
    for row in rows {
        let name: String = row.try_get("", "name")?;
        let value = match name.as_str() {
            "id" => continue,
            "number" => "printf('T%09d', n.i)".to_string(),
            "tracking_token" => "printf('timer-bench-%d', n.i)".to_string(),
            "validation_token" => "NULL".to_string(),
            "next_reminder_at" => due.to_string(),
            "confirm_by" => sql_time(now_us() / 1000 + 86_400_000, "0"),
            other => format!("r.\"{other}\""),
        };
        columns.push(format!("\"{name}\""));
        values.push(value);
    }
    if columns.is_empty() {
        bail!("no columns in reservations");
    }
    Ok(format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {copies}) \
         INSERT INTO reservations ({}) SELECT {} FROM n, reservations r WHERE r.id = 1",
        columns.join(", "),
        values.join(", ")
    ))
}

/// Seconds until the hub has scheduled `count` timers since it started.
async fn wait_scheduled(hub: &Hub, count: u64, limit: Duration) -> anyhow::Result<f64> {
    let start = Instant::now();
    let client = reqwest::Client::new();
    loop {
        let text = client
            .get(format!("{}/metrics", hub.base))
            .send()
            .await?
            .text()
            .await?;
        let scheduled = text
            .lines()
            .find_map(|line| line.strip_prefix("storehub_timers_scheduled_total "))
            .and_then(|n| n.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        if scheduled >= count as f64 {
            return Ok(start.elapsed().as_secs_f64());
        }
        if start.elapsed() > limit {
            bail!("{scheduled} of {count} timers scheduled after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn baseline_side(count: u64, fire: Fire) -> anyhow::Result<Value> {
    let mut command = Command::new(std::env::current_exe()?);
    command.args(["delay-queue", "--count", &count.to_string()]);
    if fire == Fire::No {
        command.arg("--no-fire");
    }
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let line = tokio::time::timeout(Duration::from_secs(300), lines.next_line())
        .await
        .context("the DelayQueue run did not end")??
        .context("the DelayQueue run printed nothing")?;
    let _ = child.wait().await;
    Ok(serde_json::from_str(&line)?)
}

/// The baseline process: `count` entries in a `DelayQueue`, due at 20,000
/// per second after a short lead; prints one JSON line of figures.
pub async fn delay_queue(count: u64, fire: Fire) -> anyhow::Result<()> {
    use tokio_util::time::DelayQueue;
    let pid = std::process::id();
    let idle_kib = rss_kib(pid)?;
    let lead = Duration::from_secs(2);
    let start = tokio::time::Instant::now();
    let mut queue = DelayQueue::with_capacity(count as usize);
    let interval_ns = 1_000_000_000 / FIRES_PER_SEC;
    for i in 0..count {
        let due = start + lead + Duration::from_nanos(i * interval_ns);
        queue.insert_at(i, due);
    }
    let loaded_kib = rss_kib(pid)?;
    let filled = start.elapsed().as_secs_f64();
    let bytes_per_pending = bytes_each(idle_kib, loaded_kib, count);
    if fire == Fire::No {
        println!(
            "{}",
            json!({"rebuild_secs": filled, "bytes_per_pending": bytes_per_pending})
        );
        return Ok(());
    }
    let mut lags: Histogram<u64> = new_histogram();
    while let Some(expired) = queue.next().await {
        let late = tokio::time::Instant::now().saturating_duration_since(expired.deadline());
        lags.saturating_record((late.as_micros() as u64).max(1));
    }
    let ms = |q: f64| lags.value_at_quantile(q) as f64 / 1000.0;
    let window = count as f64 / FIRES_PER_SEC as f64;
    println!(
        "{}",
        json!({
            "rebuild_secs": filled,
            "bytes_per_pending": bytes_per_pending,
            "fired_share": lags.len() as f64 / count as f64,
            "fires_per_sec": lags.len() as f64 / (window + lags.max() as f64 / 1e6),
            "lag_p50_ms": ms(0.5),
            "lag_p99_ms": ms(0.99),
            "lag_max_ms": lags.max() as f64 / 1000.0,
        })
    );
    Ok(())
}
