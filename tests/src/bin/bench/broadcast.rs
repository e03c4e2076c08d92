//! The fan-out baseline: a bare tokio-tungstenite broadcast server. Clients
//! subscribe to one store; a `load RATE SECONDS BYTES` line on stdin sends
//! frames to every store in turn on the same schedule as the hub's load
//! generator. Each connection's writer coalesces: it feeds every frame
//! already waiting, then flushes once. A connection whose queue is full is
//! dropped, as the hub drops a client that cannot keep up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncBufReadExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// The hub's default per-session queue (`realtime.queue_frames`).
const QUEUE_FRAMES: usize = 256;

type Subscribers = Arc<Mutex<HashMap<String, Vec<mpsc::Sender<Utf8Bytes>>>>>;

pub async fn serve(bind: &str) -> anyhow::Result<()> {
    let listener = TcpListener::bind(bind).await.context("binding")?;
    println!("listening {}", listener.local_addr()?);
    let subscribers: Subscribers = Arc::default();
    let accepting = subscribers.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(connection(stream, accepting.clone()));
        }
    });
    let mut commands = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = commands.next_line().await? {
        let words: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|w| w.parse().ok())
            .collect();
        if let ["load", ..] = line.split_whitespace().collect::<Vec<_>>()[..]
            && let [rate, seconds, bytes] = words[..]
        {
            let stores: Vec<String> = subscribers
                .lock()
                .map(|s| s.keys().cloned().collect())
                .unwrap_or_default();
            let lag = generate(&subscribers, &stores, rate, seconds, bytes as usize).await;
            println!("done {}", lag.as_micros());
        }
    }
    Ok(())
}

async fn generate(
    subscribers: &Subscribers,
    stores: &[String],
    rate: u64,
    seconds: u64,
    bytes: usize,
) -> Duration {
    let interval_ns = 1_000_000_000 / rate.max(1);
    let start = tokio::time::Instant::now() + Duration::from_millis(5);
    let start_us = now_us() + 5_000;
    let mut max_lag = Duration::ZERO;
    for n in 0..rate * seconds {
        let offset = Duration::from_nanos(n * interval_ns);
        let due = start + offset;
        let now = tokio::time::Instant::now();
        if due > now {
            tokio::time::sleep_until(due).await;
        } else {
            max_lag = max_lag.max(now - due);
        }
        let Some(store) = stores.get((n % stores.len().max(1) as u64) as usize) else {
            break;
        };
        // Shared bytes: every subscriber sends the same buffer, no copy.
        let frame = Utf8Bytes::from(load_frame(
            store,
            n,
            start_us + offset.as_micros() as i64,
            bytes,
        ));
        if let Ok(mut all) = subscribers.lock()
            && let Some(queues) = all.get_mut(store)
        {
            queues.retain(|queue| queue.try_send(frame.clone()).is_ok());
        }
    }
    max_lag
}

/// The frame the hub's generator sends, padded to `bytes` like an event frame.
pub fn load_frame(store: &str, n: u64, scheduled_us: i64, bytes: usize) -> String {
    let head = format!(
        r#"{{"type":"load","store":"{store}","n":{n},"scheduled_us":{scheduled_us},"pad":""#
    );
    let pad = bytes.saturating_sub(head.len() + 2);
    format!("{head}{}\"}}", "x".repeat(pad))
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or_default()
}

async fn connection(stream: tokio::net::TcpStream, subscribers: Subscribers) {
    let Ok(socket) =
        tokio_tungstenite::accept_async_with_config(stream, Some(super::server::small_buffers()))
            .await
    else {
        return;
    };
    let (mut sink, mut source) = socket.split();
    let (queue, mut frames) = mpsc::channel::<Utf8Bytes>(QUEUE_FRAMES);
    let (control, mut replies) = mpsc::channel::<Message>(8);
    let writer = tokio::spawn(async move {
        loop {
            let first = tokio::select! {
                Some(frame) = frames.recv() => Message::Text(frame),
                Some(reply) = replies.recv() => reply,
                else => return,
            };
            if sink.feed(first).await.is_err() {
                return;
            }
            // Coalesce: everything already waiting goes out in one flush.
            while let Ok(frame) = frames.try_recv() {
                if sink.feed(Message::Text(frame)).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    while let Some(Ok(message)) = source.next().await {
        let Ok(text) = message.to_text() else {
            continue;
        };
        let Ok(request) = serde_json::from_str::<serde_json::Value>(text) else {
            continue;
        };
        if let Some(stores) = request["stores"].as_object() {
            if let Ok(mut all) = subscribers.lock() {
                for store in stores.keys() {
                    all.entry(store.clone()).or_default().push(queue.clone());
                }
            }
            let ack = Message::text(r#"{"type":"subscribed"}"#);
            if control.send(ack).await.is_err() {
                break;
            }
        }
    }
    writer.abort();
}
