//! The append-only event log, numbered per store.

use chrono::{DateTime, Utc};
use schema::entities::reservation_event;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::stores;

/// Who caused a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventActor {
    /// `shopper`, `staff`, `integration` or `system`.
    pub kind: &'static str,
    pub id: Option<String>,
    /// How people read it ("Julie Martin"); recorded as who handled it.
    pub name: Option<String>,
}

impl EventActor {
    pub fn system() -> Self {
        Self {
            kind: "system",
            id: None,
            name: None,
        }
    }
    pub fn shopper() -> Self {
        Self {
            kind: "shopper",
            id: None,
            name: None,
        }
    }
}

/// Appends an event with the store's next sequence number.
pub async fn append(
    conn: &impl ConnectionTrait,
    store_id: i64,
    reservation_id: i64,
    kind: &str,
    actor: &EventActor,
    at: DateTime<Utc>,
    data: serde_json::Value,
) -> Result<reservation_event::Model, DbErr> {
    let seq = stores::next_event_seq(conn, store_id).await?;
    let row = new_row(store_id, seq, reservation_id, kind, actor, at, &data);
    let result = reservation_event::Entity::insert(row).exec(conn).await?;
    Ok(reservation_event::Model {
        id: result.last_insert_id,
        store_id,
        seq,
        reservation_id,
        kind: kind.to_string(),
        actor_kind: actor.kind.to_string(),
        actor_id: actor.id.clone(),
        actor_name: actor.name.clone(),
        at,
        data: data.to_string(),
    })
}

fn new_row(
    store_id: i64,
    seq: i64,
    reservation_id: i64,
    kind: &str,
    actor: &EventActor,
    at: DateTime<Utc>,
    data: &serde_json::Value,
) -> reservation_event::ActiveModel {
    reservation_event::ActiveModel {
        store_id: Set(store_id),
        seq: Set(seq),
        reservation_id: Set(reservation_id),
        kind: Set(kind.to_string()),
        actor_kind: Set(actor.kind.to_string()),
        actor_id: Set(actor.id.clone()),
        actor_name: Set(actor.name.clone()),
        at: Set(at),
        data: Set(data.to_string()),
        ..Default::default()
    }
}

/// An event to append.
pub struct NewEvent {
    pub reservation_id: i64,
    pub kind: &'static str,
    pub at: DateTime<Utc>,
    pub data: serde_json::Value,
}

/// Appends a store's events by `actor` in one insert, numbered in order;
/// returns them as stored.
pub async fn append_all(
    conn: &impl ConnectionTrait,
    store_id: i64,
    actor: &EventActor,
    events: Vec<NewEvent>,
) -> Result<Vec<reservation_event::Model>, DbErr> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let first = stores::reserve_event_seqs(conn, store_id, events.len() as i64).await?;
    let rows: Vec<reservation_event::ActiveModel> = events
        .into_iter()
        .zip(first..)
        .map(|(e, seq)| {
            new_row(
                store_id,
                seq,
                e.reservation_id,
                e.kind,
                actor,
                e.at,
                &e.data,
            )
        })
        .collect();
    // Nine values a row: well under every backend's limit per statement.
    // The rows come back from the insert itself, not from a second read.
    let mut appended = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(500) {
        appended.extend(
            reservation_event::Entity::insert_many(chunk.to_vec())
                .exec_with_returning(conn)
                .await?,
        );
    }
    // RETURNING promises no order.
    appended.sort_unstable_by_key(|event| event.seq);
    Ok(appended)
}

pub async fn for_reservation(
    conn: &impl ConnectionTrait,
    reservation_id: i64,
) -> Result<Vec<reservation_event::Model>, DbErr> {
    reservation_event::Entity::find()
        .filter(reservation_event::Column::ReservationId.eq(reservation_id))
        .order_by_asc(reservation_event::Column::Seq)
        .all(conn)
        .await
}

/// A store's events with `from <= seq < to`, in order.
pub async fn for_store_range(
    conn: &impl ConnectionTrait,
    store_id: i64,
    from: i64,
    to: i64,
) -> Result<Vec<reservation_event::Model>, DbErr> {
    reservation_event::Entity::find()
        .filter(reservation_event::Column::StoreId.eq(store_id))
        .filter(reservation_event::Column::Seq.gte(from))
        .filter(reservation_event::Column::Seq.lt(to))
        .order_by_asc(reservation_event::Column::Seq)
        .all(conn)
        .await
}

/// Up to `limit` events of a store after `after`, in order.
pub async fn for_store_after(
    conn: &impl ConnectionTrait,
    store_id: i64,
    after: i64,
    limit: u64,
) -> Result<Vec<reservation_event::Model>, DbErr> {
    use sea_orm::QuerySelect;
    reservation_event::Entity::find()
        .filter(reservation_event::Column::StoreId.eq(store_id))
        .filter(reservation_event::Column::Seq.gt(after))
        .order_by_asc(reservation_event::Column::Seq)
        .limit(limit)
        .all(conn)
        .await
}
