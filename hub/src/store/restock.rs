//! Requests to be told when an article is back in stock at a store.

use chrono::{DateTime, Utc};
use schema::entities::restock_request;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, sea_query::Expr,
};

pub async fn insert(
    conn: &impl ConnectionTrait,
    store_id: i64,
    article_id: i64,
    email: Option<String>,
    staff_id: Option<i64>,
    language: &str,
    now: DateTime<Utc>,
) -> Result<restock_request::Model, DbErr> {
    restock_request::ActiveModel {
        store_id: Set(store_id),
        article_id: Set(article_id),
        email: Set(email),
        staff_id: Set(staff_id),
        language: Set(language.to_string()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
}

/// Requests still waiting for this article in this store.
pub async fn waiting(
    conn: &impl ConnectionTrait,
    store_id: i64,
    article_id: i64,
) -> Result<Vec<restock_request::Model>, DbErr> {
    restock_request::Entity::find()
        .filter(restock_request::Column::StoreId.eq(store_id))
        .filter(restock_request::Column::ArticleId.eq(article_id))
        .filter(restock_request::Column::NotifiedAt.is_null())
        .all(conn)
        .await
}

/// Marks a request answered, once.
pub async fn mark_notified(
    conn: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = restock_request::Entity::update_many()
        .col_expr(restock_request::Column::NotifiedAt, Expr::value(now))
        .filter(restock_request::Column::Id.eq(id))
        .filter(restock_request::Column::NotifiedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
