//! Articles (variants, one per SKU).

use chrono::{DateTime, Utc};
use schema::entities::article;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder,
};

pub async fn find_by_sku(
    conn: &impl ConnectionTrait,
    sku: &str,
) -> Result<Option<article::Model>, DbErr> {
    super::by_key(
        article::Entity::find().filter(article::Column::Sku.eq(sku)),
        conn,
    )
    .await
}

pub async fn find_by_skus(
    conn: &impl ConnectionTrait,
    skus: &[String],
) -> Result<Vec<article::Model>, DbErr> {
    article::Entity::find()
        .filter(article::Column::Sku.is_in(skus.iter().cloned()))
        .all(conn)
        .await
}

/// Creates the article or replaces its fields.
pub async fn upsert(
    conn: &impl ConnectionTrait,
    sku: &str,
    designation: &str,
    variant: Option<String>,
    ean: Option<String>,
    reservable: bool,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let model = article::ActiveModel {
        sku: Set(sku.to_string()),
        designation: Set(designation.to_string()),
        variant: Set(variant),
        ean: Set(ean),
        reservable: Set(reservable),
        updated_at: Set(now),
        ..Default::default()
    };
    article::Entity::insert(model)
        .on_conflict(
            OnConflict::column(article::Column::Sku)
                .update_columns([
                    article::Column::Designation,
                    article::Column::Variant,
                    article::Column::Ean,
                    article::Column::Reservable,
                    article::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// What a bulk reservable change applies to.
pub enum ArticleSelection {
    Skus(Vec<String>),
    /// SKU prefix and/or words of the designation (case-insensitive).
    Filter {
        sku_prefix: Option<String>,
        designation_contains: Option<String>,
    },
}

fn lower_like(column: article::Column, pattern: String) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{ExprTrait, Func};
    Expr::expr(Func::lower(Expr::col(column))).like(pattern.to_lowercase())
}

/// Escapes LIKE wildcards in user text.
pub fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

pub async fn set_reservable(
    conn: &impl ConnectionTrait,
    selection: ArticleSelection,
    reservable: bool,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let condition = match selection {
        ArticleSelection::Skus(skus) => Condition::all().add(article::Column::Sku.is_in(skus)),
        ArticleSelection::Filter {
            sku_prefix,
            designation_contains,
        } => {
            let mut condition = Condition::all();
            if let Some(prefix) = sku_prefix {
                condition = condition.add(article::Column::Sku.starts_with(prefix));
            }
            if let Some(words) = designation_contains {
                condition = condition.add(lower_like(
                    article::Column::Designation,
                    format!("%{}%", like_escape(&words)),
                ));
            }
            condition
        }
    };
    let result = article::Entity::update_many()
        .col_expr(article::Column::Reservable, Expr::value(reservable))
        .col_expr(article::Column::UpdatedAt, Expr::value(now))
        .filter(condition)
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

pub async fn list(conn: &impl ConnectionTrait) -> Result<Vec<article::Model>, DbErr> {
    article::Entity::find()
        .order_by_asc(article::Column::Sku)
        .all(conn)
        .await
}
