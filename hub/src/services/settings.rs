//! Reading and changing business settings, global and per store.

use sea_orm::ConnectionTrait;
use serde_json::{Map, Value};

use crate::context::AppContext;
use crate::domain::settings::{BusinessSettings, SettingsChange, SettingsError, validate_patch};
use crate::error::ApiError;
use crate::store::{self, settings::GLOBAL};

/// The settings in force for a store (or globally with `None`).
pub async fn effective(
    conn: &impl ConnectionTrait,
    store_id: Option<i64>,
) -> Result<BusinessSettings, ApiError> {
    let store_scope = store_id.map(store::settings::store_scope);
    let mut scopes = vec![GLOBAL];
    scopes.extend(store_scope.as_deref());
    let layers = store::settings::layers(conn, &scopes).await?;
    let empty = Map::new();
    Ok(BusinessSettings::resolve([
        &layers[0],
        layers.get(1).unwrap_or(&empty),
    ]))
}

/// The effective settings plus which keys the store overrides.
pub struct StoreSettingsView {
    pub effective: BusinessSettings,
    pub overrides: Map<String, Value>,
}

fn settings_error(err: SettingsError) -> ApiError {
    match err {
        SettingsError::UnknownKey(key) => ApiError::invalid(
            "unknown_setting",
            format!(
                "`{key}` is not a setting. Known settings: {}.",
                crate::domain::settings::known_keys().join(", ")
            ),
        ),
        SettingsError::InvalidValue { key, reason } => ApiError::invalid(
            "invalid_setting",
            format!("Setting `{key}` was refused: {reason}."),
        ),
    }
}

/// Applies a PATCH. `store_id: None` edits the global layer, where `null`
/// goes back to the default; on a store, `null` removes the override.
pub async fn patch(
    ctx: &AppContext,
    store_id: Option<i64>,
    patch: &Map<String, Value>,
) -> Result<(), ApiError> {
    let tx = ctx.db.write().await?;
    let current = effective(&*tx, store_id).await?;
    let SettingsChange { writes, removals } =
        validate_patch(&current, patch).map_err(settings_error)?;
    let scope = match store_id {
        Some(id) => store::settings::store_scope(id),
        None => GLOBAL.to_string(),
    };
    let now = ctx.clock.now();
    for (key, value) in &writes {
        store::settings::put(&*tx, &scope, key, value, now).await?;
    }
    for key in &removals {
        store::settings::remove(&*tx, &scope, key).await?;
    }
    tx.commit().await?;
    ctx.catalogue.changed();
    Ok(())
}

pub async fn for_store(ctx: &AppContext, store_id: i64) -> Result<StoreSettingsView, ApiError> {
    let conn = ctx.db.conn();
    Ok(StoreSettingsView {
        effective: effective(conn, Some(store_id)).await?,
        overrides: store::settings::layer(conn, &store::settings::store_scope(store_id)).await?,
    })
}
