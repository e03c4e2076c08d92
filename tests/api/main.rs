//! Black-box API tests: the real hub over HTTP, one database per test.
//! Run on SQLite by default and on PostgreSQL with STOREHUB_TEST_DATABASE=postgres.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod catalogue;
mod concurrency;
mod reservations;
mod service;
mod shopper;
mod stock;
