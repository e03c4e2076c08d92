//! Many WebSocket clients in one process, reconnecting when dropped; prints
//! `live N` whenever the number of subscribed connections changes. With
//! `measure`, records how late each `load` frame arrives against its
//! scheduled send time; a `report` line on stdin prints and resets that
//! histogram. Every `stall_every`-th client stops reading once subscribed
//! (a phone that froze), with a small receive buffer so the server feels it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::io::AsyncBufReadExt;
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;

#[derive(Clone, Copy, Default)]
pub struct Behaviour {
    pub measure: bool,
    /// 0: every client reads.
    pub stall_every: usize,
}

/// Receive buffer of a stalled client: small, so the backlog piles up in
/// the server rather than in this process's kernel buffers.
const STALLED_RECEIVE_BUFFER: u32 = 4096;

type Latencies = Arc<Mutex<Histogram<u64>>>;

pub fn new_histogram() -> Histogram<u64> {
    // 1 µs to 10 minutes, 3 significant figures.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

pub async fn hold(
    url: &str,
    count: usize,
    source: &str,
    stores: &[String],
    behaviour: Behaviour,
) -> anyhow::Result<()> {
    let target: url_parts::Target = url.parse()?;
    let source: std::net::IpAddr = source.parse().context("source address")?;
    let live = Arc::new(AtomicUsize::new(0));
    let latencies: Latencies = Arc::new(Mutex::new(new_histogram()));
    for index in 0..count {
        let live = live.clone();
        let latencies = latencies.clone();
        let url = url.to_string();
        let target = target.clone();
        let store = stores.get(index % stores.len().max(1)).cloned();
        let stalls = behaviour.stall_every > 0 && index % behaviour.stall_every == 0;
        tokio::spawn(async move {
            // As the staff app does: after a reconnect, resume from the seq
            // the last subscribe reached instead of asking for a snapshot.
            let mut resume_from: Option<i64> = None;
            loop {
                if let Ok(mut socket) = connect(&url, &target, source, stalls).await {
                    let subscribed = match &store {
                        Some(store) => {
                            let text = serde_json::json!({"type": "subscribe", "stores": {store: resume_from}});
                            let answer = match socket.send(Message::text(text.to_string())).await {
                                Ok(()) => acknowledged(&mut socket).await,
                                Err(_) => None,
                            };
                            if let Some(seq) = answer {
                                resume_from = seq.or(resume_from);
                            }
                            answer.is_some()
                        }
                        None => true,
                    };
                    if subscribed {
                        live.fetch_add(1, Ordering::Relaxed);
                        if stalls {
                            // Holds the socket and never reads again.
                            std::future::pending::<()>().await;
                        }
                        while let Some(Ok(message)) = socket.next().await {
                            if behaviour.measure
                                && let Ok(text) = message.to_text()
                                && let Some(scheduled) = scheduled_us(text)
                            {
                                let late = (now_us() - scheduled).max(1) as u64;
                                if let Ok(mut histogram) = latencies.lock() {
                                    histogram.saturating_record(late);
                                }
                            }
                        }
                        live.fetch_sub(1, Ordering::Relaxed);
                    }
                }
                // Spread reconnects out, as phones do.
                let jitter = 100 + (index as u64 * 7919) % 500;
                tokio::time::sleep(Duration::from_millis(jitter)).await;
            }
        });
        if index % 256 == 255 {
            // Do not flood the listener's accept queue.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    // Commands from the runner; stops when it closes our standard input.
    let mut commands = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut last = usize::MAX;
    loop {
        tokio::select! {
            line = commands.next_line() => match line {
                Ok(Some(line)) if line.trim() == "report" => {
                    let taken = latencies
                        .lock()
                        .map(|mut h| std::mem::replace(&mut *h, new_histogram()))
                        .unwrap_or_else(|_| new_histogram());
                    println!("report {}", encode(&taken));
                }
                Ok(Some(_)) => {}
                _ => return Ok(()),
            },
            _ = tokio::time::sleep(Duration::from_millis(50)) => {
                let now = live.load(Ordering::Relaxed);
                if now != last {
                    println!("live {now}");
                    last = now;
                }
            }
        }
    }
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or_default()
}

/// The `scheduled_us` of a load frame, without parsing the whole frame.
pub fn scheduled_us(text: &str) -> Option<i64> {
    const KEY: &str = "\"scheduled_us\":";
    if !text.contains("\"load\"") {
        return None;
    }
    let rest = &text[text.find(KEY)? + KEY.len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// `value:count` pairs of every recorded bucket, comma separated.
pub fn encode(histogram: &Histogram<u64>) -> String {
    histogram
        .iter_recorded()
        .map(|v| {
            format!(
                "{}:{}",
                v.value_iterated_to(),
                v.count_since_last_iteration()
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Adds what `encode` wrote into `into`.
pub fn decode_into(text: &str, into: &mut Histogram<u64>) {
    for pair in text.split(',') {
        if let Some((value, count)) = pair.split_once(':')
            && let (Ok(value), Ok(count)) = (value.parse::<u64>(), count.parse::<u64>())
        {
            into.saturating_record_n(value, count);
        }
    }
}

/// Waits for the server's `subscribed` answer: only then is a client live
/// (the server has done its part, not just the handshake). None when the
/// socket ended first; else the seq it reached, if it gave one.
async fn acknowledged(
    socket: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
) -> Option<Option<i64>> {
    while let Some(Ok(message)) = socket.next().await {
        if let Ok(text) = message.to_text()
            && text.contains("\"subscribed\"")
        {
            let frame: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
            return Some(frame["seq"].as_i64());
        }
    }
    None
}

async fn connect(
    url: &str,
    target: &url_parts::Target,
    source: std::net::IpAddr,
    stalls: bool,
) -> anyhow::Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>> {
    let socket = TcpSocket::new_v4()?;
    if stalls {
        socket.set_recv_buffer_size(STALLED_RECEIVE_BUFFER)?;
    }
    socket.bind(std::net::SocketAddr::new(source, 0))?;
    let stream = socket.connect(target.addr).await?;
    let (socket, _) = tokio_tungstenite::client_async_with_config(
        url,
        stream,
        Some(super::server::small_buffers()),
    )
    .await?;
    Ok(socket)
}

pub mod url_parts {
    /// Where a `ws://host:port/...` URL connects to.
    #[derive(Clone)]
    pub struct Target {
        pub addr: std::net::SocketAddr,
    }

    impl std::str::FromStr for Target {
        type Err = anyhow::Error;
        fn from_str(url: &str) -> anyhow::Result<Self> {
            let rest = url
                .strip_prefix("ws://")
                .ok_or_else(|| anyhow::anyhow!("only ws:// URLs: {url}"))?;
            let host = rest.split('/').next().unwrap_or_default();
            Ok(Target {
                addr: host.parse()?,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_frame_gives_its_schedule() {
        let frame =
            r#"{"type":"load","store":"S1","n":3,"scheduled_us":1700000000123456,"pad":"xx"}"#;
        assert_eq!(scheduled_us(frame), Some(1_700_000_000_123_456));
        assert_eq!(scheduled_us(r#"{"type":"event","seq":4}"#), None);
    }

    #[test]
    fn histograms_cross_processes_intact() {
        let mut sent = new_histogram();
        for value in [5, 5, 900, 12_000, 3_000_000] {
            sent.record(value).unwrap();
        }
        let mut merged = new_histogram();
        decode_into(&encode(&sent), &mut merged);
        decode_into(&encode(&sent), &mut merged);
        assert_eq!(merged.len(), 10);
        assert_eq!(merged.max(), sent.max());
        assert_eq!(merged.value_at_quantile(0.5), sent.value_at_quantile(0.5));
    }
}
