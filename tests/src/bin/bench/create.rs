//! Reservation create, end to end: HTTP -> stock hold -> event -> outbox ->
//! store actor -> 10 staff WebSocket frames. Capacity (closed loop, 32 at
//! once) and latency (open loop at a fixed rate, measured from each
//! request's scheduled time). Baseline: the same hold and inserts as raw SQL.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use sea_orm::ConnectionTrait;

use super::Mode;
use super::measure::{Hub, Plan, Sample, cpu_time, percentiles, progress};

pub const STORE: &str = "BENCH";
const WORKERS: usize = 32;
const LISTENERS: usize = 10;

pub fn variants(mode: Mode) -> Vec<(&'static str, &'static str)> {
    match mode {
        // One variant per database, hot and spread between them: quick
        // mode must fit in five minutes on a slow machine.
        Mode::Quick => vec![("sqlite", "hot"), ("postgres", "spread")],
        Mode::Full => vec![
            ("sqlite", "hot"),
            ("sqlite", "spread"),
            ("postgres", "hot"),
            ("postgres", "spread"),
        ],
    }
}

/// Sizes of one run.
#[derive(Clone, Copy)]
pub struct Load {
    pub skus: usize,
    pub phase: Duration,
    pub rate: u64,
}

fn load(mode: Mode, skus: &str) -> Load {
    let spread = matches!(mode, Mode::Quick)
        .then_some(1_000)
        .unwrap_or(10_000);
    Load {
        skus: if skus == "hot" { 1 } else { spread },
        // Each phase twice per round (capacity, then the open loop), on
        // four variants: full mode's time budget.
        phase: match mode {
            Mode::Quick => Duration::from_secs(2),
            Mode::Full => Duration::from_secs(3),
        },
        rate: 500,
    }
}

pub fn sku(index: usize) -> String {
    format!("SKU-{index:05}")
}

/// Units on hand per SKU: more than any run can hold.
pub fn on_hand(skus: usize) -> i64 {
    if skus == 1 { 10_000_000 } else { 100_000 }
}

pub async fn run(plan: &Plan, database: &str, skus: &str) -> anyhow::Result<Vec<Sample>> {
    let load = load(plan.mode, skus);
    let scenario = format!("create-{database}-{skus}");
    let mut samples = Vec::new();
    for round in 1..=plan.rounds {
        progress(&format!("{scenario}: round {round}/{}: hub", plan.rounds));
        let url = super::raw::fresh_database(plan, database, "hub", round).await?;
        let hub = run_hub(plan, &url.0, load, round).await;
        url.drop_it().await;
        samples.push(Sample {
            scenario: scenario.clone(),
            side: "hub",
            round,
            figures: hub?,
        });
        progress(&format!(
            "{scenario}: round {round}/{}: baseline (raw SQL)",
            plan.rounds
        ));
        let url = super::raw::fresh_database(plan, database, "raw", round).await?;
        let raw = super::raw::run(&url.0, load).await;
        url.drop_it().await;
        samples.push(Sample {
            scenario: scenario.clone(),
            side: "baseline",
            round,
            figures: raw?,
        });
    }
    Ok(samples)
}

pub async fn seed(hub: &Hub, load: Load) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let send = |request: reqwest::RequestBuilder| async move {
        let answer = request.send().await?;
        if !answer.status().is_success() {
            bail!("seed: {} {}", answer.status(), answer.text().await?);
        }
        Ok(())
    };
    send(
        client
            .put(format!("{}/api/v1/stores/{STORE}", hub.base))
            .bearer_auth(&hub.api_key)
            .json(
                &json!({"name": "Bench", "email": "bench@bench.test", "time_zone": "Europe/Paris"}),
            ),
    )
    .await?;
    send(
        client
            .patch(format!("{}/api/v1/settings", hub.base))
            .bearer_auth(&hub.api_key)
            .json(&json!({"module_active": true})),
    )
    .await?;
    // The first article and its stock through the API, the others copied
    // from them in SQL: on PostgreSQL the 10,000 article PUTs took 20 s a
    // round and the stock PUTs 30 to 40 s more, all of it set-up.
    send(
        client
            .put(format!("{}/api/v1/articles/{}", hub.base, sku(0)))
            .bearer_auth(&hub.api_key)
            .json(&json!({"designation": "Bench article", "reservable": true})),
    )
    .await?;
    send(
        client
            .put(format!("{}/api/v1/stores/{STORE}/stock", hub.base))
            .bearer_auth(&hub.api_key)
            .json(&json!([{"sku": sku(0), "on_hand": on_hand(load.skus)}])),
    )
    .await?;
    copy_first_article_and_stock(hub, load.skus).await?;
    Ok(())
}

