//! Stock levels. Holds are single conditional UPDATEs so that concurrent
//! requests can never hold more than is on hand, on SQLite and PostgreSQL.

use chrono::{DateTime, Utc};
use schema::entities::{article, stock_level, store};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationDef,
};

use crate::domain::stock::StockLevel;

pub async fn level(
    conn: &impl ConnectionTrait,
    store_id: i64,
    article_id: i64,
) -> Result<StockLevel, DbErr> {
    let row = super::by_key(
        stock_level::Entity::find_by_id((store_id, article_id)),
        conn,
    )
    .await?;
    Ok(level_of(row.as_ref()))
}

/// A row's level; no row means nothing on hand and nothing held.
fn level_of(row: Option<&stock_level::Model>) -> StockLevel {
    row.map(|row| StockLevel {
        on_hand: row.on_hand,
        held: row.held,
    })
    .unwrap_or(StockLevel {
        on_hand: 0,
        held: 0,
    })
}

/// Holds `quantity` units if that many are available; false otherwise.
pub async fn try_hold(
    conn: &impl ConnectionTrait,
    store_id: i64,
    article_id: i64,
    quantity: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = stock_level::Entity::update_many()
        .col_expr(
            stock_level::Column::Held,
            Expr::col(stock_level::Column::Held).add(quantity),
        )
        .col_expr(stock_level::Column::UpdatedAt, Expr::value(now))
        .filter(stock_level::Column::StoreId.eq(store_id))
        .filter(stock_level::Column::ArticleId.eq(article_id))
        .filter(
            Expr::col(stock_level::Column::OnHand)
                .sub(Expr::col(stock_level::Column::Held))
                .gte(quantity),
        )
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Waits until no other transaction counts `store_code`'s stock, and keeps
/// the turn until this one ends (PostgreSQL only: SQLite has one writer).
pub async fn take_count_turn(conn: &impl ConnectionTrait, store_code: &str) -> Result<(), DbErr> {
    if conn.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    // Two keys: this lock's kind, and the store. Codes that hash alike only
    // share turns.
    conn.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock(hashtext('storehub.stock_count'), hashtext($1))",
        [store_code.into()],
    ))
    .await?;
    Ok(())
}

/// Gives back a hold. `consumed` units also leave `on_hand` (handed over, or
/// not put back on the shelf).
pub async fn release(
    conn: &impl ConnectionTrait,
    store_id: i64,
    article_id: i64,
    quantity: i64,
    consumed: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let result = stock_level::Entity::update_many()
        .col_expr(
            stock_level::Column::Held,
            Expr::col(stock_level::Column::Held).sub(quantity),
        )
        .col_expr(
            stock_level::Column::OnHand,
            Expr::col(stock_level::Column::OnHand).sub(consumed),
        )
        .col_expr(stock_level::Column::UpdatedAt, Expr::value(now))
        .filter(stock_level::Column::StoreId.eq(store_id))
        .filter(stock_level::Column::ArticleId.eq(article_id))
        .filter(stock_level::Column::Held.gte(quantity))
        .exec(conn)
        .await?;
    if result.rows_affected != 1 {
        return Err(DbErr::Custom(format!(
            "release of {quantity} on store {store_id} article {article_id} found fewer held"
        )));
    }
    Ok(())
}

/// Takes units out of stock that are gone (not put back on the shelf),
/// never below what is held.
pub async fn remove_units(
    conn: &impl ConnectionTrait,
    store_id: i64,
    article_id: i64,
    units: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let level = level(conn, store_id, article_id).await?;
    let removable = Ord::max(Ord::min(units, level.available()), 0);
    if removable == 0 {
        return Ok(());
    }
    stock_level::Entity::update_many()
        .col_expr(
            stock_level::Column::OnHand,
            Expr::col(stock_level::Column::OnHand).sub(removable),
        )
        .col_expr(stock_level::Column::UpdatedAt, Expr::value(now))
        .filter(stock_level::Column::StoreId.eq(store_id))
        .filter(stock_level::Column::ArticleId.eq(article_id))
        .filter(
            Expr::col(stock_level::Column::OnHand)
                .sub(Expr::col(stock_level::Column::Held))
                .gte(removable),
        )
        .exec(conn)
        .await?;
    Ok(())
}

/// Sets the till's count. The caller has already made room (auto-cancels).
pub async fn set_on_hand(
    conn: &impl ConnectionTrait,
    store_id: i64,
    article_id: i64,
    on_hand: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = stock_level::ActiveModel {
        store_id: Set(store_id),
        article_id: Set(article_id),
        on_hand: Set(on_hand),
        held: Set(0),
        updated_at: Set(now),
    };
    stock_level::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([stock_level::Column::StoreId, stock_level::Column::ArticleId])
                .update_columns([stock_level::Column::OnHand, stock_level::Column::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Availability of one SKU in every store: (store code, level).
pub async fn levels_for_article(
    conn: &impl ConnectionTrait,
    article_id: i64,
) -> Result<Vec<(String, StockLevel)>, DbErr> {
    let rows = stock_level::Entity::find()
        .filter(stock_level::Column::ArticleId.eq(article_id))
        .all(conn)
        .await?;
    let stores = store::Entity::find()
        .order_by_asc(store::Column::Code)
        .all(conn)
        .await?;
    Ok(stores
        .into_iter()
        .map(|s| {
            let level = level_of(rows.iter().find(|row| row.store_id == s.id));
            (s.code, level)
        })
        .collect())
}

/// Every level of a store with its SKU, for the stock listing.
pub async fn levels_for_store(
    conn: &impl ConnectionTrait,
    store_id: i64,
) -> Result<Vec<(String, StockLevel)>, DbErr> {
    let relation: RelationDef = stock_level::Entity::belongs_to_article();
    let rows: Vec<(String, i64, i64)> = stock_level::Entity::find()
        .select_only()
        .column(article::Column::Sku)
        .column(stock_level::Column::OnHand)
        .column(stock_level::Column::Held)
        .join(JoinType::InnerJoin, relation)
        .filter(stock_level::Column::StoreId.eq(store_id))
        .order_by_asc(article::Column::Sku)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(sku, on_hand, held)| (sku, StockLevel { on_hand, held }))
        .collect())
}

trait StockRelations {
    fn belongs_to_article() -> RelationDef;
}

impl StockRelations for stock_level::Entity {
    fn belongs_to_article() -> RelationDef {
        stock_level::Entity::belongs_to(article::Entity)
            .from(stock_level::Column::ArticleId)
            .to(article::Column::Id)
            .into()
    }
}
