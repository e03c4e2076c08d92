//! Black-box tests of the live hub: staff, actions, timers, WebSocket.
//! Time moves only when a test moves the test clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod actions;
mod staff;
mod timers;
mod websocket;
