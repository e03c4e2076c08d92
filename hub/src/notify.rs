//! Turns a reservation event into outbox rows: which people hear of it and
//! through which message. Written in the same transaction as the event; the
//! delivery workers read them later.

use chrono::{DateTime, Utc};
use schema::entities::{customer, reservation, reservation_event, store};
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::json;

use crate::store::outbox;

/// Outbox topic of shopper emails.
pub const SHOPPER_EMAIL: &str = "shopper.email";
/// Outbox topic of alerts to a store's team.
pub const TEAM_ALERT: &str = "team.alert";

/// The shopper message template for an event kind, if the shopper is told.
fn shopper_template(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "requested" => "validate_request",
        "created" => "request_received",
        "set_aside" => "ready",
        "rejected" | "auto_cancelled" => "rejected",
        "cancelled" => "cancelled",
        "expired" => "expired",
        _ => return None,
    })
}

/// Whether the store's team is alerted of an event kind.
fn alerts_team(
    kind: &str,
    reservation: &reservation::Model,
    event: &reservation_event::Model,
) -> bool {
    match kind {
        "created" | "reminder" | "overdue" | "auto_cancelled" | "restock" => true,
        // The team must put the article back on the shelf.
        "expired" => reservation.was_set_aside,
        "cancelled" => event.actor_kind == "shopper",
        _ => false,
    }
}

pub struct Links {
    pub tracking_url: String,
    pub validation_url: Option<String>,
}

/// Queues the messages that follow `event`.
pub async fn enqueue_for_event(
    conn: &impl ConnectionTrait,
    event: &reservation_event::Model,
    reservation: &reservation::Model,
    customer: &customer::Model,
    store: &store::Model,
    links: &Links,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let prefix = format!("ev:{}:{}", event.store_id, event.seq);
    if let (Some(template), Some(email)) = (shopper_template(&event.kind), &customer.email) {
        let payload = json!({
            "template": template,
            "to": email,
            "language": customer.language,
            "first_name": customer.first_name,
            "number": reservation.number,
            "store": store.code,
            "tracking_url": links.tracking_url,
            "validation_url": links.validation_url,
        });
        outbox::enqueue(
            conn,
            SHOPPER_EMAIL,
            &format!("{prefix}:shopper"),
            payload,
            now,
        )
        .await?;
    }
    if alerts_team(&event.kind, reservation, event) {
        let payload = json!({
            "kind": event.kind,
            "store": store.code,
            "seq": event.seq,
            "number": reservation.number,
        });
        outbox::enqueue(conn, TEAM_ALERT, &format!("{prefix}:team"), payload, now).await?;
    }
    Ok(())
}
