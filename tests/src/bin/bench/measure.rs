//! The runner: the hub as a child process, /proc readings, percentiles, and
//! the result files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

use super::Mode;

pub struct Plan {
    pub mode: Mode,
    pub hub: PathBuf,
    pub out: PathBuf,
    pub rounds: u32,
    pub only: Option<String>,
    pub postgres: String,
}

impl Plan {
    pub fn wants(&self, name: &str) -> bool {
        self.only.as_deref().is_none_or(|only| name.contains(only))
    }
}

/// One measured run of one side (hub or baseline) of a scenario.
#[derive(Debug, Clone)]
pub struct Sample {
    pub scenario: String,
    pub side: &'static str,
    pub round: u32,
    pub figures: Value,
}

pub async fn run_all(plan: Plan) -> anyhow::Result<()> {
    std::fs::create_dir_all(&plan.out)?;
    let started = *STARTED;
    let mut samples = Vec::new();
    let mut laps = Laps::default();
    if plan.wants("idle") {
        samples.extend(super::idle::run(&plan).await?);
        laps.lap("idle");
    }
    if plan.wants("fanout") {
        samples.extend(super::fanout::run(&plan).await?);
        laps.lap("fanout");
    }
    if plan.wants("slow") {
        samples.extend(super::fanout::run_slow(&plan).await?);
        laps.lap("slow");
    }
    if plan.wants("push") {
        samples.extend(super::push::run(&plan).await?);
        laps.lap("push");
    }
    if plan.wants("timers") {
        samples.extend(super::timers::run(&plan).await?);
        laps.lap("timers");
    }
    for (database, skus) in super::create::variants(plan.mode) {
        let name = format!("create-{database}-{skus}");
        if plan.wants(&name) {
            samples.extend(super::create::run(&plan, database, skus).await?);
            laps.lap(&name);
        }
    }
    write_results(&plan, &samples, &laps.done, started.elapsed())?;
    Ok(())
}

/// Seconds each scenario family took, all rounds and set-up included.
struct Laps {
    since: Instant,
    done: Vec<(String, f64)>,
}

impl Default for Laps {
    fn default() -> Laps {
        Laps {
            since: Instant::now(),
            done: Vec::new(),
        }
    }
}

impl Laps {
    fn lap(&mut self, family: &str) {
        let now = Instant::now();
        self.done
            .push((family.to_string(), (now - self.since).as_secs_f64()));
        self.since = now;
        progress(&format!("{family}: done"));
    }
}

/// When the run started: progress lines show the time since, so a slow
/// family stands out.
static STARTED: std::sync::LazyLock<Instant> = std::sync::LazyLock::new(Instant::now);

/// Prints a progress line at once (the runner's output is piped).
pub fn progress(text: &str) {
    let mut out = std::io::stderr();
    let _ = writeln!(out, "[bench {:>4}s] {text}", STARTED.elapsed().as_secs());
}

// ---- /proc readings

/// Resident memory of a process, in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmRSS")
}

/// Bytes each of `count` items added, from resident sizes in KiB before
/// and after.
pub fn bytes_each(before_kib: u64, after_kib: u64, count: u64) -> f64 {
    after_kib.saturating_sub(before_kib) as f64 * 1024.0 / count.max(1) as f64
}

/// User + system CPU time of a process so far.
pub fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which may hold spaces, in parentheses.
    let after = stat.rsplit_once(')').context("stat")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    Ok(Duration::from_millis(ticks * 1000 / clock_ticks()))
}

/// /proc counts CPU time in USER_HZ ticks, 100 per second on Linux whatever
/// the kernel's own tick rate.
fn clock_ticks() -> u64 {
    100
}

/// p50, p99, p99.9 and max of latencies, in milliseconds.
pub fn percentiles(mut latencies: Vec<Duration>) -> Value {
    if latencies.is_empty() {
        return json!({"count": 0});
    }
    latencies.sort_unstable();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies[index].as_secs_f64() * 1000.0
    };
    json!({
        "count": latencies.len(),
        "p50_ms": at(0.50),
        "p99_ms": at(0.99),
        "p999_ms": at(0.999),
        "max_ms": at(1.0),
    })
}

// ---- the hub as users run it

/// A fresh directory for one run's SQLite database; removed when dropped.
pub struct Scratch {
    pub dir: PathBuf,
    pub url: String,
}

