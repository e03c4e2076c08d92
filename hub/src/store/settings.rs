//! Settings rows: one JSON value per (scope, key).

use chrono::{DateTime, Utc};
use schema::entities::setting;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde_json::{Map, Value};

pub const GLOBAL: &str = "global";

pub fn store_scope(store_id: i64) -> String {
    format!("store:{store_id}")
}

/// The values stored for one scope.
pub async fn layer(conn: &impl ConnectionTrait, scope: &str) -> Result<Map<String, Value>, DbErr> {
    let rows = setting::Entity::find()
        .filter(setting::Column::Scope.eq(scope))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            serde_json::from_str(&row.value)
                .ok()
                .map(|value| (row.key, value))
        })
        .collect())
}

pub async fn put(
    conn: &impl ConnectionTrait,
    scope: &str,
    key: &str,
    value: &Value,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = setting::ActiveModel {
        scope: Set(scope.to_string()),
        key: Set(key.to_string()),
        value: Set(value.to_string()),
        updated_at: Set(now),
    };
    setting::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([setting::Column::Scope, setting::Column::Key])
                .update_columns([setting::Column::Value, setting::Column::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

pub async fn remove(conn: &impl ConnectionTrait, scope: &str, key: &str) -> Result<(), DbErr> {
    setting::Entity::delete_many()
        .filter(setting::Column::Scope.eq(scope))
        .filter(setting::Column::Key.eq(key))
        .exec(conn)
        .await?;
    Ok(())
}