/// Articles `sku(1)` to `sku(skus - 1)` with their stock, copies of
/// `sku(0)`'s, in two statements.
async fn copy_first_article_and_stock(hub: &Hub, skus: usize) -> anyhow::Result<()> {
    if skus < 2 {
        return Ok(());
    }
    let db = hub::db::Db::connect(hub.database_url(), 1).await?;
    let conn = db.conn();
    let numbered = match conn.get_database_backend() {
        sea_orm::DbBackend::Postgres => "'SKU-' || lpad(n.i::text, 5, '0')",
        _ => "printf('SKU-%05d', n.i)",
    };
    let first = sku(0);
    conn.execute_unprepared(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {last}) \
         INSERT INTO articles (sku, designation, variant, ean, reservable, updated_at) \
         SELECT {numbered}, a.designation, a.variant, a.ean, a.reservable, a.updated_at \
         FROM n, articles a WHERE a.sku = '{first}'",
        last = skus - 1,
    ))
    .await?;
    conn.execute_unprepared(&format!(
        "INSERT INTO stock_levels (store_id, article_id, on_hand, held, updated_at) \
         SELECT s.store_id, a.id, s.on_hand, s.held, s.updated_at \
         FROM articles a, stock_levels s JOIN articles f ON f.id = s.article_id \
         WHERE f.sku = '{first}' AND a.sku <> '{first}'"
    ))
    .await?;
    Ok(())
}

/// What the staff phones saw: first arrival of each reservation's `created`
/// frame per listener.
type Arrivals = Arc<Mutex<HashMap<String, Vec<Instant>>>>;

async fn listen(
    hub: &Hub,
    token: &str,
    arrivals: Arrivals,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let mut tasks = Vec::new();
    for _ in 0..LISTENERS {
        let url = format!("ws://127.0.0.1:{}/api/v1/ws?token={token}", hub.port);
        let (mut socket, _) = tokio_tungstenite::connect_async(&url).await?;
        use futures_util::SinkExt;
        socket
            .send(tokio_tungstenite::tungstenite::Message::text(
                json!({"type": "subscribe", "stores": {STORE: null}}).to_string(),
            ))
            .await?;
        let arrivals = arrivals.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(Ok(message)) = socket.next().await {
                let Ok(text) = message.to_text() else {
                    continue;
                };
                let Ok(frame) = serde_json::from_str::<Value>(text) else {
                    continue;
                };
                if frame["type"] == "event" && frame["event"]["kind"] == "created" {
                    let number = frame["event"]["reservation"]["number"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    arrivals
                        .lock()
                        .await
                        .entry(number)
                        .or_default()
                        .push(Instant::now());
                }
            }
        }));
    }
    Ok(tasks)
}

/// One create; Ok(Some(number)) when held, Ok(None) when refused.
pub async fn create_one(
    client: &reqwest::Client,
    hub: &Endpoint,
    load: Load,
    serial: u64,
) -> anyhow::Result<Option<String>> {
    let body = json!({
        "store": STORE,
        "customer": {"first_name": "Bench", "email": format!("c{serial}@bench.test"), "identified": true, "external_id": format!("c{serial}")},
        "lines": [{"sku": sku(serial as usize % load.skus), "quantity": 1}],
        "accept_terms": true,
    });
    let answer = client
        .post(format!("{}/api/v1/reservations", hub.base))
        .bearer_auth(&hub.api_key)
        .json(&body)
        .send()
        .await?;
    match answer.status().as_u16() {
        201 => Ok(answer.json::<Value>().await?["number"]
            .as_str()
            .map(str::to_string)),
        422 => Ok(None),
        other => bail!("create answered {other}: {}", answer.text().await?),
    }
}

async fn run_hub(plan: &Plan, database_url: &str, load: Load, round: u32) -> anyhow::Result<Value> {
    let hub = Hub::start(&plan.hub, database_url, &[]).await?;
    let outcome = measure_hub(&hub, load, round).await;
    hub.stop().await;
    outcome
}

