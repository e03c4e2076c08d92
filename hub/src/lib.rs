//! Storehub: the reserve-online, pick-up-in-store notification hub.
//!
//! `main.rs` only parses the command line; everything else lives here so
//! black-box tests can start the real application in-process.

pub mod actors;
pub mod barcode;
pub mod catalogue_cache;
pub mod cli;
pub mod clock;
pub mod config;
pub mod context;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod extractors;
pub mod notify;
pub mod pages;
pub mod realtime;
pub mod routes;
pub mod services;
pub mod startup;
pub mod store;
pub mod telemetry;
