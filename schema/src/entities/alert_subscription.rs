//! A staff member on a store's alert list, with channels and quiet hours.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub store_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub staff_id: i64,
    /// JSON list: `ws`, `web_push`, `fcm`, `email`.
    #[sea_orm(column_type = "Text")]
    pub channels: String,
    /// JSON `{"from":"HH:MM","to":"HH:MM"}` in the store's time zone.
    #[sea_orm(column_type = "Text", nullable)]
    pub quiet_hours: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
