//! Customers: found or created by their identity key, and what they hold.

use chrono::{DateTime, Utc};
use schema::entities::{customer, reservation, reservation_line};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
};

use crate::domain::limits::CustomerTotals;
use crate::domain::reservation::State;

/// Contact details as given in a request.
pub struct CustomerFields {
    pub key: String,
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub identified: bool,
    pub external_id: Option<String>,
    pub language: String,
}

/// Finds or creates the customer, keeping the latest contact details the
/// shopper gave, in one statement. On PostgreSQL the upsert also locks the
/// row until the transaction ends, so two requests of one shopper check
/// limits in turn (SQLite has one writer at a time).
pub async fn upsert_locked(
    conn: &impl ConnectionTrait,
    fields: CustomerFields,
    now: DateTime<Utc>,
) -> Result<customer::Model, DbErr> {
    let row = customer::ActiveModel {
        customer_key: Set(fields.key),
        email: Set(fields.email),
        first_name: Set(fields.first_name),
        last_name: Set(fields.last_name),
        phone: Set(fields.phone),
        identified: Set(fields.identified),
        external_id: Set(fields.external_id),
        language: Set(fields.language),
        created_at: Set(now),
        ..Default::default()
    };
    customer::Entity::insert(row)
        .on_conflict(
            OnConflict::column(customer::Column::CustomerKey)
                .update_columns([
                    customer::Column::FirstName,
                    customer::Column::LastName,
                    customer::Column::Phone,
                    customer::Column::Email,
                    customer::Column::Language,
                ])
                .to_owned(),
        )
        .exec_with_returning(conn)
        .await
}

pub async fn find_by_id(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<customer::Model>, DbErr> {
    super::by_key(customer::Entity::find_by_id(id), conn).await
}

pub async fn find_many(
    conn: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<Vec<customer::Model>, DbErr> {
    customer::Entity::find()
        .filter(customer::Column::Id.is_in(ids))
        .all(conn)
        .await
}

/// Open reservations and units held by one customer.
pub async fn totals(
    conn: &impl ConnectionTrait,
    customer_id: i64,
) -> Result<CustomerTotals, DbErr> {
    let open_states: Vec<&str> = [State::AwaitingValidation, State::Pending, State::SetAside]
        .iter()
        .map(|s| s.as_str())
        .collect();
    let open: Vec<i64> = reservation::Entity::find()
        .select_only()
        .column(reservation::Column::Id)
        .filter(reservation::Column::CustomerId.eq(customer_id))
        .filter(reservation::Column::State.is_in(open_states))
        .into_tuple()
        .all(conn)
        .await?;
    if open.is_empty() {
        return Ok(CustomerTotals::default());
    }
    let quantities: Vec<i64> = reservation_line::Entity::find()
        .select_only()
        .column(reservation_line::Column::Quantity)
        .filter(reservation_line::Column::ReservationId.is_in(open.clone()))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(CustomerTotals {
        open_reservations: u32::try_from(open.len()).unwrap_or(u32::MAX),
        items_held: quantities
            .iter()
            .map(|q| u64::try_from(*q).unwrap_or(0))
            .sum(),
    })
}
