//! Turns a reservation event into outbox rows: which people hear of it and
//! through which message. Written in the same transaction as the event; the
//! delivery workers read them later.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

use schema::entities::{customer, reservation, reservation_event, staff, store};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::catalogue_cache::{CatalogueCache, TeamAhead};
use crate::domain::settings::BusinessSettings;
use crate::error::ApiError;
use crate::services::alert_lists::{Audience, Recipient, read_team, recipients};
use crate::store::outbox::{self, NewMessage};

/// Outbox topic of shopper emails.
pub const SHOPPER_EMAIL: &str = "shopper.email";
/// Outbox topic of pushes to a shopper's registered browsers.
pub const SHOPPER_PUSH: &str = "shopper.push";
/// Outbox topic of one push to one device (expanded from the others).
pub const DEVICE_PUSH: &str = "push.device";
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
        "pickup_reminder" => "pickup_reminder",
        _ => return None,
    })
}

/// Who on the store's side hears of an event kind, if anyone.
fn team_audience(
    kind: &str,
    reservation: &reservation::Model,
    event: &reservation_event::Model,
) -> Option<Audience> {
    match kind {
        "created" | "reminder" | "auto_cancelled" | "restock" => Some(Audience::Team),
        // Past the confirmation deadline: escalate to the managers.
        "overdue" => Some(Audience::Managers),
        // The team must put the article back on the shelf.
        "expired" if reservation.was_set_aside => Some(Audience::Team),
        "cancelled" if event.actor_kind == "shopper" => Some(Audience::Team),
        _ => None,
    }
}

/// Whether an event ends the team's pending alerts for the reservation.
fn supersedes_alerts(kind: &str, event: &reservation_event::Model) -> bool {
    match kind {
        "set_aside" | "rejected" | "collected" => true,
        "cancelled" => event.actor_kind != "shopper",
        _ => false,
    }
}

pub struct Links {
    pub tracking_url: String,
    pub validation_url: Option<String>,
}

/// What an event's messages need besides its rows.
pub struct Outgoing<'a> {
    pub links: Links,
    /// The store's settings in force (who hears team alerts).
    pub settings: &'a BusinessSettings,
    pub now: DateTime<Utc>,
}

impl<'a> Outgoing<'a> {
    /// For any event after the making: the tracking link, no validation link.
    pub fn tracking(
        ctx: &crate::context::AppContext,
        reservation: &reservation::Model,
        settings: &'a BusinessSettings,
        now: DateTime<Utc>,
    ) -> Self {
        Outgoing {
            links: Links {
                tracking_url: ctx.tracking_url(&reservation.tracking_token),
                validation_url: None,
            },
            settings,
            now,
        }
    }
}

/// Who hears of a store's events, worked out once per store and audience:
/// the timers address many events of one store in one transaction. The
/// teams it works from come through the catalogue cache.
pub struct Addressing {
    cache: Arc<CatalogueCache>,
    teams: HashMap<i64, Arc<TeamAhead>>,
    recipients: HashMap<(i64, Audience), Vec<Recipient>>,
    managers: HashMap<i64, Vec<staff::Model>>,
}

impl Addressing {
    /// Reads teams through `cache`, and keeps there what it reads.
    pub fn new(cache: Arc<CatalogueCache>) -> Self {
        Self {
            cache,
            teams: HashMap::new(),
            recipients: HashMap::new(),
            managers: HashMap::new(),
        }
    }

    /// Reads who hears `store`'s team alerts (and, when nobody on the list
    /// is reachable, its managers) before a write transaction starts, so the
    /// transaction does not spend the writer's turn reading them.
    pub async fn read_team_ahead(
        &mut self,
        conn: &impl ConnectionTrait,
        store: &store::Model,
        settings: &BusinessSettings,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let people = self
            .recipients(conn, store, settings, Audience::Team, now)
            .await?;
        if people.iter().all(|person| person.channels.is_empty()) {
            self.managers(conn, store).await?;
        }
        Ok(())
    }

    async fn team(
        &mut self,
        conn: &impl ConnectionTrait,
        store_id: i64,
    ) -> Result<Arc<TeamAhead>, ApiError> {
        if let Some(team) = self.teams.get(&store_id) {
            return Ok(team.clone());
        }
        let team = match self.cache.team(store_id) {
            Some(kept) => kept,
            None => {
                let ticket = self.cache.ticket();
                let read = Arc::new(read_team(conn, store_id).await?);
                self.cache.keep_team(ticket, store_id, read.clone());
                read
            }
        };
        self.teams.insert(store_id, team.clone());
        Ok(team)
    }

    async fn recipients(
        &mut self,
        conn: &impl ConnectionTrait,
        store: &store::Model,
        settings: &BusinessSettings,
        audience: Audience,
        now: DateTime<Utc>,
    ) -> Result<&[Recipient], ApiError> {
        let key = (store.id, audience);
        if !self.recipients.contains_key(&key) {
            let team = self.team(conn, store.id).await?;
            let people = recipients(&team, store, settings.alert_recipients, audience, now)?;
            self.recipients.insert(key, people);
        }
        Ok(&self.recipients[&key])
    }

