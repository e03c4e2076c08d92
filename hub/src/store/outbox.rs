//! The outbox: side effects recorded in the business transaction, delivered
//! later by workers. A dedup key makes writing the same message twice a no-op.

use chrono::{DateTime, Utc};
use schema::entities::outbox;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

/// Queues one message; an existing row with the same dedup key wins.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    topic: &str,
    dedup_key: &str,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = outbox::ActiveModel {
        topic: Set(topic.to_string()),
        dedup_key: Set(dedup_key.to_string()),
        payload: Set(payload.to_string()),
        status: Set("queued".into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        ..Default::default()
    };
    outbox::Entity::insert(row)
        .on_conflict(
            OnConflict::column(outbox::Column::DedupKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Messages whose dedup key starts with `prefix` (one reservation's, say).
pub async fn with_prefix(
    conn: &impl ConnectionTrait,
    prefix: &str,
) -> Result<Vec<outbox::Model>, DbErr> {
    outbox::Entity::find()
        .filter(outbox::Column::DedupKey.starts_with(prefix))
        .order_by_asc(outbox::Column::Id)
        .all(conn)
        .await
}
