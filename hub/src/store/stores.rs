//! Stores and their event sequence counters.

use chrono::{DateTime, Utc};
use schema::entities::store;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

pub async fn find_by_code(
    conn: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<store::Model>, DbErr> {
    super::by_key(
        store::Entity::find().filter(store::Column::Code.eq(code)),
        conn,
    )
    .await
}

pub async fn find_by_id(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<store::Model>, DbErr> {
    super::by_key(store::Entity::find_by_id(id), conn).await
}

pub async fn list(conn: &impl ConnectionTrait) -> Result<Vec<store::Model>, DbErr> {
    store::Entity::find()
        .order_by_asc(store::Column::Code)
        .all(conn)
        .await
}

/// Hands out the store's next event number. Run inside the transaction that
/// writes the event: the row lock orders writers, a rollback returns the number.
pub async fn next_event_seq(conn: &impl ConnectionTrait, store_id: i64) -> Result<i64, DbErr> {
    // The same statement as a batch's: PostgreSQL prepares it once, with
    // the type of its first binding.
    reserve_event_seqs(conn, store_id, 1).await
}

/// Reserves `count` event numbers of a store at once; returns the first.
pub async fn reserve_event_seqs(
    conn: &impl ConnectionTrait,
    store_id: i64,
    count: i64,
) -> Result<i64, DbErr> {
    let statement = Query::update()
        .table("stores")
        .value("event_seq", Expr::col("event_seq").add(count))
        .and_where(Expr::col("id").eq(store_id))
        .returning_col("event_seq")
        .to_owned();
    let row = conn
        .query_one(&statement)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("store {store_id}")))?;
    let last: i64 = row.try_get("", "event_seq")?;
    Ok(last - count + 1)
}

/// Fields a store is created or replaced with.
pub struct StoreFields {
    pub name: String,
    pub email: String,
    pub time_zone: String,
    pub opening_hours_json: String,
    pub closed_dates_json: String,
    pub address: String,
}

pub async fn insert(
    conn: &impl ConnectionTrait,
    code: &str,
    fields: StoreFields,
    now: DateTime<Utc>,
) -> Result<store::Model, DbErr> {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    store::ActiveModel {
        code: Set(code.to_string()),
        name: Set(fields.name),
        email: Set(fields.email),
        time_zone: Set(fields.time_zone),
        opening_hours: Set(fields.opening_hours_json),
        closed_dates: Set(fields.closed_dates_json),
        address: Set(fields.address),
        event_seq: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
}

pub async fn update(
    conn: &impl ConnectionTrait,
    existing: store::Model,
    fields: StoreFields,
) -> Result<store::Model, DbErr> {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
    let mut model = existing.into_active_model();
    model.name = Set(fields.name);
    model.email = Set(fields.email);
    model.time_zone = Set(fields.time_zone);
    model.opening_hours = Set(fields.opening_hours_json);
    model.closed_dates = Set(fields.closed_dates_json);
    model.address = Set(fields.address);
    model.update(conn).await
}
