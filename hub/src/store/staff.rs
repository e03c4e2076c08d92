//! Staff accounts, memberships and sessions.

use chrono::{DateTime, Utc};
use schema::entities::{staff, staff_session, staff_store, store};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType,
    QueryFilter, QueryOrder, QuerySelect, RelationDef,
};

/// An active account behind a session token, with its stores.
pub struct SignedIn {
    pub staff_id: i64,
    pub name: String,
    pub role: String,
    pub expires_at: DateTime<Utc>,
    pub store_ids: Vec<i64>,
}

/// staff id, name, role, session expiry, and one of the account's stores.
type SignedInRow = (i64, String, String, DateTime<Utc>, Option<i64>);

/// The session, its active account and the account's stores in one read:
/// every staff request and WebSocket starts here, and a reconnect storm
/// makes thousands at once. None for an unknown token or inactive account.
pub async fn signed_in(
    conn: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<SignedIn>, DbErr> {
    let session_of: RelationDef = staff_session::Entity::belongs_to(staff::Entity)
        .from(staff_session::Column::StaffId)
        .to(staff::Column::Id)
        .into();
    let stores_of: RelationDef = staff_store::Entity::belongs_to(staff::Entity)
        .from(staff_store::Column::StaffId)
        .to(staff::Column::Id)
        .into();
    // One row per store (one with no store for an account without any).
    let rows: Vec<SignedInRow> = staff_session::Entity::find()
        .select_only()
        .column(staff::Column::Id)
        .column(staff::Column::Name)
        .column(staff::Column::Role)
        .column(staff_session::Column::ExpiresAt)
        .column(staff_store::Column::StoreId)
        .join(JoinType::InnerJoin, session_of)
        .join(JoinType::LeftJoin, stores_of.rev())
        .filter(staff_session::Column::TokenHash.eq(token_hash))
        .filter(staff::Column::Active.eq(true))
        .into_tuple()
        .all(conn)
        .await?;
    let mut rows = rows.into_iter();
    let Some((staff_id, name, role, expires_at, first_store)) = rows.next() else {
        return Ok(None);
    };
    let store_ids = first_store
        .into_iter()
        .chain(rows.filter_map(|row| row.4))
        .collect();
    Ok(Some(SignedIn {
        staff_id,
        name,
        role,
        expires_at,
        store_ids,
    }))
}

pub async fn find_by_email(
    conn: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<staff::Model>, DbErr> {
    super::by_key(
        staff::Entity::find().filter(staff::Column::Email.eq(email)),
        conn,
    )
    .await
}

pub async fn find_by_id(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<staff::Model>, DbErr> {
    super::by_key(staff::Entity::find_by_id(id), conn).await
}

pub async fn insert(
    conn: &impl ConnectionTrait,
    email: &str,
    name: &str,
    password_hash: &str,
    role: &str,
    now: DateTime<Utc>,
) -> Result<staff::Model, DbErr> {
    staff::ActiveModel {
        email: Set(email.to_string()),
        name: Set(name.to_string()),
        password_hash: Set(password_hash.to_string()),
        role: Set(role.to_string()),
        active: Set(true),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
}

/// Replaces the staff member's store memberships.
pub async fn set_stores(
    conn: &impl ConnectionTrait,
    staff_id: i64,
    store_ids: &[i64],
) -> Result<(), DbErr> {
    staff_store::Entity::delete_many()
        .filter(staff_store::Column::StaffId.eq(staff_id))
        .exec(conn)
        .await?;
    if store_ids.is_empty() {
        return Ok(());
    }
    let rows = store_ids.iter().map(|store_id| staff_store::ActiveModel {
        staff_id: Set(staff_id),
        store_id: Set(*store_id),
    });
    staff_store::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

pub async fn store_ids(conn: &impl ConnectionTrait, staff_id: i64) -> Result<Vec<i64>, DbErr> {
    staff_store::Entity::find()
        .select_only()
        .column(staff_store::Column::StoreId)
        .filter(staff_store::Column::StaffId.eq(staff_id))
        .into_tuple()
        .all(conn)
        .await
}

pub async fn store_codes(conn: &impl ConnectionTrait, staff_id: i64) -> Result<Vec<String>, DbErr> {
    let ids = store_ids(conn, staff_id).await?;
    store::Entity::find()
        .select_only()
        .column(store::Column::Code)
        .filter(store::Column::Id.is_in(ids))
        .order_by_asc(store::Column::Code)
        .into_tuple()
        .all(conn)
        .await
}

/// Members of a store (all roles), for "every user" alerts and listings.
pub async fn members_of_store(
    conn: &impl ConnectionTrait,
    store_id: i64,
) -> Result<Vec<staff::Model>, DbErr> {
    // One statement: every create of a store without an alert list reads it.
    let member_ids = Query::select()
        .column(staff_store::Column::StaffId)
        .from(staff_store::Entity)
        .and_where(Expr::col(staff_store::Column::StoreId).eq(store_id))
        .to_owned();
    staff::Entity::find()
        .filter(staff::Column::Id.in_subquery(member_ids))
        .filter(staff::Column::Active.eq(true))
        .order_by_asc(staff::Column::Id)
        .all(conn)
        .await
}

pub async fn insert_session(
    conn: &impl ConnectionTrait,
    staff_id: i64,
    token_hash: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    staff_session::ActiveModel {
        staff_id: Set(staff_id),
        token_hash: Set(token_hash.to_string()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

pub async fn delete_session(conn: &impl ConnectionTrait, token_hash: &str) -> Result<(), DbErr> {
    staff_session::Entity::delete_many()
        .filter(staff_session::Column::TokenHash.eq(token_hash))
        .exec(conn)
        .await?;
    Ok(())
}
