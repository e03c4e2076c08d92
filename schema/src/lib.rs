//! Storehub's database: sea-orm entities and the migrations that create them.
//!
//! The same migrations run on SQLite (the zero-setup default) and PostgreSQL.
//! Invariants that must hold whatever the application does (stock never
//! negative, never more held than on hand, one event per store sequence number)
//! live here as constraints.

pub mod entities;
pub mod migrations;

pub use migrations::Migrator;
