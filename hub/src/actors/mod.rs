//! Actors that hold live state and timers. The database is the source of
//! truth: every actor can be rebuilt from it, so a restart or a crashed
//! actor loses nothing.

pub mod directory;
pub mod firing;
pub mod reservation;
pub mod store;
