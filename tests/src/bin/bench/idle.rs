//! Idle staff connections: ramp to N WebSockets, hold, read the server's
//! memory and CPU; on the hub, crash it and time how long until every client
//! is back. Baseline: the bare tokio-tungstenite server.

use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::json;

use super::Mode;
use super::clients::Behaviour;
use super::fleet::Fleet;
use super::measure::{
    Baseline, Hub, Plan, Sample, Scratch, bytes_each, cpu_time, progress, rss_kib,
};

pub async fn run(plan: &Plan) -> anyhow::Result<Vec<Sample>> {
    let (count, hold) = match plan.mode {
        Mode::Quick => (2_000, Duration::from_secs(3)),
        Mode::Full => (19_000, Duration::from_secs(10)),
    };
    let mut samples = Vec::new();
    for round in 1..=plan.rounds {
        progress(&format!(
            "idle: round {round}/{}: hub, {count} connections",
            plan.rounds
        ));
        samples.push(hub_side(plan, count, hold, round).await?);
        progress(&format!("idle: round {round}/{}: baseline", plan.rounds));
        samples.push(baseline_side(count, hold, round).await?);
    }
    Ok(samples)
}

/// Ramp, settle, hold: (ramp seconds, bytes per connection, idle CPU %).
async fn ramp_and_hold(
    pid: u32,
    url: &str,
    count: usize,
    hold: Duration,
    stores: &[&str],
) -> anyhow::Result<(Fleet, f64, f64, f64)> {
    let before = rss_kib(pid)?;
    let start = Instant::now();
    let clients = Fleet::spawn(url, count, stores, Behaviour::default())?;
    clients
        .wait_for(|n| n >= count, Duration::from_secs(180))
        .await?;
    let ramp = start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid)?;
    let cpu_before = cpu_time(pid)?;
    tokio::time::sleep(hold).await;
    let cpu = (cpu_time(pid)? - cpu_before).as_secs_f64() / hold.as_secs_f64() * 100.0;
    let per_connection = bytes_each(before, after, count as u64);
    Ok((clients, ramp, per_connection, cpu))
}

async fn hub_side(plan: &Plan, count: usize, hold: Duration, round: u32) -> anyhow::Result<Sample> {
    let scratch = Scratch::new("idle", round)?;
    let mut hub = Hub::start(&plan.hub, &scratch.url, &[]).await?;
    let client = reqwest::Client::new();
    let made = client
        .put(format!("{}/api/v1/stores/IDLE", hub.base))
        .bearer_auth(&hub.api_key)
        .json(&json!({"name": "Idle", "email": "idle@bench.test", "time_zone": "Europe/Paris"}))
        .send()
        .await?;
    if !made.status().is_success() {
        bail!("store: {}", made.text().await?);
    }
    let token = hub.admin_token("IDLE").await?;
    // Start from a fresh process: the sign-in's argon2 memory (19 MiB),
    // kept by an allocator that holds freed memory, would hide the growth.
    hub.restart().await?;
    let ws = format!("ws://127.0.0.1:{}/api/v1/ws?token={token}", hub.port);
    let (clients, ramp, per_connection, cpu) =
        ramp_and_hold(hub.pid(), &ws, count, hold, &["IDLE"]).await?;
    // A crash: every phone must be back, resubscribed, soon after.
    let crash = Instant::now();
    hub.restart().await?;
    clients
        .wait_for(|n| n < count, Duration::from_secs(30))
        .await
        .ok();
    clients
        .wait_for(|n| n >= count, Duration::from_secs(120))
        .await?;
    let reconnect = crash.elapsed().as_secs_f64();
    clients.stop().await;
    hub.stop().await;
    Ok(Sample {
        scenario: format!("idle-{count}"),
        side: "hub",
        round,
        figures: json!({
            "ramp_secs": ramp,
            "bytes_per_connection": per_connection,
            "idle_cpu_percent": cpu,
            "reconnect_all_secs": reconnect,
        }),
    })
}

async fn baseline_side(count: usize, hold: Duration, round: u32) -> anyhow::Result<Sample> {
    let mut server = Baseline::start("ws-server").await?;
    let pid = server.pid;
    let ws = format!("ws://127.0.0.1:{}/", server.port);
    let (clients, ramp, per_connection, cpu) =
        ramp_and_hold(pid, &ws, count, hold, &["IDLE"]).await?;
    clients.stop().await;
    let _ = server.child.kill().await;
    Ok(Sample {
        scenario: format!("idle-{count}"),
        side: "baseline",
        round,
        figures: json!({
            "ramp_secs": ramp,
            "bytes_per_connection": per_connection,
            "idle_cpu_percent": cpu,
        }),
    })
}
