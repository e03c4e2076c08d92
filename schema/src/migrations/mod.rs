//! Migration list. Names follow `mYYYYMMDD_HHMMSS_verb_object`; never edit one
//! that has shipped: add a new one.

use sea_orm_migration::prelude::*;

mod m20261122_000001_create_core_tables;
mod m20261122_000002_create_staff_and_timers;
mod m20261122_000003_create_delivery_tables;
mod m20261122_000004_add_pickup_reminder;

/// Runs every Storehub migration in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_core_tables::Migration),
            Box::new(m20261122_000002_create_staff_and_timers::Migration),
            Box::new(m20261122_000003_create_delivery_tables::Migration),
            Box::new(m20261122_000004_add_pickup_reminder::Migration),
        ]
    }
}
