//! When the shopper is reminded that the pickup deadline approaches.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("reservations")
                    // Due time of the reminder; cleared once it went out.
                    .add_column(timestamp_with_time_zone_null("pickup_reminder_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("reservations")
                    .drop_column("pickup_reminder_at")
                    .to_owned(),
            )
            .await
    }
}
