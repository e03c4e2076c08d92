//! Fan-out: stores x 10 staff WebSockets, frames sent to every store on a
//! fixed schedule, rate raised step by step; delivered frames/s, server CPU
//! per frame and lateness from the scheduled send (p50/p99/p99.9/max).
//! Baseline: the bare tokio-tungstenite broadcast server (`broadcast.rs`).
//!
//! Slow consumers: the same hub load with every 10th client frozen (it stops
//! reading), against the same run with no one frozen: the hub's memory per
//! frozen connection and the healthy clients' lateness.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use serde_json::{Map, Value, json};
use tokio::io::AsyncWriteExt;

use super::Mode;
use super::clients::Behaviour;
use super::fleet::Fleet;
use super::measure::{Baseline, Hub, Plan, Sample, Scratch, cpu_time, progress, rss_kib};

const STAFF_PER_STORE: usize = 10;
/// About an event frame with one article.
const FRAME_BYTES: u64 = 512;

struct Sizes {
    stores: usize,
    /// Delivered frames per second asked for, step by step.
    rates: Vec<u64>,
    phase: Duration,
    /// The slow-consumer run: one rate, held longer.
    slow_rate: u64,
    slow_phase: Duration,
}

fn sizes(mode: Mode) -> Sizes {
    match mode {
        // Quick mode must fit in five minutes: no 300k phase, and the slow
        // run puts 510 frames behind each frozen client in 6 s (past its
        // queue of 256 and the kernel's buffers).
        Mode::Quick => Sizes {
            stores: 100,
            rates: vec![2_000, 20_000, 100_000],
            phase: Duration::from_secs(1),
            slow_rate: 85_000,
            slow_phase: Duration::from_secs(6),
        },
        Mode::Full => Sizes {
            stores: 1_000,
            rates: vec![2_000, 20_000, 100_000, 300_000],
            phase: Duration::from_secs(3),
            slow_rate: 200_000,
            // 20 frames/s reach each client: 30 s puts 600 behind a frozen
            // one, past its queue of 256 and the kernel's buffers (at 375
            // nobody was cut).
            slow_phase: Duration::from_secs(30),
        },
    }
}

fn label(rate: u64) -> String {
    format!("{}k", rate / 1000)
}

fn store_codes(count: usize) -> Vec<String> {
    (1..=count).map(|n| format!("F{n:04}")).collect()
}

pub async fn run(plan: &Plan) -> anyhow::Result<Vec<Sample>> {
    let sizes = sizes(plan.mode);
    let mut samples = Vec::new();
    for round in 1..=plan.rounds {
        progress(&format!(
            "fanout: round {round}/{}: hub, {} connections",
            plan.rounds,
            sizes.stores * STAFF_PER_STORE
        ));
        samples.push(hub_side(plan, &sizes, round).await?);
        progress(&format!("fanout: round {round}/{}: baseline", plan.rounds));
        samples.push(baseline_side(&sizes, round).await?);
    }
    Ok(samples)
}

pub async fn run_slow(plan: &Plan) -> anyhow::Result<Vec<Sample>> {
    let sizes = sizes(plan.mode);
    let mut samples = Vec::new();
    for round in 1..=plan.rounds {
        progress(&format!(
            "slow: round {round}/{}: no one frozen",
            plan.rounds
        ));
        let healthy = slow_side(plan, &sizes, round, 0, 0.0).await?;
        let healthy_growth = healthy.figures["rss_growth_kib"].as_f64().unwrap_or(0.0);
        samples.push(healthy);
        progress(&format!(
            "slow: round {round}/{}: every 10th client frozen",
            plan.rounds
        ));
        samples.push(slow_side(plan, &sizes, round, 10, healthy_growth).await?);
    }
    Ok(samples)
}

