//! A staff WebSocket on the TCP stream the HTTP/1 upgrade hands over.
//! actix-http's codec reads and writes the frames; the buffers are ours, so an
//! idle socket holds none (actix-http's dispatcher kept 16 KiB per socket for
//! as long as it lived, with no setting to size them).

use std::io;

use actix_http::ws::{CloseReason, Codec, Frame, Item, OpCode, Parser, ProtocolError};
use bytes::{Buf, Bytes, BytesMut};
use tokio::net::TcpStream;
use tokio_util::codec::Decoder;

/// Most bytes taken from the kernel per read.
const READ_CHUNK: usize = 4096;

/// A whole message from the client (fragments already joined).
#[derive(Debug)]
pub enum Incoming {
    Text(Bytes),
    Binary,
    Ping(Bytes),
    Pong,
    Close(Option<CloseReason>),
}

pub struct WsSocket {
    io: TcpStream,
    codec: Codec,
    /// Received bytes not yet a whole frame; released when empty.
    read: BytesMut,
    /// Encoded frames not yet taken by the kernel; released when empty.
    write: BytesMut,
    /// A fragmented message being joined: whether it is text, and its bytes.
    fragments: Option<(bool, BytesMut)>,
    max_message: usize,
}

impl WsSocket {
    /// `already_read`: bytes the HTTP layer read past the upgrade request.
    pub fn new(io: TcpStream, already_read: BytesMut, max_message: usize) -> Self {
        Self {
            io,
            codec: Codec::new().max_size(max_message),
            read: already_read,
            write: BytesMut::new(),
            fragments: None,
            max_message,
        }
    }

    /// The next whole message; None once the peer has closed the stream.
    /// Cancel-safe: it only waits for readability, never with bytes in hand.
    pub async fn next(&mut self) -> Result<Option<Incoming>, ProtocolError> {
        loop {
            if let Some(message) = self.decode()? {
                return Ok(Some(message));
            }
            self.io.readable().await?;
            match self.read_available() {
                Ok(0) => return Ok(None),
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// Reads through a stack buffer, so the heap holds only what arrived.
    fn read_available(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; READ_CHUNK];
        let count = self.io.try_read(&mut chunk)?;
        self.read.extend_from_slice(&chunk[..count]);
        Ok(count)
    }

    fn decode(&mut self) -> Result<Option<Incoming>, ProtocolError> {
        let message = loop {
            let Some(frame) = self.codec.decode(&mut self.read)? else {
                break None;
            };
            let message = match frame {
                Frame::Text(text) => Incoming::Text(text),
                Frame::Binary(_) => Incoming::Binary,
                Frame::Ping(payload) => Incoming::Ping(payload),
                Frame::Pong(_) => Incoming::Pong,
                Frame::Close(reason) => Incoming::Close(reason),
                Frame::Continuation(item) => match self.join(item)? {
                    Some(message) => message,
                    None => continue,
                },
            };
            break Some(message);
        };
        if self.read.is_empty() && self.read.capacity() > 0 {
            self.read = BytesMut::new();
        }
        Ok(message)
    }

    /// Adds a fragment; the message once its last fragment is in.
    fn join(&mut self, item: Item) -> Result<Option<Incoming>, ProtocolError> {
        let (bytes, last) = match item {
            Item::FirstText(bytes) => {
                self.fragments = Some((true, BytesMut::new()));
                (bytes, false)
            }
            Item::FirstBinary(bytes) => {
                self.fragments = Some((false, BytesMut::new()));
                (bytes, false)
            }
            Item::Continue(bytes) => (bytes, false),
            Item::Last(bytes) => (bytes, true),
        };
        // The codec already refuses a continuation that has no start.
        let Some((_, joined)) = self.fragments.as_mut() else {
            return Err(ProtocolError::ContinuationNotStarted);
        };
        if joined.len() + bytes.len() > self.max_message {
            return Err(ProtocolError::Overflow);
        }
        joined.extend_from_slice(&bytes);
        if !last {
            return Ok(None);
        }
        Ok(self.fragments.take().map(|(is_text, joined)| {
            if is_text {
                Incoming::Text(joined.freeze())
            } else {
                Incoming::Binary
            }
        }))
    }

    pub fn queue_text(&mut self, payload: &[u8]) {
        Parser::write_message(&mut self.write, payload, OpCode::Text, true, false);
    }

    pub fn queue_ping(&mut self) {
        Parser::write_message(&mut self.write, b"", OpCode::Ping, true, false);
    }

    pub fn queue_pong(&mut self, payload: &[u8]) {
        Parser::write_message(&mut self.write, payload, OpCode::Pong, true, false);
    }

    pub fn queue_close(&mut self, reason: Option<CloseReason>) {
        Parser::write_close(&mut self.write, reason, false);
    }

    /// Bytes queued and not yet written.
    pub fn queued(&self) -> usize {
        self.write.len()
    }

    /// Writes everything queued, as few writes as the kernel allows.
    /// Cancel-safe: written bytes leave the buffer as they go, so frames
    /// queued later follow whole ones.
    pub async fn flush(&mut self) -> io::Result<()> {
        while !self.write.is_empty() {
            match self.io.try_write(&self.write) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(count) => self.write.advance(count),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    self.io.writable().await?;
                }
                Err(err) => return Err(err),
            }
        }
        if self.write.capacity() > 0 {
            self.write = BytesMut::new();
        }
        Ok(())
    }

    /// Closes the WebSocket handshake from our side: the close frame, then
    /// the peer's answer (or its end of stream), then the TCP connection.
    /// Closing first ourselves keeps the peer from seeing a reset before
    /// our close frame. The caller bounds the time it may take.
    pub async fn close(mut self, reason: Option<CloseReason>) {
        self.queue_close(reason);
        if self.flush().await.is_err() {
            return;
        }
        while let Ok(Some(message)) = self.next().await {
            if matches!(message, Incoming::Close(_)) {
                return;
            }
        }
    }

    /// Answers the peer's close frame and lets the connection go.
    pub async fn answer_close(mut self, reason: Option<CloseReason>) {
        let code = reason.map(|reason| CloseReason {
            code: reason.code,
            description: None,
        });
        self.queue_close(code);
        let _ = self.flush().await;
    }
}
