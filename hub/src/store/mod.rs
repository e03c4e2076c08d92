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

/// The row a unique key names, or None.
///
/// Not sea-orm's `.one()`: it binds its `LIMIT ?`, and SQLite (bundled with
/// STAT4) prepares a statement with a bound limit again at every run. In a
/// reconnect storm that was a fifth of the hub's CPU (BENCHMARKS.md). A
/// unique key matches one row at most, so no limit is needed.
pub async fn by_key<E: sea_orm::EntityTrait>(
    select: sea_orm::Select<E>,
    conn: &impl sea_orm::ConnectionTrait,
) -> Result<Option<E::Model>, sea_orm::DbErr> {
    Ok(select.all(conn).await?.into_iter().next())
}

/// True when a database error is a unique-constraint violation.
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// True when PostgreSQL aborted the transaction to break a deadlock or a
/// serialization conflict (SQLSTATE 40P01, 40001): run again, it succeeds.
pub fn is_lock_conflict(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    let (sea_orm::DbErr::Exec(RuntimeErr::SqlxError(err))
    | sea_orm::DbErr::Query(RuntimeErr::SqlxError(err))) = err
    else {
        return false;
    };
    match &**err {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("40P01" | "40001")),
        _ => false,
    }
}
