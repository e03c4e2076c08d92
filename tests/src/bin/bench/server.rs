//! The baseline WebSocket server: bare tokio-tungstenite with 4 KiB read
//! buffers, doing nothing but keep each connection open and answer pings.

use anyhow::Context;
use futures_util::StreamExt;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub fn small_buffers() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
}

pub async fn serve(bind: &str) -> anyhow::Result<()> {
    let listener = TcpListener::bind(bind).await.context("binding")?;
    println!("listening {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let Ok(mut socket) =
                tokio_tungstenite::accept_async_with_config(stream, Some(small_buffers())).await
            else {
                return;
            };
            // Reading answers pings; the messages themselves are dropped.
            while let Some(Ok(_)) = socket.next().await {}
        });
    }
}
