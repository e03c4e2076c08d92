//! One article line of a reservation, with a snapshot of the article at the time.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reservation_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub reservation_id: i64,
    pub article_id: i64,
    pub sku: String,
    pub designation: String,
    pub variant: Option<String>,
    pub ean: Option<String>,
    pub quantity: i64,
    pub put_back_quantity: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