impl Scratch {
    pub fn new(scenario: &str, round: u32) -> anyhow::Result<Scratch> {
        let dir = std::env::temp_dir().join(format!(
            "storehub-bench-{scenario}-{}-{round}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let url = format!("sqlite://{}/hub.db?mode=rwc", dir.display());
        Ok(Scratch { dir, url })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One of this binary's baseline servers (`ws-server`, `ws-broadcast`) on a
/// free port, started and listening.
pub struct Baseline {
    pub child: Child,
    pub port: u16,
    pub pid: u32,
    /// Its standard output after the `listening` line.
    pub lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl Baseline {
    pub async fn start(subcommand: &str) -> anyhow::Result<Baseline> {
        use tokio::io::AsyncBufReadExt;
        let port = free_port();
        let mut child = Command::new(std::env::current_exe()?)
            .args([subcommand, "--bind", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let mut lines = tokio::io::BufReader::new(child.stdout.take().context("stdout")?).lines();
        lines
            .next_line()
            .await?
            .with_context(|| format!("`bench {subcommand}` did not start"))?;
        let pid = child.id().context("pid")?;
        Ok(Baseline {
            child,
            port,
            pid,
            lines,
        })
    }
}

pub struct Hub {
    pub child: Child,
    pub base: String,
    pub port: u16,
    pub env: Vec<(String, String)>,
    binary: PathBuf,
    pub api_key: String,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Hub {
    /// Starts `storehub serve` on a database URL (plus any settings), with an
    /// API key made by the CLI.
    pub async fn start(
        binary: &Path,
        database_url: &str,
        extra_env: &[(&str, &str)],
    ) -> anyhow::Result<Hub> {
        let port = free_port();
        let mut env = vec![
            (
                "STOREHUB_DATABASE__URL".to_string(),
                database_url.to_string(),
            ),
            ("STOREHUB_BIND".to_string(), format!("127.0.0.1:{port}")),
            ("STOREHUB_LOG__LEVEL".to_string(), "error".to_string()),
            (
                "STOREHUB_DATABASE__MAX_CONNECTIONS".to_string(),
                "16".to_string(),
            ),
            // Idle sockets: no ping traffic during a measurement.
            (
                "STOREHUB_REALTIME__HEARTBEAT_SECS".to_string(),
                "600".to_string(),
            ),
            (
                "STOREHUB_REALTIME__CLIENT_TIMEOUT_SECS".to_string(),
                "1800".to_string(),
            ),
        ];
        env.extend(
            extra_env
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string())),
        );
        let migrate = Command::new(binary)
            .arg("migrate")
            .envs(env.clone())
            .output()
            .await?;
        if !migrate.status.success() {
            bail!("migrate: {}", String::from_utf8_lossy(&migrate.stderr));
        }
        let made = Command::new(binary)
            .args(["api-key", "create", "--name", "bench"])
            .envs(env.clone())
            .output()
            .await?;
        let api_key = String::from_utf8_lossy(&made.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string();
        if api_key.is_empty() {
            bail!("api-key create: {}", String::from_utf8_lossy(&made.stderr));
        }
        let child = spawn_serve(binary, &env)?;
        let hub = Hub {
            child,
            base: format!("http://127.0.0.1:{port}"),
            port,
            env,
            binary: binary.to_path_buf(),
            api_key,
        };
        hub.wait_ready().await?;
        Ok(hub)
    }

    /// The database it serves.
    pub fn database_url(&self) -> &str {
        self.env
            .iter()
            .find(|(key, _)| key == "STOREHUB_DATABASE__URL")
            .map_or("", |(_, url)| url.as_str())
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    async fn wait_ready(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if let Ok(answer) = client.get(format!("{}/ready", self.base)).send().await
                && answer.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the hub did not become ready")
    }

    /// Stops it (SIGKILL: a crash) and starts it again on the same port and database.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        self.start_again().await
    }

    /// Starts it again after it was stopped (same port and database).
    pub async fn start_again(&mut self) -> anyhow::Result<()> {
        self.child = spawn_serve(&self.binary, &self.env)?;
        self.wait_ready().await
    }

    /// A staff account made with the CLI, signed in.
    pub async fn admin_token(&self, store: &str) -> anyhow::Result<String> {
        let mut create = Command::new(&self.binary)
            .args([
                "staff",
                "create",
                "--email",
                "bench@bench.test",
                "--role",
                "admin",
                "--stores",
                store,
            ])
            .envs(self.env.clone())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        create
            .stdin
            .take()
            .context("stdin")?
            .write_all(b"bench-password-1234\n")
            .await?;
        let done = create.wait_with_output().await?;
        if !done.status.success() {
            bail!("staff create: {}", String::from_utf8_lossy(&done.stderr));
        }
        let login: Value = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"email": "bench@bench.test", "password": "bench-password-1234"}))
            .send()
            .await?
            .json()
            .await?;
        login["token"]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("login: {login}"))
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn spawn_serve(binary: &Path, env: &[(String, String)]) -> anyhow::Result<Child> {
    Ok(Command::new(binary)
        .arg("serve")
        .envs(env.iter().cloned())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?)
}

// ---- results

fn write_results(
    plan: &Plan,
    samples: &[Sample],
    laps: &[(String, f64)],
    elapsed: Duration,
) -> anyhow::Result<()> {
    let rows: Vec<Value> = samples
        .iter()
        .map(|s| json!({"scenario": s.scenario, "side": s.side, "round": s.round, "figures": s.figures}))
        .collect();
    let mode = format!("{:?}", plan.mode).to_lowercase();
    let document = json!({
        "mode": mode,
        "rounds": plan.rounds,
        "elapsed_secs": elapsed.as_secs_f64(),
        "family_secs": laps.iter().map(|(name, secs)| (name.clone(), json!(secs))).collect::<serde_json::Map<_, _>>(),
        "samples": rows,
    });
    std::fs::write(
        plan.out.join("results.json"),
        serde_json::to_string_pretty(&document)?,
    )?;
    let mut markdown = summary(samples);
    let took: Vec<String> = laps
        .iter()
        .map(|(name, secs)| format!("{name} {secs:.0} s"))
        .collect();
    markdown.push_str(&format!(
        "\n{mode} mode, {} rounds, {:.0} s in all: {}.\n",
        plan.rounds,
        elapsed.as_secs_f64(),
        took.join(", ")
    ));
    std::fs::write(plan.out.join("results.md"), &markdown)?;
    println!("{markdown}");
    Ok(())
}

/// The median of each figure per scenario and side, and hub/baseline ratios.
fn summary(samples: &[Sample]) -> String {
    let mut scenarios: Vec<&str> = samples.iter().map(|s| s.scenario.as_str()).collect();
    scenarios.dedup();
    let mut out = String::from(
        "| scenario | figure | hub | baseline | hub / baseline |\n|---|---|---|---|---|\n",
    );
    for scenario in scenarios {
        let of = |side: &str| -> Vec<&Value> {
            samples
                .iter()
                .filter(|s| s.scenario == scenario && s.side == side)
                .map(|s| &s.figures)
                .collect()
        };
        let (hub, baseline) = (of("hub"), of("baseline"));
        let Some(first) = hub.first().and_then(|f| f.as_object()) else {
            continue;
        };
        for key in first.keys() {
            let median = |runs: &[&Value]| -> Option<f64> {
                let mut values: Vec<f64> = runs.iter().filter_map(|f| f[key].as_f64()).collect();
                if values.is_empty() {
                    return None;
                }
                values.sort_by(f64::total_cmp);
                Some(values[values.len() / 2])
            };
            let (h, b) = (median(&hub), median(&baseline));
            let cell = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "—".into());
            let ratio = match (h, b) {
                (Some(h), Some(b)) if b != 0.0 => format!("{:.2}", h / b),
                _ => "—".into(),
            };
            out.push_str(&format!(
                "| {scenario} | {key} | {} | {} | {ratio} |\n",
                cell(h),
                cell(b)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_right_ranks() {
        let latencies: Vec<Duration> = (1..=1000).map(Duration::from_millis).collect();
        let figures = percentiles(latencies);
        assert_eq!(figures["count"], 1000);
        assert_eq!(figures["p50_ms"], 501.0);
        assert_eq!(figures["p99_ms"], 990.0);
        assert_eq!(figures["p999_ms"], 999.0);
        assert_eq!(figures["max_ms"], 1000.0);
    }

    #[test]
    fn the_summary_shows_medians_and_ratios() {
        let sample = |side, round, value: f64| Sample {
            scenario: "s".into(),
            side,
            round,
            figures: json!({ "rate": value }),
        };
        let table = summary(&[
            sample("hub", 1, 10.0),
            sample("baseline", 1, 40.0),
            sample("hub", 2, 30.0),
            sample("baseline", 2, 20.0),
            sample("hub", 3, 20.0),
            sample("baseline", 3, 30.0),
        ]);
        assert!(
            table.contains("| s | rate | 20.000 | 30.000 | 0.67 |"),
            "{table}"
        );
    }

    #[test]
    fn proc_readings_of_this_process() {
        let me = std::process::id();
        assert!(rss_kib(me).unwrap() > 0);
        // Spin until the kernel has counted at least two ticks of CPU.
        let start = Instant::now();
        let mut spins = 0u64;
        while cpu_time(me).unwrap() < Duration::from_millis(20)
            && start.elapsed() < Duration::from_secs(5)
        {
            spins = std::hint::black_box(spins.wrapping_add(1));
        }
        assert!(cpu_time(me).unwrap() >= Duration::from_millis(20));
    }
}
