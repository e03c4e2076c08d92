//! The staff WebSocket: wire protocol and the per-socket session task.

pub mod protocol;
pub mod session;
