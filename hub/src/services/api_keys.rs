//! Integration keys: made once, shown once, stored as SHA-256 digests.
//!
//! SHA-256 rather than argon2: a key carries 192 random bits, so no
//! dictionary attack applies, and every API request checks one; a slow hash
//! would cost tens of milliseconds per request for no gain.

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::Caller;
use crate::context::AppContext;
use crate::error::ApiError;
use crate::store;

const KEY_PREFIX: &str = "shk_";

pub fn digest(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: i64,
    pub name: String,
    /// First characters of the key, to recognise it.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub info: ApiKeyView,
    /// The key itself: shown this once, never stored.
    pub key: String,
}

/// Makes a new key named `name`.
pub async fn create(ctx: &AppContext, name: &str) -> Result<CreatedApiKey, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::invalid(
            "invalid_name",
            "An API key needs a name of 1 to 100 characters.",
        ));
    }
    let secret: [u8; 24] = rand::rng().random();
    let key = format!("{KEY_PREFIX}{}", hex::encode(secret));
    let prefix = key[..KEY_PREFIX.len() + 6].to_string();
    let tx = ctx.db.write().await?;
    let model =
        store::api_keys::insert(&*tx, name, &prefix, &digest(&key), ctx.clock.now()).await?;
    tx.commit().await?;
    Ok(CreatedApiKey {
        info: ApiKeyView {
            id: model.id,
            name: model.name,
            prefix: model.prefix,
            created_at: model.created_at,
            revoked_at: None,
        },
        key,
    })
}

/// The caller a presented key belongs to, if it is valid and not revoked.
pub async fn authenticate(ctx: &AppContext, key: &str) -> Result<Option<Caller>, ApiError> {
    if !key.starts_with(KEY_PREFIX) {
        return Ok(None);
    }
    let digest = digest(key);
    let found = match ctx.catalogue.api_key(&digest) {
        Some(kept) => Some(kept),
        None => {
            let ticket = ctx.catalogue.ticket();
            let read = store::api_keys::find_active_by_hash(ctx.db.conn(), &digest).await?;
            if let Some(model) = &read {
                ctx.catalogue.keep_api_key(ticket, &digest, model.clone());
            }
            read
        }
    };
    Ok(found.map(|model| Caller::Integration {
        key_id: model.id,
        name: model.name,
    }))
}

pub async fn list(ctx: &AppContext) -> Result<Vec<ApiKeyView>, ApiError> {
    Ok(store::api_keys::list(ctx.db.conn())
        .await?
        .into_iter()
        .map(|m| ApiKeyView {
            id: m.id,
            name: m.name,
            prefix: m.prefix,
            created_at: m.created_at,
            revoked_at: m.revoked_at,
        })
        .collect())
}

pub async fn revoke(ctx: &AppContext, id: i64) -> Result<(), ApiError> {
    let tx = ctx.db.write().await?;
    if !store::api_keys::revoke(&*tx, id, ctx.clock.now()).await? {
        return Err(ApiError::not_found(
            "unknown_api_key",
            format!("There is no active API key with id {id}."),
        ));
    }
    tx.commit().await?;
    // Requests with the key fail from now on, on this hub at once.
    ctx.catalogue.changed();
    Ok(())
}
