//! A device that receives pushes: a staff member's phone or a shopper's browser.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "push_devices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `staff` or `reservation`.
    pub owner_kind: String,
    pub owner_id: i64,
    /// `web_push` or `fcm`.
    pub transport: String,
    #[sea_orm(unique)]
    pub address: String,
    pub p256dh: Option<String>,
    pub auth: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
