//! A reservation: its state, deadlines, tokens and how it ended.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reservations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub number: String,
    pub store_id: i64,
    pub customer_id: i64,
    pub state: String,
    pub source: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(unique)]
    pub tracking_token: String,
    pub validation_token: Option<String>,
    pub validate_by: Option<DateTimeUtc>,
    pub validated_at: Option<DateTimeUtc>,
    pub confirm_by: Option<DateTimeUtc>,
    pub set_aside_at: Option<DateTimeUtc>,
    pub pickup_by: Option<DateTimeUtc>,
    pub handled_by: Option<String>,
    pub handled_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    pub order_ref: Option<String>,
    pub reintegration: Option<String>,
    pub reason: Option<String>,
    pub was_set_aside: bool,
    pub version: i32,
    /// When the team is next reminded while pending (counted in opening time).
    pub next_reminder_at: Option<DateTimeUtc>,
    pub reminders_sent: i32,
    /// When the overdue escalation went out (at most once).
    pub overdue_notified_at: Option<DateTimeUtc>,
    /// When the shopper is reminded before the pickup deadline (cleared once sent).
    pub pickup_reminder_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