/// A hub with the load generator on and `stores` stores.
async fn hub_with_stores(
    plan: &Plan,
    stores: &[String],
    round: u32,
) -> anyhow::Result<(Hub, Scratch)> {
    let scratch = Scratch::new("fanout", round)?;
    let hub = Hub::start(
        &plan.hub,
        &scratch.url,
        &[
            ("STOREHUB_REALTIME__LOAD_GENERATOR", "true"),
            // A frozen phone's backlog then sits in the hub, where it is
            // measured and bounded, not in the kernel.
            ("STOREHUB_HTTP__SOCKET_SEND_BUFFER_BYTES", "16384"),
        ],
    )
    .await?;
    let client = reqwest::Client::new();
    let made = futures_util::stream::iter(stores.iter().cloned())
        .map(|code| {
            let request = client
                .put(format!("{}/api/v1/stores/{code}", hub.base))
                .bearer_auth(&hub.api_key)
                .json(&json!({"name": code, "email": "fanout@bench.test", "time_zone": "Europe/Paris"}))
                .send();
            async move { request.await.map(|answer| answer.status().is_success()) }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    if made.iter().any(|ok| !matches!(ok, Ok(true))) {
        bail!("could not make the fan-out stores");
    }
    Ok((hub, scratch))
}

use futures_util::StreamExt;

/// What one load phase delivered.
struct Phase {
    frames: u64,
    elapsed: f64,
    cpu: Duration,
    latencies: Histogram<u64>,
}

impl Phase {
    fn figures(&self, rate: u64, into: &mut Map<String, Value>) {
        let name = label(rate);
        let ms = |q: f64| self.latencies.value_at_quantile(q) as f64 / 1000.0;
        let frames_per_sec = self.frames as f64 / self.elapsed.max(0.001);
        into.insert(format!("frames_per_sec_{name}"), json!(frames_per_sec));
        into.insert(
            format!("cpu_us_per_frame_{name}"),
            json!(self.cpu.as_secs_f64() * 1e6 / self.frames.max(1) as f64),
        );
        into.insert(format!("p50_ms_{name}"), json!(ms(0.5)));
        into.insert(format!("p99_ms_{name}"), json!(ms(0.99)));
        into.insert(format!("p999_ms_{name}"), json!(ms(0.999)));
        into.insert(
            format!("max_ms_{name}"),
            json!(self.latencies.max() as f64 / 1000.0),
        );
    }
}

/// Runs one phase through `start` (which returns when the sender is done),
/// then waits for the stragglers and gathers what the clients saw.
async fn phase<F, Fut>(
    fleet: &mut Fleet,
    pid: u32,
    expected: u64,
    start: F,
) -> anyhow::Result<Phase>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    fleet.report().await?;
    let cpu_before = cpu_time(pid)?;
    let began = Instant::now();
    start().await?;
    let sent = began.elapsed();
    // Late frames still count, up to a bounded wait.
    let mut latencies = fleet.report().await?;
    let drain = Instant::now();
    while latencies.len() < expected && drain.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let more = fleet.report().await?;
        if more.is_empty() {
            break;
        }
        latencies.add(&more).ok();
    }
    let elapsed = sent.as_secs_f64().max(began.elapsed().as_secs_f64() - 0.1);
    Ok(Phase {
        frames: latencies.len(),
        elapsed,
        cpu: cpu_time(pid)? - cpu_before,
        latencies,
    })
}

async fn hub_side(plan: &Plan, sizes: &Sizes, round: u32) -> anyhow::Result<Sample> {
    let stores = store_codes(sizes.stores);
    let (hub, _scratch) = hub_with_stores(plan, &stores, round).await?;
    let token = hub.admin_token(&stores[0]).await?;
    let ws = format!("ws://127.0.0.1:{}/api/v1/ws?token={token}", hub.port);
    let codes: Vec<&str> = stores.iter().map(String::as_str).collect();
    let count = sizes.stores * STAFF_PER_STORE;
    let behaviour = Behaviour {
        measure: true,
        stall_every: 0,
    };
    let mut fleet = Fleet::spawn(&ws, count, &codes, behaviour)?;
    fleet
        .wait_for(|n| n >= count, Duration::from_secs(180))
        .await?;
    let mut figures = Map::new();
    for &rate in &sizes.rates {
        progress(&format!("fanout: hub at {} frames/s", label(rate)));
        let result = phase(&mut fleet, hub.pid(), rate * sizes.phase.as_secs(), || {
            hub_load(&hub, rate, sizes.phase)
        })
        .await?;
        result.figures(rate, &mut figures);
    }
    figures.insert("dropped_slow".into(), json!(dropped_slow(&hub).await?));
    fleet.stop().await;
    hub.stop().await;
    Ok(Sample {
        scenario: format!("fanout-{count}"),
        side: "hub",
        round,
        figures: Value::Object(figures),
    })
}

/// Asks the hub's generator for one phase: `rate` delivered frames per second.
async fn hub_load(hub: &Hub, rate: u64, phase: Duration) -> anyhow::Result<()> {
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v1/load/fan-out", hub.base))
        .bearer_auth(&hub.api_key)
        .json(&json!({
            "events_per_sec": rate / STAFF_PER_STORE as u64,
            "seconds": phase.as_secs(),
            "frame_bytes": FRAME_BYTES,
        }))
        .timeout(phase + Duration::from_secs(60))
        .send()
        .await?;
    if !answer.status().is_success() {
        bail!("load/fan-out: {}", answer.text().await?);
    }
    Ok(())
}

