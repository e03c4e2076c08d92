//! Idempotency records: the first answer to a create, per caller and key.

use chrono::{DateTime, Utc};
use schema::entities::idempotency_record;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

pub async fn find(
    conn: &impl ConnectionTrait,
    caller: &str,
    key: &str,
) -> Result<Option<idempotency_record::Model>, DbErr> {
    super::by_key(
        idempotency_record::Entity::find_by_id((caller.to_string(), key.to_string())),
        conn,
    )
    .await
}

/// Claims the key; fails with a unique violation if another request has it.
pub async fn insert(
    conn: &impl ConnectionTrait,
    caller: &str,
    key: &str,
    request_hash: &str,
    status_code: u16,
    response_body: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = idempotency_record::ActiveModel {
        caller: Set(caller.to_string()),
        key: Set(key.to_string()),
        request_hash: Set(request_hash.to_string()),
        status_code: Set(i32::from(status_code)),
        response_body: Set(response_body.to_string()),
        created_at: Set(now),
    };
    idempotency_record::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Records the answer of the request that claimed the key.
pub async fn complete(
    conn: &impl ConnectionTrait,
    caller: &str,
    key: &str,
    status_code: u16,
    response_body: &str,
) -> Result<(), DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
    idempotency_record::Entity::update_many()
        .col_expr(
            idempotency_record::Column::StatusCode,
            Expr::value(i32::from(status_code)),
        )
        .col_expr(
            idempotency_record::Column::ResponseBody,
            Expr::value(response_body.to_string()),
        )
        .filter(idempotency_record::Column::Caller.eq(caller))
        .filter(idempotency_record::Column::Key.eq(key))
        .exec(conn)
        .await?;
    Ok(())
}