    async fn managers(
        &mut self,
        conn: &impl ConnectionTrait,
        store: &store::Model,
    ) -> Result<&[staff::Model], ApiError> {
        if !self.managers.contains_key(&store.id) {
            let team = self.team(conn, store.id).await?;
            let managers = team
                .members
                .iter()
                .filter(|member| member.role == "manager")
                .cloned()
                .collect();
            self.managers.insert(store.id, managers);
        }
        Ok(&self.managers[&store.id])
    }
}

/// Queues the messages that follow `event`, in one insert. `addressing`
/// may already hold who hears it (read before the transaction).
pub async fn enqueue_for_event(
    conn: &impl ConnectionTrait,
    addressing: &mut Addressing,
    event: &reservation_event::Model,
    reservation: &reservation::Model,
    customer: &customer::Model,
    store: &store::Model,
    outgoing: &Outgoing<'_>,
) -> Result<(), ApiError> {
    let messages = messages_for_event(
        conn,
        addressing,
        event,
        reservation,
        customer,
        store,
        outgoing,
    )
    .await?;
    outbox::enqueue_all(conn, messages, outgoing.now).await?;
    Ok(())
}

/// The messages that follow `event`, to queue in its transaction.
pub async fn messages_for_event(
    conn: &impl ConnectionTrait,
    addressing: &mut Addressing,
    event: &reservation_event::Model,
    reservation: &reservation::Model,
    customer: &customer::Model,
    store: &store::Model,
    outgoing: &Outgoing<'_>,
) -> Result<Vec<NewMessage>, ApiError> {
    let (links, settings, now) = (&outgoing.links, outgoing.settings, outgoing.now);
    let prefix = format!("ev:{}:{}", event.store_id, event.seq);
    let mut queued: Vec<NewMessage> = Vec::new();
    let mut queue = |topic: &'static str, dedup_key: String, payload: serde_json::Value| {
        queued.push(NewMessage {
            topic,
            dedup_key,
            payload,
            reservation_id: Some(reservation.id),
        })
    };
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
        queue(SHOPPER_EMAIL, format!("{prefix}:shopper"), payload.clone());
        // Pushes too, when the shopper opted in on the tracking page (never
        // yet when it was just made).
        if event.kind != "created"
            && crate::store::devices::count_for(conn, "reservation", reservation.id).await? > 0
        {
            queue(SHOPPER_PUSH, format!("{prefix}:shopper-push"), payload);
        }
    }
    if supersedes_alerts(&event.kind, event) {
        // Phones still show "to handle": replace that notification (same
        // topic / collapse key) with who handled it.
        let people = addressing
            .recipients(conn, store, settings, Audience::Team, now)
            .await?;
        for person in people {
            for channel in person.channels.iter().filter(|c| *c != "email") {
                let payload = json!({
                    "kind": event.kind,
                    "store": store.code,
                    "seq": event.seq,
                    "number": reservation.number,
                    "staff_id": person.staff_id,
                    "channel": channel,
                    "by": event.actor_name,
                });
                let key = format!("{prefix}:handled:{}:{channel}", person.staff_id);
                queue(TEAM_ALERT, key, payload);
            }
        }
    }
    if let Some(audience) = team_audience(&event.kind, reservation, event) {
        let people = addressing
            .recipients(conn, store, settings, audience, now)
            .await?;
        let base = json!({
            "kind": event.kind,
            "store": store.code,
            "seq": event.seq,
            "number": reservation.number,
        });
        let mut reachable = 0;
        for person in people {
            for channel in &person.channels {
                let mut payload = base.clone();
                payload["staff_id"] = json!(person.staff_id);
                payload["channel"] = json!(channel);
                if channel == "email" {
                    payload["to"] = json!(person.email);
                }
                let key = format!("{prefix}:staff:{}:{channel}", person.staff_id);
                queue(TEAM_ALERT, key, payload);
                reachable += 1;
            }
        }
        if reachable == 0 && audience == Audience::Team {
            // Nobody reachable on the list: the store's managers and its own
            // mailbox hear it by email.
            for manager in addressing.managers(conn, store).await? {
                let mut payload = base.clone();
                payload["channel"] = json!("email");
                payload["to"] = json!(manager.email);
                payload["staff_id"] = json!(manager.id);
                payload["fallback"] = json!(true);
                queue(
                    TEAM_ALERT,
                    format!("{prefix}:fallback:{}", manager.id),
                    payload,
                );
            }
            let mut payload = base;
            payload["channel"] = json!("email");
            payload["to"] = json!(store.email);
            payload["fallback"] = json!(true);
            queue(TEAM_ALERT, format!("{prefix}:store"), payload);
        }
    }
    Ok(queued)
}

pub mod defaults;
pub mod email;
pub mod links;
pub mod message;
pub mod qr;
pub mod templates;
pub mod worker;
