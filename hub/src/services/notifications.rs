//! Delivery status of a reservation's messages, and template editing.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::Caller;
use crate::context::AppContext;
use crate::error::ApiError;
use crate::notify::templates::{self, Rendered, TemplateSource};
use crate::store as db;

/// One message and where it stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: i64,
    /// `shopper.email`, `shopper.push`, `team.alert`, `push.device`.
    pub topic: String,
    /// `queued`, `sent`, `failed` or `gone`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The stable key that keeps a message from being written twice.
    pub key: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

pub async fn for_reservation(
    ctx: &AppContext,
    caller: &Caller,
    number: &str,
) -> Result<Vec<NotificationView>, ApiError> {
    let conn = ctx.db.conn();
    let reservation = super::reservations::find_typed_or_scanned(conn, number).await?;
    let store = db::stores::find_by_id(conn, reservation.store_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("store gone"))?;
    caller.require_store(store.id, &store.code)?;
    Ok(db::outbox::for_reservation(conn, reservation.id)
        .await?
        .into_iter()
        .map(|row| NotificationView {
            id: row.id,
            topic: row.topic,
            status: row.status,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at,
            last_error: row.last_error,
            sent_at: row.sent_at,
            key: row.dedup_key,
            payload: serde_json::from_str(&row.payload).unwrap_or_default(),
        })
        .collect())
}

fn check_name(name: &str, lang: &str) -> Result<(), ApiError> {
    if !templates::names().iter().any(|n| n == name) {
        return Err(ApiError::not_found(
            "unknown_template",
            format!(
                "There is no message `{name}`. Messages: {}.",
                templates::names().join(", ")
            ),
        ));
    }
    if !templates::LANGUAGES.contains(&lang) {
        return Err(ApiError::invalid(
            "invalid_language",
            format!(
                "Language `{lang}` is not offered; use {}.",
                templates::LANGUAGES.join(", ")
            ),
        ));
    }
    Ok(())
}

fn refused(err: templates::TemplateError) -> ApiError {
    ApiError::invalid(
        "invalid_template",
        format!(
            "The template was refused: {} part, line {}: {}.",
            err.part, err.line, err.reason
        ),
    )
}

pub async fn get(ctx: &AppContext, name: &str, lang: &str) -> Result<TemplateSource, ApiError> {
    check_name(name, lang)?;
    templates::current(ctx.db.conn(), name, lang)
        .await?
        .ok_or_else(|| ApiError::not_found("unknown_template", format!("No `{name}` in `{lang}`.")))
}

/// Validates and saves; answers with the sample rendering.
pub async fn put(
    ctx: &AppContext,
    name: &str,
    lang: &str,
    source: TemplateSource,
) -> Result<Rendered, ApiError> {
    check_name(name, lang)?;
    let rendered = templates::validate(&source, lang).map_err(refused)?;
    let tx = ctx.db.write().await?;
    templates::save(&*tx, name, lang, &source, ctx.clock.now()).await?;
    tx.commit().await?;
    Ok(rendered)
}

/// Renders a template (the one sent, or the saved one) with sample data.
pub async fn preview(
    ctx: &AppContext,
    name: &str,
    lang: &str,
    source: Option<TemplateSource>,
) -> Result<Rendered, ApiError> {
    let source = match source {
        Some(source) => {
            check_name(name, lang)?;
            source
        }
        None => get(ctx, name, lang).await?,
    };
    templates::validate(&source, lang).map_err(refused)
}
