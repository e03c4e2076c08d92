//! Firing a reservation's due timers: reminders to the team, the overdue
//! escalation, and expiries. Each firing is a guarded update in its own
//! transaction, so two hubs (or a restart) never fire the same one twice and
//! a crash between firings loses none: the due times stay in the rows.

use chrono::{DateTime, Utc};
use schema::entities::{reservation, reservation_event};
use serde_json::json;

use super::opening_hours_of;
use super::reservations::{Ending, end};
use crate::context::AppContext;
use crate::domain::reservation::{Action, State};
use crate::domain::timers::{Timer, TimerFields, next_timer};
use crate::error::ApiError;
use crate::notify::{self, Outgoing};
use crate::store::{self as db, events::EventActor};

/// Firings handled in one call before yielding, so a long outage cannot
/// keep one actor busy forever.
const MAX_FIRINGS: usize = 1000;

pub fn timer_fields(r: &reservation::Model) -> Option<TimerFields> {
    Some(TimerFields {
        state: State::parse(&r.state)?,
        next_reminder_at: r.next_reminder_at,
        confirm_by: r.confirm_by,
        overdue_notified: r.overdue_notified_at.is_some(),
        validate_by: r.validate_by,
        pickup_by: r.pickup_by,
        pickup_reminder_at: r.pickup_reminder_at,
    })
}

/// The next due time from the boot rebuild's columns.
pub fn next_due_of(live: &db::reservations::LiveTimers) -> Option<DateTime<Utc>> {
    let fields = TimerFields {
        state: State::parse(&live.state)?,
        next_reminder_at: live.next_reminder_at,
        confirm_by: live.confirm_by,
        overdue_notified: live.overdue_notified_at.is_some(),
        validate_by: live.validate_by,
        pickup_by: live.pickup_by,
        pickup_reminder_at: live.pickup_reminder_at,
    };
    next_timer(&fields).map(|(at, _)| at)
}

/// The next due time of a reservation, if it still has one.
pub fn next_due(r: &reservation::Model) -> Option<DateTime<Utc>> {
    timer_fields(r)
        .and_then(|f| next_timer(&f))
        .map(|(at, _)| at)
}

/// Fires everything due at the clock's now. Returns the reservation as it
/// stands afterwards (None if it is gone).
pub async fn fire_due(
    ctx: &AppContext,
    reservation_id: i64,
) -> Result<Option<reservation::Model>, ApiError> {
    for _ in 0..MAX_FIRINGS {
        let Some(current) = db::reservations::find_by_id(ctx.db.conn(), reservation_id).await?
        else {
            return Ok(None);
        };
        let now = ctx.clock.now();
        let Some((due, timer)) = timer_fields(&current).and_then(|f| next_timer(&f)) else {
            return Ok(Some(current));
        };
        if due > now {
            return Ok(Some(current));
        }
        let fired = match timer {
            Timer::Reminder => remind(ctx, &current, due).await?,
            Timer::Overdue => escalate(ctx, &current, now).await?,
            Timer::PickupReminder => remind_shopper(ctx, &current, due).await?,
            Timer::ValidationExpiry | Timer::PickupExpiry => {
                let reason = if timer == Timer::ValidationExpiry {
                    "validation_link_expired"
                } else {
                    "not_collected"
                };
                expire(ctx, &current, reason, now).await?
            }
        };
        if let Some(event) = fired {
            metrics::counter!("storehub_timers_fired_total", "timer" => format!("{timer:?}"))
                .increment(1);
            ctx.publish(vec![event]);
        }
    }
    db::reservations::find_by_id(ctx.db.conn(), reservation_id)
        .await
        .map_err(Into::into)
}

/// Appends a timer's event and queues its messages, in `tx`.
async fn record_event(
    ctx: &AppContext,
    tx: &crate::db::WriteTx,
    current: &reservation::Model,
    kind: &str,
    at: DateTime<Utc>,
    data: serde_json::Value,
) -> Result<reservation_event::Model, ApiError> {
    let conn = &**tx;
    let store = db::stores::find_by_id(conn, current.store_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("store of {} is gone", current.number))?;
    let event = db::events::append(
        conn,
        store.id,
        current.id,
        kind,
        &EventActor::system(),
        at,
        data,
    )
    .await?;
    let customer = db::customers::find_by_id(conn, current.customer_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("customer of {} is gone", current.number))?;
    let settings = super::settings::effective(conn, Some(store.id)).await?;
    let outgoing = Outgoing::tracking(ctx, current, &settings, ctx.clock.now());
    notify::enqueue_for_event(conn, &event, current, &customer, &store, &outgoing).await?;
    Ok(event)
}

async fn remind(
    ctx: &AppContext,
    current: &reservation::Model,
    due: DateTime<Utc>,
) -> Result<Option<reservation_event::Model>, ApiError> {
    let tx = ctx.db.write().await?;
    let store = db::stores::find_by_id(&*tx, current.store_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("store of {} is gone", current.number))?;
    let settings = super::settings::effective(&*tx, Some(store.id)).await?;
    let next = opening_hours_of(&store)?.add_open_minutes(due, settings.reminder_every_minutes);
    if !db::reservations::advance_reminder(&*tx, current.id, due, next).await? {
        // Handled or reminded by someone else meanwhile.
        return Ok(None);
    }
    let data = json!({ "reminder": current.reminders_sent + 1, "next_at": next });
    // Stamped with its due time: the history reads as if nothing was late.
    let event = record_event(ctx, &tx, current, "reminder", due, data).await?;
    tx.commit().await?;
    Ok(Some(event))
}

async fn remind_shopper(
    ctx: &AppContext,
    current: &reservation::Model,
    due: DateTime<Utc>,
) -> Result<Option<reservation_event::Model>, ApiError> {
    let tx = ctx.db.write().await?;
    if !db::reservations::clear_pickup_reminder(&*tx, current.id, due).await? {
        return Ok(None);
    }
    let data = json!({ "pickup_by": current.pickup_by });
    let event = record_event(ctx, &tx, current, "pickup_reminder", due, data).await?;
    tx.commit().await?;
    Ok(Some(event))
}

async fn escalate(
    ctx: &AppContext,
    current: &reservation::Model,
    now: DateTime<Utc>,
) -> Result<Option<reservation_event::Model>, ApiError> {
    let tx = ctx.db.write().await?;
    if !db::reservations::mark_overdue(&*tx, current.id, now).await? {
        return Ok(None);
    }
    let at = current.confirm_by.unwrap_or(now);
    let data = json!({ "confirm_by": current.confirm_by });
    let event = record_event(ctx, &tx, current, "overdue", at, data).await?;
    tx.commit().await?;
    Ok(Some(event))
}

async fn expire(
    ctx: &AppContext,
    current: &reservation::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<reservation_event::Model>, ApiError> {
    let tx = ctx.db.write().await?;
    let ending = Ending {
        action: Action::Expire,
        actor: EventActor::system(),
        reason: Some(reason.into()),
        data: json!({ "reason": reason }),
    };
    match end(ctx, &*tx, current, ending, now).await {
        Ok(event) => {
            tx.commit().await?;
            Ok(Some(event))
        }
        Err(ApiError::Conflict { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}
