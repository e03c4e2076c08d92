//! Deadlines that end reservations: unvalidated requests and uncollected
//! set-aside articles. Due times live in the database, so a restart loses
//! none; each expiry is a guarded transition, so none fires twice.

use serde_json::json;

use super::reservations::{Ending, end};
use crate::context::AppContext;
use crate::domain::reservation::Action;
use crate::error::ApiError;
use crate::store::{self as db, events::EventActor};

/// Reservations handled per batch, so one sweep never holds the writer long.
const BATCH: u64 = 100;

/// Expires everything due at the clock's now. Returns how many ended.
pub async fn expire_due(ctx: &AppContext) -> Result<usize, ApiError> {
    let mut expired = 0;
    loop {
        let now = ctx.clock.now();
        let due_validation = db::reservations::validation_due(ctx.db.conn(), now, BATCH).await?;
        let due_pickup = db::reservations::pickup_due(ctx.db.conn(), now, BATCH).await?;
        if due_validation.is_empty() && due_pickup.is_empty() {
            return Ok(expired);
        }
        let batch = due_validation
            .into_iter()
            .map(|r| (r, "validation_link_expired"))
            .chain(due_pickup.into_iter().map(|r| (r, "not_collected")));
        for (reservation, reason) in batch {
            let tx = ctx.db.write().await?;
            let ending = Ending {
                action: Action::Expire,
                actor: EventActor::system(),
                reason: Some(reason.into()),
                data: json!({ "reason": reason }),
            };
            match end(ctx, &*tx, &reservation, ending, now).await {
                Ok(event) => {
                    tx.commit().await?;
                    ctx.publish(vec![event]);
                    expired += 1;
                }
                // Someone acted on it between the read and now: nothing to do.
                Err(ApiError::Conflict { .. }) => {}
                Err(other) => return Err(other),
            }
        }
    }
}
