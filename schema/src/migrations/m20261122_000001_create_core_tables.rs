//! The first schema: catalogue, stock, customers, reservations, their events,
//! settings, API keys, idempotency records and the outbox.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(from: (&'static str, &'static str), to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

fn index(table: &'static str, name: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(*col);
    }
    stmt.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("stores")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("code"))
                    .col(string("name"))
                    .col(string("email"))
                    .col(string("time_zone"))
                    .col(text("opening_hours"))
                    .col(text("closed_dates"))
                    .col(text("address"))
                    // Last per-store event sequence number handed out; bumped in
                    // the same transaction as the event so numbers have no gaps.
                    .col(big_integer("event_seq").default(0))
                    .col(timestamp_with_time_zone("created_at"))
                    .check(Expr::cust("event_seq >= 0"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("articles")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("sku"))
                    .col(string("designation"))
                    .col(string_null("variant"))
                    .col(string_null("ean"))
                    .col(boolean("reservable").default(false))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("stock_levels")
                    .col(big_integer("store_id"))
                    .col(big_integer("article_id"))
                    .col(big_integer("on_hand"))
                    .col(big_integer("held").default(0))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("store_id").col("article_id"))
                    .foreign_key(&mut fk(("stock_levels", "store_id"), "stores"))
                    .foreign_key(&mut fk(("stock_levels", "article_id"), "articles"))
                    .check(("stock_on_hand_not_negative", Expr::cust("on_hand >= 0")))
                    .check(("stock_held_not_negative", Expr::cust("held >= 0")))
                    .check(("stock_held_within_on_hand", Expr::cust("held <= on_hand")))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("customers")
                    .col(big_pk_auto("id"))
                    // "ext:<external id>" for identified shoppers, "email:<lower
                    // case email>" otherwise: the identity limits are counted on.
                    .col(string_uniq("customer_key"))
                    .col(string_null("email"))
                    .col(string("first_name"))
                    .col(string_null("last_name"))
                    .col(string_null("phone"))
                    .col(boolean("identified"))
                    .col(string_null("external_id"))
                    .col(string("language"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("reservations")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("number"))
                    .col(big_integer("store_id"))
                    .col(big_integer("customer_id"))
                    .col(string("state"))
                    .col(string("source"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(string_uniq("tracking_token"))
                    .col(string_null("validation_token"))
                    .col(timestamp_with_time_zone_null("validate_by"))
                    .col(timestamp_with_time_zone_null("validated_at"))
                    .col(timestamp_with_time_zone_null("confirm_by"))
                    .col(timestamp_with_time_zone_null("set_aside_at"))
                    .col(timestamp_with_time_zone_null("pickup_by"))
                    .col(string_null("handled_by"))
                    .col(timestamp_with_time_zone_null("handled_at"))
                    .col(timestamp_with_time_zone_null("ended_at"))
                    .col(string_null("order_ref"))
                    .col(string_null("reintegration"))
                    .col(string_null("reason"))
                    .col(boolean("was_set_aside").default(false))
                    .col(integer("version").default(0))
                    .foreign_key(&mut fk(("reservations", "store_id"), "stores"))
                    .foreign_key(&mut fk(("reservations", "customer_id"), "customers"))
                    .check((
                        "reservation_state_known",
                        Expr::cust(
                            "state IN ('awaiting_validation','pending','set_aside','collected',\
                             'rejected','cancelled','expired','auto_cancelled')",
                        ),
                    ))
                    .check((
                        "reservation_reintegration_known",
                        Expr::cust(
                            "reintegration IS NULL OR reintegration IN ('none','partial','total')",
                        ),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "reservations",
                "reservations_store_state",
                &["store_id", "state"],
            ))
            .await?;
        manager
            .create_index(index(
                "reservations",
                "reservations_customer_state",
                &["customer_id", "state"],
            ))
            .await?;
        manager
            .create_index(
                index(
                    "reservations",
                    "reservations_validation_token",
                    &["validation_token"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "reservations",
                "reservations_state_validate_by",
                &["state", "validate_by"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("reservation_lines")
                    .col(big_pk_auto("id"))
                    .col(big_integer("reservation_id"))
                    .col(big_integer("article_id"))
                    .col(string("sku"))
                    .col(string("designation"))
                    .col(string_null("variant"))
                    .col(string_null("ean"))
                    .col(big_integer("quantity"))
                    .col(big_integer_null("put_back_quantity"))
                    .foreign_key(&mut fk(
                        ("reservation_lines", "reservation_id"),
                        "reservations",
                    ))
                    .foreign_key(&mut fk(("reservation_lines", "article_id"), "articles"))
                    .check(("line_quantity_positive", Expr::cust("quantity > 0")))
                    .check((
                        "line_put_back_within_quantity",
                        Expr::cust(
                            "put_back_quantity IS NULL OR \
                             (put_back_quantity >= 0 AND put_back_quantity <= quantity)",
                        ),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "reservation_lines",
                "reservation_lines_reservation",
                &["reservation_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("reservation_events")
                    .col(big_pk_auto("id"))
                    .col(big_integer("store_id"))
                    .col(big_integer("seq"))
                    .col(big_integer("reservation_id"))
                    .col(string("kind"))
                    .col(string("actor_kind"))
                    .col(string_null("actor_id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(text("data"))
                    .foreign_key(&mut fk(("reservation_events", "store_id"), "stores"))
                    .foreign_key(&mut fk(
                        ("reservation_events", "reservation_id"),
                        "reservations",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "reservation_events",
                    "reservation_events_store_seq",
                    &["store_id", "seq"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "reservation_events",
                "reservation_events_reservation",
                &["reservation_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("settings")
                    // "global" or "store:<store id>".
                    .col(string("scope"))
                    .col(string("key"))
                    .col(text("value"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("scope").col("key"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("api_keys")
                    .col(big_pk_auto("id"))
                    .col(string("name"))
                    .col(string("prefix"))
                    .col(string_uniq("key_hash"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("idempotency_records")
                    .col(string("caller"))
                    .col(string("key"))
                    .col(string("request_hash"))
                    .col(integer("status_code"))
                    .col(text("response_body"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("caller").col("key"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("outbox")
                    .col(big_pk_auto("id"))
                    .col(string("topic"))
                    .col(string_uniq("dedup_key"))
                    .col(text("payload"))
                    .col(string("status").default("queued"))
                    .col(integer("attempts").default(0))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("lease_until"))
                    .col(text_null("last_error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("sent_at"))
                    .check((
                        "outbox_status_known",
                        Expr::cust("status IN ('queued','sent','failed','gone')"),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "outbox",
                "outbox_status_next_attempt",
                &["status", "next_attempt_at"],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "outbox",
            "idempotency_records",
            "api_keys",
            "settings",
            "reservation_events",
            "reservation_lines",
            "reservations",
            "customers",
            "stock_levels",
            "articles",
            "stores",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
