//! sea-orm queries, one file per table group. Each function takes any
//! connection (pool or transaction), so services decide the transaction.

pub mod alert_lists;
pub mod api_keys;
pub mod articles;
pub mod customers;
pub mod devices;
pub mod events;
pub mod idempotency;
pub mod links;
pub mod outbox;
pub mod reservations;
pub mod restock;
pub mod settings;
pub mod staff;
pub mod stock;
pub mod stores;

/// True when a database error is a unique-constraint violation.
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
