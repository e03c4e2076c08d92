//! Delivery: push devices (staff and shoppers), editable message templates,
//! single-use action links, restock requests, and which reservation an
//! outbox row belongs to.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("push_devices")
                    .col(big_pk_auto("id"))
                    // `staff` (owner_id = staff id) or `reservation` (a shopper's opt-in).
                    .col(string("owner_kind"))
                    .col(big_integer("owner_id"))
                    // `web_push` or `fcm`.
                    .col(string("transport"))
                    // Web Push endpoint, or the FCM registration token.
                    .col(string_uniq("address"))
                    .col(string_null("p256dh"))
                    .col(string_null("auth"))
                    .col(timestamp_with_time_zone("created_at"))
                    .check((
                        "push_device_transport_known",
                        Expr::cust("transport IN ('web_push','fcm')"),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("push_devices_owner")
                    .table("push_devices")
                    .col("owner_kind")
                    .col("owner_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("message_templates")
                    .col(string("name"))
                    .col(string("lang"))
                    .col(text("subject"))
                    .col(text("text_body"))
                    .col(text("html_body"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("name").col("lang"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("action_links_used")
                    // SHA-256 of the link's signature: a link works once.
                    .col(string("link_hash").primary_key())
                    .col(timestamp_with_time_zone("used_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("restock_requests")
                    .col(big_pk_auto("id"))
                    .col(big_integer("store_id"))
                    .col(big_integer("article_id"))
                    .col(string_null("email"))
                    .col(big_integer_null("staff_id"))
                    .col(string("language"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("notified_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("outbox")
                    .add_column(big_integer_null("reservation_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_reservation")
                    .table("outbox")
                    .col("reservation_id")
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("outbox_reservation")
                    .table("outbox")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("outbox")
                    .drop_column("reservation_id")
                    .to_owned(),
            )
            .await?;
        for table in [
            "restock_requests",
            "action_links_used",
            "message_templates",
            "push_devices",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
