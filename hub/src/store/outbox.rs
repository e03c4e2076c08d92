//! The outbox: side effects recorded in the business transaction, delivered
//! later by workers. A dedup key makes writing the same message twice a no-op.

use chrono::{DateTime, Utc};
use schema::entities::outbox;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

/// A message to queue.
#[derive(Debug)]
pub struct NewMessage {
    pub topic: &'static str,
    pub dedup_key: String,
    pub payload: serde_json::Value,
    pub reservation_id: Option<i64>,
}

/// Queues one message; an existing row with the same dedup key wins.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    topic: &'static str,
    dedup_key: &str,
    payload: serde_json::Value,
    reservation_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let message = NewMessage {
        topic,
        dedup_key: dedup_key.to_string(),
        payload,
        reservation_id,
    };
    enqueue_all(conn, vec![message], now).await
}

/// Queues messages in as few statements as the backend allows (one per
/// 100); an existing row with the same dedup key wins.
pub async fn enqueue_all(
    conn: &impl ConnectionTrait,
    messages: Vec<NewMessage>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut rows = messages.into_iter().map(|message| outbox::ActiveModel {
        reservation_id: Set(message.reservation_id),
        topic: Set(message.topic.to_string()),
        dedup_key: Set(message.dedup_key),
        payload: Set(message.payload.to_string()),
        status: Set("queued".into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        ..Default::default()
    });
    loop {
        let chunk: Vec<outbox::ActiveModel> = rows.by_ref().take(100).collect();
        if chunk.is_empty() {
            return Ok(());
        }
        outbox::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::column(outbox::Column::DedupKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
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

/// A reservation's messages, for its delivery status.
pub async fn for_reservation(
    conn: &impl ConnectionTrait,
    reservation_id: i64,
) -> Result<Vec<outbox::Model>, DbErr> {
    outbox::Entity::find()
        .filter(outbox::Column::ReservationId.eq(reservation_id))
        .order_by_asc(outbox::Column::Id)
        .all(conn)
        .await
}

/// Claims up to `limit` due messages for `lease` (also counts the attempt).
/// PostgreSQL skips rows another worker holds; SQLite has one writer.
pub async fn claim(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<outbox::Model>, DbErr> {
    use sea_orm::{DbBackend, FromQueryResult, Statement};
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "UPDATE outbox SET lease_until = $1, attempts = attempts + 1 WHERE id IN (\
             SELECT id FROM outbox WHERE status = 'queued' AND next_attempt_at <= $2 \
             AND (lease_until IS NULL OR lease_until < $2) ORDER BY next_attempt_at, id \
             LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING *"
        }
        _ => {
            "UPDATE outbox SET lease_until = ?, attempts = attempts + 1 WHERE id IN (\
             SELECT id FROM outbox WHERE status = 'queued' AND next_attempt_at <= ? \
             AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_attempt_at, id \
             LIMIT ?) RETURNING *"
        }
    };
    let limit = i64::try_from(limit).unwrap_or(100);
    let values: Vec<sea_orm::Value> = match backend {
        DbBackend::Postgres => vec![lease_until.into(), now.into(), limit.into()],
        _ => vec![lease_until.into(), now.into(), now.into(), limit.into()],
    };
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    rows.iter()
        .map(|row| outbox::Model::from_query_result(row, ""))
        .collect()
}

/// Gives claimed messages back unsent (lease cleared, the claim's attempt
/// not counted), each only if its claim is still ours.
pub async fn release_all(
    conn: &impl ConnectionTrait,
    claims: &[(i64, DateTime<Utc>)],
) -> Result<(), DbErr> {
    use outbox::Column as C;
    use sea_orm::sea_query::{Expr, ExprTrait};
    for &(id, lease_until) in claims {
        outbox::Entity::update_many()
            .col_expr(C::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(C::Attempts, Expr::col(C::Attempts).sub(1))
            .filter(C::Id.eq(id))
            .filter(C::LeaseUntil.eq(lease_until))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// How a delivery attempt ended, as stored.
#[derive(Clone)]
pub struct Settled<'a> {
    pub status: &'a str,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Records the results of attempts, each only if its claim is still ours
/// (`lease_until` unchanged), in one statement per 500. The results join as
/// a `VALUES` list (`column1` id, `column2` lease, then status, error, sent
/// time and next attempt): a `CASE` per column made SQLite compare every
/// row with every result, and held the writer for milliseconds.
pub async fn settle_all(
    conn: &impl ConnectionTrait,
    results: &[(i64, DateTime<Utc>, Settled<'_>)],
) -> Result<(), DbErr> {
    use outbox::Column as C;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, IntoIden, Query, TableRef, ValueTuple};
    let list = Alias::new("outcomes");
    let of_list = |column: &str| Expr::col((list.clone(), Alias::new(column)));
    // Six values a row: well under every backend's limit per statement.
    for chunk in results.chunks(500) {
        let rows = chunk
            .iter()
            .map(|(id, lease_until, settled)| {
                ValueTuple::Many(vec![
                    (*id).into(),
                    (*lease_until).into(),
                    settled.status.into(),
                    settled.last_error.clone().into(),
                    settled.sent_at.into(),
                    settled.next_attempt_at.into(),
                ])
            })
            .collect();
        let statement = Query::update()
            .table(outbox::Entity)
            .value(C::Status, of_list("column3"))
            .value(C::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .value(C::LastError, of_list("column4"))
            .value(C::SentAt, of_list("column5"))
            // A retry moves its due time; an ended message keeps it.
            .value(
                C::NextAttemptAt,
                Func::coalesce([
                    of_list("column6"),
                    Expr::col((outbox::Entity, C::NextAttemptAt)),
                ]),
            )
            .from(TableRef::ValuesList(rows, list.clone().into_iden()))
            .and_where(Expr::col((outbox::Entity, C::Id)).eq(of_list("column1")))
            .and_where(Expr::col((outbox::Entity, C::LeaseUntil)).eq(of_list("column2")))
            .to_owned();
        conn.execute(&statement).await?;
    }
    Ok(())
}

/// The earliest time a queued message is due, to sleep until then.
pub async fn next_due(conn: &impl ConnectionTrait) -> Result<Option<DateTime<Utc>>, DbErr> {
    use sea_orm::QuerySelect;
    outbox::Entity::find()
        .select_only()
        .column(outbox::Column::NextAttemptAt)
        .filter(outbox::Column::Status.eq("queued"))
        .order_by_asc(outbox::Column::NextAttemptAt)
        .into_tuple()
        .one(conn)
        .await
}