async fn measure_hub(hub: &Hub, load: Load, round: u32) -> anyhow::Result<Value> {
    seed(hub, load).await?;
    let token = hub.admin_token(STORE).await?;
    let arrivals: Arrivals = Arc::default();
    let listeners = listen(hub, &token, arrivals.clone()).await?;
    let client = reqwest::Client::new();
    let serial = Arc::new(AtomicU64::new(u64::from(round) * 10_000_000));
    let endpoint = Endpoint::of(hub);
    let create = move |n| {
        let (client, endpoint) = (client.clone(), endpoint.clone());
        async move { create_one(&client, &endpoint, load, n).await }
    };

    // Capacity: 32 requests always in flight.
    let capacity = closed_loop(load, hub.pid(), serial.clone(), create.clone()).await?;

    // Latency: an open loop at a fixed rate, late requests still counted from
    // their scheduled time.
    let (latencies, numbers) = open_loop(load, create, serial.clone()).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = arrivals.lock().await;
    let frames: Vec<Duration> = numbers
        .iter()
        .filter_map(|(number, scheduled)| {
            let times = seen.get(number)?;
            (times.len() == LISTENERS)
                .then(|| times.iter().max().map(|t| *t - *scheduled))
                .flatten()
        })
        .collect();
    let all_phones = frames.len();
    drop(seen);
    for listener in listeners {
        listener.abort();
    }
    let oversold = check_stock(hub, capacity.held + numbers.len() as u64).await?;
    let http = percentiles(latencies);
    let frame = percentiles(frames);
    Ok(json!({
        "creates_per_sec": capacity.per_sec,
        "cpu_us_per_create": capacity.cpu_us_per_op,
        "p50_ms_at_rate": http["p50_ms"],
        "p99_ms_at_rate": http["p99_ms"],
        "p999_ms_at_rate": http["p999_ms"],
        "max_ms_at_rate": http["max_ms"],
        "frame_p99_ms_at_rate": frame["p99_ms"],
        "reached_all_10_phones": all_phones as f64 / numbers.len().max(1) as f64,
        "oversold_or_leaked": oversold as f64,
    }))
}

/// Where to send requests, cheap to hand to tasks.
#[derive(Clone)]
pub struct Endpoint {
    base: String,
    api_key: String,
}

impl Endpoint {
    pub fn of(hub: &Hub) -> Endpoint {
        Endpoint {
            base: hub.base.clone(),
            api_key: hub.api_key.clone(),
        }
    }
}

/// What a closed loop achieved.
pub struct Capacity {
    pub held: u64,
    pub per_sec: f64,
    /// CPU of process `pid` per successful op.
    pub cpu_us_per_op: f64,
}

/// Keeps `WORKERS` ops in flight for `load.phase`; counts the ones that held.
pub async fn closed_loop<F, Fut>(
    load: Load,
    pid: u32,
    serial: Arc<AtomicU64>,
    op: F,
) -> anyhow::Result<Capacity>
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<Option<String>>> + Send + 'static,
{
    let held = Arc::new(AtomicU64::new(0));
    let cpu_before = cpu_time(pid)?;
    let start = Instant::now();
    // Spawned, so the work spreads over the runtime's threads.
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (op, serial, held) = (op.clone(), serial.clone(), held.clone());
            tokio::spawn(async move {
                while start.elapsed() < load.phase {
                    let n = serial.fetch_add(1, Ordering::Relaxed);
                    if let Ok(Some(_)) = op(n).await {
                        held.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await?;
    }
    let held = held.load(Ordering::Relaxed);
    Ok(Capacity {
        held,
        per_sec: held as f64 / start.elapsed().as_secs_f64(),
        cpu_us_per_op: (cpu_time(pid)? - cpu_before).as_secs_f64() * 1e6 / held.max(1) as f64,
    })
}

/// Runs `op` at `load.rate` per second for `load.phase`; each latency is
/// counted from the request's scheduled time. Returns the latencies and the
/// numbers held with their scheduled times.
pub async fn open_loop<F, Fut>(
    load: Load,
    op: F,
    serial: Arc<AtomicU64>,
) -> anyhow::Result<(Vec<Duration>, Vec<(String, Instant)>)>
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<String>>> + Send + 'static,
{
    let start = Instant::now() + Duration::from_millis(50);
    let total = load.rate * load.phase.as_secs();
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let scheduled = start + Duration::from_secs_f64(i as f64 / load.rate as f64);
        tokio::time::sleep_until(scheduled.into()).await;
        let work = op(serial.fetch_add(1, Ordering::Relaxed));
        tasks.push(tokio::spawn(async move {
            let outcome = work.await;
            (outcome, scheduled, Instant::now() - scheduled)
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    let mut numbers = Vec::new();
    for task in tasks {
        let (outcome, scheduled, latency) = task.await?;
        latencies.push(latency);
        if let Some(number) = outcome? {
            numbers.push((number, scheduled));
        }
    }
    Ok((latencies, numbers))
}

/// Units held against what was confirmed held, and any line over its stock:
/// both must be zero.
async fn check_stock(hub: &Hub, confirmed: u64) -> anyhow::Result<i64> {
    let stock: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/stores/{STORE}/stock", hub.base))
        .bearer_auth(&hub.api_key)
        .send()
        .await?
        .json()
        .await?;
    let rows = stock.as_array().cloned().unwrap_or_default();
    let held: i64 = rows.iter().filter_map(|r| r["held"].as_i64()).sum();
    let over = rows
        .iter()
        .filter(|r| r["held"].as_i64().unwrap_or(0) > r["on_hand"].as_i64().unwrap_or(0))
        .count() as i64;
    Ok((held - confirmed as i64).abs() + over)
}
