//! The runner's side of the client processes: spreads N WebSocket clients
//! over processes (at most 9,500 sockets each, under this machine's 20,000
//! open files) and 127.0.0.x source addresses, tracks how many are live,
//! and gathers their latency histograms.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use super::clients::{Behaviour, decode_into, new_histogram};

/// Fewer than the 19,000 sockets a process may hold here.
const PER_PROCESS: usize = 9_500;

/// The next 127.0.0.x source address to hand out. Each fleet takes fresh
/// ones: the last round's 9,500 ports per address sit in TIME_WAIT for a
/// minute, and picking free ports beside them made the next ramp 4x slower.
static NEXT_SOURCE: AtomicUsize = AtomicUsize::new(0);

fn source_address() -> String {
    // 127.0.0.2 to 127.0.0.250, round and round.
    let n = NEXT_SOURCE.fetch_add(1, Ordering::Relaxed) % 249;
    format!("127.0.0.{}", 2 + n)
}

pub struct Fleet {
    children: Vec<Child>,
    live: Vec<Arc<AtomicUsize>>,
    reports: mpsc::UnboundedReceiver<String>,
}

impl Fleet {
    pub fn spawn(
        url: &str,
        count: usize,
        stores: &[&str],
        behaviour: Behaviour,
    ) -> anyhow::Result<Fleet> {
        let me = std::env::current_exe()?;
        let mut children = Vec::new();
        let mut live = Vec::new();
        let (report_to, reports) = mpsc::unbounded_channel();
        let processes = count.div_ceil(PER_PROCESS);
        for index in 0..processes {
            let share = count / processes + usize::from(index < count % processes);
            let mut command = Command::new(&me);
            command
                .args(["ws-clients", "--url", url, "--count", &share.to_string()])
                .args(["--source", &source_address()])
                .args(["--stores", &stores.join(",")])
                .args(["--stall-every", &behaviour.stall_every.to_string()]);
            if behaviour.measure {
                command.arg("--measure");
            }
            let mut child = command
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()?;
            let counter = Arc::new(AtomicUsize::new(0));
            let lines = BufReader::new(child.stdout.take().context("stdout")?);
            let (live_count, report_to) = (counter.clone(), report_to.clone());
            tokio::spawn(async move {
                let mut lines = lines.lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(n) = line.strip_prefix("live ").and_then(|n| n.parse().ok()) {
                        live_count.store(n, Ordering::Relaxed);
                    } else if let Some(report) = line.strip_prefix("report ") {
                        let _ = report_to.send(report.to_string());
                    }
                }
            });
            children.push(child);
            live.push(counter);
        }
        Ok(Fleet {
            children,
            live,
            reports,
        })
    }

    pub fn total(&self) -> usize {
        self.live.iter().map(|l| l.load(Ordering::Relaxed)).sum()
    }

    pub async fn wait_for(
        &self,
        wanted: impl Fn(usize) -> bool,
        limit: Duration,
    ) -> anyhow::Result<()> {
        let start = Instant::now();
        while !wanted(self.total()) {
            if start.elapsed() > limit {
                bail!("clients: {} live after {limit:?}", self.total());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Every process's latency histogram since the last report, merged (and reset).
    pub async fn report(&mut self) -> anyhow::Result<Histogram<u64>> {
        for child in &mut self.children {
            child
                .stdin
                .as_mut()
                .context("stdin")?
                .write_all(b"report\n")
                .await?;
        }
        let mut merged = new_histogram();
        for _ in 0..self.children.len() {
            let report = tokio::time::timeout(Duration::from_secs(30), self.reports.recv())
                .await
                .context("a client process did not report")?
                .context("a client process ended")?;
            decode_into(&report, &mut merged);
        }
        Ok(merged)
    }

    pub async fn stop(mut self) {
        for child in &mut self.children {
            drop(child.stdin.take());
            let _ = child.kill().await;
        }
    }
}
