//! Actors that hold live state and timers.

pub mod deadline_sweeper;
