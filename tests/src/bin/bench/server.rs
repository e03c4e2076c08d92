//! The baseline WebSocket server: bare tokio-tungstenite with 4 KiB read
//! buffers, doing nothing but keep each connection open, answer pings and
//! acknowledge subscriptions.

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
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
            // Reading answers pings; a subscribe gets the one-line answer
            // the hub gives, so both sides count a client once it is
            // subscribed.
            while let Some(Ok(message)) = socket.next().await {
                if message.is_text()
                    && socket
                        .send(Message::text(r#"{"type":"subscribed"}"#))
                        .await
                        .is_err()
                {
                    break;
                }
            }
        });
    }
}
