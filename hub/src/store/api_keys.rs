//! Integration API keys, stored as SHA-256 digests.

use chrono::{DateTime, Utc};
use schema::entities::api_key;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};

pub async fn insert(
    conn: &impl ConnectionTrait,
    name: &str,
    prefix: &str,
    key_hash: &str,
    now: DateTime<Utc>,
) -> Result<api_key::Model, DbErr> {
    api_key::ActiveModel {
        name: Set(name.to_string()),
        prefix: Set(prefix.to_string()),
        key_hash: Set(key_hash.to_string()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
}

pub async fn find_active_by_hash(
    conn: &impl ConnectionTrait,
    key_hash: &str,
) -> Result<Option<api_key::Model>, DbErr> {
    super::by_key(
        api_key::Entity::find()
            .filter(api_key::Column::KeyHash.eq(key_hash))
            .filter(api_key::Column::RevokedAt.is_null()),
        conn,
    )
    .await
}

pub async fn list(conn: &impl ConnectionTrait) -> Result<Vec<api_key::Model>, DbErr> {
    api_key::Entity::find()
        .order_by_asc(api_key::Column::Id)
        .all(conn)
        .await
}

pub async fn revoke(
    conn: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = api_key::Entity::update_many()
        .col_expr(
            api_key::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(api_key::Column::Id.eq(id))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
