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
    let mut layers = layers(conn, &[scope]).await?;
    Ok(layers.pop().unwrap_or_default())
}

/// The values stored for each of `scopes`, in their order, in one query.
pub async fn layers(
    conn: &impl ConnectionTrait,
    scopes: &[&str],
) -> Result<Vec<Map<String, Value>>, DbErr> {
    let rows = setting::Entity::find()
        .filter(setting::Column::Scope.is_in(scopes.iter().copied()))
        .all(conn)
        .await?;
    let mut layers = vec![Map::new(); scopes.len()];
    for row in rows {
        let (Some(index), Ok(value)) = (
            scopes.iter().position(|scope| *scope == row.scope),
            serde_json::from_str(&row.value),
        ) else {
            continue;
        };
        layers[index].insert(row.key, value);
    }
    Ok(layers)
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
