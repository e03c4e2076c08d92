//! A store: where shoppers pick up, with its opening hours and event sequence.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stores")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub email: String,
    pub time_zone: String,
    /// JSON: `{"mon":[["09:00","19:00"]],...}` in the store's time zone.
    #[sea_orm(column_type = "Text")]
    pub opening_hours: String,
    /// JSON list of `YYYY-MM-DD` dates the store is closed.
    #[sea_orm(column_type = "Text")]
    pub closed_dates: String,
    #[sea_orm(column_type = "Text")]
    pub address: String,
    pub event_seq: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
