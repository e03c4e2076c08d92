//! Staff accounts, sessions, store memberships and alert lists; durable
//! reminder and escalation times on reservations.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(from: (&'static str, &'static str), to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("staff")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("email"))
                    .col(string("name"))
                    .col(string("password_hash"))
                    .col(string("role"))
                    .col(boolean("active").default(true))
                    .col(timestamp_with_time_zone("created_at"))
                    .check((
                        "staff_role_known",
                        Expr::cust("role IN ('staff','manager','admin')"),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("staff_stores")
                    .col(big_integer("staff_id"))
                    .col(big_integer("store_id"))
                    .primary_key(Index::create().col("staff_id").col("store_id"))
                    .foreign_key(&mut fk(("staff_stores", "staff_id"), "staff"))
                    .foreign_key(&mut fk(("staff_stores", "store_id"), "stores"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("staff_sessions")
                    .col(big_pk_auto("id"))
                    .col(big_integer("staff_id"))
                    // SHA-256 of the bearer token; the token itself is never stored.
                    .col(string_uniq("token_hash"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .foreign_key(&mut fk(("staff_sessions", "staff_id"), "staff"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("alert_subscriptions")
                    .col(big_integer("store_id"))
                    .col(big_integer("staff_id"))
                    // JSON list of channels: ws, web_push, fcm, email.
                    .col(text("channels"))
                    // JSON {"from":"HH:MM","to":"HH:MM"} in the store's time zone, or null.
                    .col(text_null("quiet_hours"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("store_id").col("staff_id"))
                    .foreign_key(&mut fk(("alert_subscriptions", "store_id"), "stores"))
                    .foreign_key(&mut fk(("alert_subscriptions", "staff_id"), "staff"))
                    .to_owned(),
            )
            .await?;
        // SQLite takes one column per ALTER TABLE.
        for column in [
            timestamp_with_time_zone_null("next_reminder_at"),
            integer("reminders_sent").default(0).to_owned(),
            timestamp_with_time_zone_null("overdue_notified_at"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("reservations")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // Who acted, as people read it ("Julie M."), beside the actor's id.
        manager
            .alter_table(
                Table::alter()
                    .table("reservation_events")
                    .add_column(string_null("actor_name"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("reservations_state_next_reminder")
                    .table("reservations")
                    .col("state")
                    .col("next_reminder_at")
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("reservations_state_next_reminder")
                    .table("reservations")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("reservation_events")
                    .drop_column("actor_name")
                    .to_owned(),
            )
            .await?;
        for column in ["overdue_notified_at", "reminders_sent", "next_reminder_at"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("reservations")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for table in [
            "alert_subscriptions",
            "staff_sessions",
            "staff_stores",
            "staff",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
