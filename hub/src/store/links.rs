//! Action links already used (each works once).

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, Statement};

/// Records a link as used; false if it already was.
pub async fn mark_used(
    conn: &impl ConnectionTrait,
    key: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "INSERT INTO action_links_used (link_hash, used_at) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        }
        _ => {
            "INSERT INTO action_links_used (link_hash, used_at) VALUES (?, ?) ON CONFLICT DO NOTHING"
        }
    };
    let result = conn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [key.into(), now.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}
