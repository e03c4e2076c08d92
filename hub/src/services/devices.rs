//! Registering push devices: staff phones (Web Push, FCM) and shoppers'
//! browsers (Web Push, from the tracking page).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Caller;
use crate::context::AppContext;
use crate::error::ApiError;
use crate::store as db;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SubscriptionKeys {
    pub p256dh: String,
    pub auth: String,
}

/// A browser's `PushSubscription.toJSON()`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct WebPushSubscription {
    pub endpoint: String,
    pub keys: SubscriptionKeys,
    /// Browsers send it; unused.
    #[serde(default, rename = "expirationTime")]
    #[schema(value_type = Option<f64>)]
    pub expiration_time: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FcmRegistration {
    pub token: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeviceView {
    pub id: i64,
    pub transport: String,
}

fn check_subscription(subscription: &WebPushSubscription) -> Result<(), ApiError> {
    let endpoint_ok = (subscription.endpoint.starts_with("https://")
        || subscription.endpoint.starts_with("http://"))
        && subscription.endpoint.len() <= 2048;
    if !endpoint_ok {
        return Err(ApiError::invalid(
            "invalid_subscription",
            "The endpoint must be an http(s) URL.",
        ));
    }
    let p256dh = URL_SAFE_NO_PAD
        .decode(subscription.keys.p256dh.trim_end_matches('='))
        .unwrap_or_default();
    let auth = URL_SAFE_NO_PAD
        .decode(subscription.keys.auth.trim_end_matches('='))
        .unwrap_or_default();
    if p256dh.len() != 65 || p256dh.first() != Some(&4) || auth.len() != 16 {
        return Err(ApiError::invalid(
            "invalid_subscription",
            "keys.p256dh must be a base64url P-256 public key and keys.auth 16 base64url bytes.",
        ));
    }
    Ok(())
}

fn staff_id(caller: &Caller) -> Result<i64, ApiError> {
    match caller {
        Caller::Staff(staff) => Ok(staff.id),
        Caller::Integration { .. } => Err(ApiError::Forbidden {
            code: "staff_only",
            message: "Devices belong to signed-in staff.".into(),
        }),
    }
}

async fn register(
    ctx: &AppContext,
    owner_kind: &str,
    owner_id: i64,
    transport: &str,
    address: &str,
    keys: Option<(&str, &str)>,
) -> Result<DeviceView, ApiError> {
    let tx = ctx.db.write().await?;
    let device = db::devices::upsert(
        &*tx,
        owner_kind,
        owner_id,
        transport,
        address,
        keys.map(|k| k.0.to_string()),
        keys.map(|k| k.1.to_string()),
        ctx.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(DeviceView {
        id: device.id,
        transport: device.transport,
    })
}

pub async fn add_staff_web_push(
    ctx: &AppContext,
    caller: &Caller,
    subscription: WebPushSubscription,
) -> Result<DeviceView, ApiError> {
    let owner = staff_id(caller)?;
    check_subscription(&subscription)?;
    let keys = (
        subscription.keys.p256dh.as_str(),
        subscription.keys.auth.as_str(),
    );
    register(
        ctx,
        "staff",
        owner,
        "web_push",
        &subscription.endpoint,
        Some(keys),
    )
    .await
}

pub async fn add_staff_fcm(
    ctx: &AppContext,
    caller: &Caller,
    token: &str,
) -> Result<DeviceView, ApiError> {
    let owner = staff_id(caller)?;
    let token = token.trim();
    if token.is_empty() || token.len() > 4096 {
        return Err(ApiError::invalid(
            "invalid_token",
            "An FCM registration token is 1 to 4096 characters.",
        ));
    }
    register(ctx, "staff", owner, "fcm", token, None).await
}

/// Removes one of the caller's devices, by id or FCM token.
pub async fn remove_staff_device(
    ctx: &AppContext,
    caller: &Caller,
    id_or_token: &str,
) -> Result<(), ApiError> {
    let owner = staff_id(caller)?;
    let tx = ctx.db.write().await?;
    let mine = db::devices::for_owner(&*tx, "staff", owner, None).await?;
    let found = mine
        .iter()
        .find(|d| d.id.to_string() == id_or_token || d.address == id_or_token)
        .ok_or_else(|| ApiError::not_found("unknown_device", "You have no such device."))?;
    db::devices::remove(&*tx, found.id).await?;
    tx.commit().await?;
    Ok(())
}

/// A shopper opts in to pushes on their tracking page.
pub async fn add_shopper_web_push(
    ctx: &AppContext,
    tracking_token: &str,
    subscription: WebPushSubscription,
) -> Result<DeviceView, ApiError> {
    check_subscription(&subscription)?;
    let reservation = db::reservations::find_by_tracking_token(ctx.db.conn(), tracking_token)
        .await?
        .ok_or_else(|| {
            ApiError::not_found("unknown_tracking_token", "This tracking link is not valid.")
        })?;
    let keys = (
        subscription.keys.p256dh.as_str(),
        subscription.keys.auth.as_str(),
    );
    register(
        ctx,
        "reservation",
        reservation.id,
        "web_push",
        &subscription.endpoint,
        Some(keys),
    )
    .await
}

/// The retailer's app registers a shopper's FCM token for one reservation.
pub async fn add_shopper_fcm(
    ctx: &AppContext,
    caller: &Caller,
    number: &str,
    token: &str,
) -> Result<DeviceView, ApiError> {
    let reservation = super::reservations::find_typed_or_scanned(ctx.db.conn(), number).await?;
    caller.require_store(reservation.store_id, &reservation.number)?;
    let token = token.trim();
    if token.is_empty() || token.len() > 4096 {
        return Err(ApiError::invalid(
            "invalid_token",
            "An FCM registration token is 1 to 4096 characters.",
        ));
    }
    register(ctx, "reservation", reservation.id, "fcm", token, None).await
}