/// Clients the hub cut because they fell too far behind.
async fn dropped_slow(hub: &Hub) -> anyhow::Result<f64> {
    let text = reqwest::get(format!("{}/metrics", hub.base))
        .await?
        .text()
        .await?;
    Ok(text
        .lines()
        .find_map(|line| line.strip_prefix("storehub_ws_dropped_slow_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0.0))
}

async fn baseline_side(sizes: &Sizes, round: u32) -> anyhow::Result<Sample> {
    let Baseline {
        child: mut server,
        port,
        pid,
        mut lines,
    } = Baseline::start("ws-broadcast").await?;
    let mut commands = server.stdin.take().context("stdin")?;
    let stores = store_codes(sizes.stores);
    let codes: Vec<&str> = stores.iter().map(String::as_str).collect();
    let count = sizes.stores * STAFF_PER_STORE;
    let behaviour = Behaviour {
        measure: true,
        stall_every: 0,
    };
    let mut fleet = Fleet::spawn(&format!("ws://127.0.0.1:{port}/"), count, &codes, behaviour)?;
    fleet
        .wait_for(|n| n >= count, Duration::from_secs(180))
        .await?;
    let mut figures = Map::new();
    for &rate in &sizes.rates {
        progress(&format!("fanout: baseline at {} frames/s", label(rate)));
        let command = format!(
            "load {} {} {FRAME_BYTES}\n",
            rate / STAFF_PER_STORE as u64,
            sizes.phase.as_secs()
        );
        let result = phase(&mut fleet, pid, rate * sizes.phase.as_secs(), || async {
            commands.write_all(command.as_bytes()).await?;
            let done =
                tokio::time::timeout(sizes.phase + Duration::from_secs(60), lines.next_line())
                    .await
                    .context("the broadcast phase did not end")??;
            if !done.is_some_and(|line| line.starts_with("done")) {
                bail!("the broadcast server stopped");
            }
            Ok(())
        })
        .await?;
        result.figures(rate, &mut figures);
    }
    fleet.stop().await;
    let _ = server.kill().await;
    Ok(Sample {
        scenario: format!("fanout-{count}"),
        side: "baseline",
        round,
        figures: Value::Object(figures),
    })
}

/// One hub run at the slow-consumer rate; `stall_every` 0 is the no-stall run.
/// `healthy_growth_kib`: the no-stall run's memory growth in this round,
/// taken off to give the memory each frozen connection holds.
async fn slow_side(
    plan: &Plan,
    sizes: &Sizes,
    round: u32,
    stall_every: usize,
    healthy_growth_kib: f64,
) -> anyhow::Result<Sample> {
    let stores = store_codes(sizes.stores);
    let (hub, _scratch) = hub_with_stores(plan, &stores, round).await?;
    let token = hub.admin_token(&stores[0]).await?;
    let ws = format!("ws://127.0.0.1:{}/api/v1/ws?token={token}", hub.port);
    let codes: Vec<&str> = stores.iter().map(String::as_str).collect();
    let count = sizes.stores * STAFF_PER_STORE;
    let frozen = if stall_every == 0 {
        0
    } else {
        count.div_ceil(stall_every)
    };
    let behaviour = Behaviour {
        measure: true,
        stall_every,
    };
    let mut fleet = Fleet::spawn(&ws, count, &codes, behaviour)?;
    fleet
        .wait_for(|n| n >= count, Duration::from_secs(180))
        .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pid = hub.pid();
    let before = rss_kib(pid)?;
    // The hub's memory at its peak while the phase runs.
    let (stop_sampling, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let sampler = tokio::spawn(async move {
        let mut peak = 0;
        loop {
            peak = peak.max(rss_kib(pid).unwrap_or(0));
            tokio::select! {
                _ = &mut stopped => return peak,
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    });
    let healthy_frames =
        sizes.slow_rate * sizes.slow_phase.as_secs() * (count - frozen) as u64 / count as u64;
    let result = phase(&mut fleet, pid, healthy_frames, || {
        hub_load(&hub, sizes.slow_rate, sizes.slow_phase)
    })
    .await?;
    let _ = stop_sampling.send(());
    let peak = sampler.await.unwrap_or(0);
    let mut figures = Map::new();
    let name = label(sizes.slow_rate);
    let growth_kib = peak.saturating_sub(before);
    figures.insert("frozen_clients".into(), json!(frozen));
    figures.insert("rss_growth_kib".into(), json!(growth_kib));
    if frozen > 0 {
        figures.insert(
            "kib_per_frozen_connection".into(),
            json!((growth_kib as f64 - healthy_growth_kib).max(0.0) / frozen as f64),
        );
    }
    figures.insert(
        format!("healthy_p99_ms_{name}"),
        json!(result.latencies.value_at_quantile(0.99) as f64 / 1000.0),
    );
    figures.insert(
        format!("healthy_p50_ms_{name}"),
        json!(result.latencies.value_at_quantile(0.5) as f64 / 1000.0),
    );
    figures.insert(
        "healthy_frames_delivered".into(),
        json!(result.latencies.len() as f64 / healthy_frames.max(1) as f64),
    );
    figures.insert(
        "cpu_us_per_frame".into(),
        json!(result.cpu.as_secs_f64() * 1e6 / result.frames.max(1) as f64),
    );
    figures.insert("cut_as_too_slow".into(), json!(dropped_slow(&hub).await?));
    fleet.stop().await;
    hub.stop().await;
    Ok(Sample {
        scenario: format!("slow-{count}"),
        side: if stall_every == 0 { "baseline" } else { "hub" },
        round,
        figures: Value::Object(figures),
    })
}
