//! Many idle WebSocket clients in one process, reconnecting when dropped;
//! prints `live N` whenever the number of open connections changes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;

pub async fn hold(url: &str, count: usize, source: &str, stores: &[String]) -> anyhow::Result<()> {
    let target: url_parts::Target = url.parse()?;
    let source: std::net::IpAddr = source.parse().context("source address")?;
    let live = Arc::new(AtomicUsize::new(0));
    for index in 0..count {
        let live = live.clone();
        let url = url.to_string();
        let target = target.clone();
        let subscribe = stores.get(index % stores.len().max(1)).map(|store| {
            serde_json::json!({"type": "subscribe", "stores": {store: null}}).to_string()
        });
        tokio::spawn(async move {
            loop {
                if let Ok(mut socket) = connect(&url, &target, source).await {
                    let subscribed = match &subscribe {
                        Some(text) => {
                            socket.send(Message::text(text.clone())).await.is_ok()
                                && acknowledged(&mut socket).await
                        }
                        None => true,
                    };
                    if subscribed {
                        live.fetch_add(1, Ordering::Relaxed);
                        while let Some(Ok(_)) = socket.next().await {}
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
    // Stops when the runner closes our standard input.
    let stdin_closed = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        while std::io::stdin()
            .read_line(&mut line)
            .map(|n| n > 0)
            .unwrap_or(false)
        {
            line.clear();
        }
    });
    tokio::pin!(stdin_closed);
    let mut last = usize::MAX;
    loop {
        tokio::select! {
            _ = &mut stdin_closed => return Ok(()),
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

/// Waits for the server's `subscribed` answer: only then is a client live
/// (the server has done its part, not just the handshake).
async fn acknowledged(
    socket: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
) -> bool {
    while let Some(Ok(message)) = socket.next().await {
        if let Ok(text) = message.to_text()
            && text.contains("\"subscribed\"")
        {
            return true;
        }
    }
    false
}

async fn connect(
    url: &str,
    target: &url_parts::Target,
    source: std::net::IpAddr,
) -> anyhow::Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>> {
    let socket = TcpSocket::new_v4()?;
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
