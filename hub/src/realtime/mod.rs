//! The staff WebSocket: wire protocol, the socket's frames, and the
//! per-socket session task.

pub mod protocol;
pub mod session;
pub mod socket;
