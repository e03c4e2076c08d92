//! Push devices of staff members and of shoppers (per reservation).

use chrono::{DateTime, Utc};
use schema::entities::push_device;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};

/// Registers a device; the same address registered again moves to the new owner.
#[allow(clippy::too_many_arguments)]
pub async fn upsert(
    conn: &impl ConnectionTrait,
    owner_kind: &str,
    owner_id: i64,
    transport: &str,
    address: &str,
    p256dh: Option<String>,
    auth: Option<String>,
    now: DateTime<Utc>,
) -> Result<push_device::Model, DbErr> {
    let row = push_device::ActiveModel {
        owner_kind: Set(owner_kind.to_string()),
        owner_id: Set(owner_id),
        transport: Set(transport.to_string()),
        address: Set(address.to_string()),
        p256dh: Set(p256dh),
        auth: Set(auth),
        created_at: Set(now),
        ..Default::default()
    };
    push_device::Entity::insert(row)
        .on_conflict(
            OnConflict::column(push_device::Column::Address)
                .update_columns([
                    push_device::Column::OwnerKind,
                    push_device::Column::OwnerId,
                    push_device::Column::Transport,
                    push_device::Column::P256dh,
                    push_device::Column::Auth,
                ])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    super::by_key(
        push_device::Entity::find().filter(push_device::Column::Address.eq(address)),
        conn,
    )
    .await?
    .ok_or_else(|| DbErr::RecordNotFound(address.to_string()))
}

pub async fn for_owner(
    conn: &impl ConnectionTrait,
    owner_kind: &str,
    owner_id: i64,
    transport: Option<&str>,
) -> Result<Vec<push_device::Model>, DbErr> {
    let mut query = push_device::Entity::find()
        .filter(push_device::Column::OwnerKind.eq(owner_kind))
        .filter(push_device::Column::OwnerId.eq(owner_id));
    if let Some(transport) = transport {
        query = query.filter(push_device::Column::Transport.eq(transport));
    }
    query.order_by_asc(push_device::Column::Id).all(conn).await
}

pub async fn count_for(
    conn: &impl ConnectionTrait,
    owner_kind: &str,
    owner_id: i64,
) -> Result<u64, DbErr> {
    push_device::Entity::find()
        .filter(push_device::Column::OwnerKind.eq(owner_kind))
        .filter(push_device::Column::OwnerId.eq(owner_id))
        .count(conn)
        .await
}

pub async fn find(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<push_device::Model>, DbErr> {
    super::by_key(push_device::Entity::find_by_id(id), conn).await
}

/// Forgets a device (gone at the push service, or removed by its owner).
pub async fn remove(conn: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    Ok(push_device::Entity::delete_by_id(id)
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}
