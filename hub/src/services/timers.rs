//! Firing reservations' due timers: reminders to the team, the overdue
//! escalation, and expiries. Each firing is a guarded update, so two hubs
//! (or a restart) never fire the same one twice, and a crash loses none: the
//! due times stay in the rows until a commit moves them. The firings due
//! together share one transaction and one read of each store.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use schema::entities::{customer, reservation, reservation_event, store};
use sea_orm::ConnectionTrait;
use serde_json::json;

use super::board;
use super::opening_hours_of;
use super::reservations::{Ending, end};
use crate::context::{AfterCommit, AppContext, Published};
use crate::domain::opening_hours::OpeningHours;
use crate::domain::reservation::{Action, State};
use crate::domain::settings::BusinessSettings;
use crate::domain::timers::{Timer, TimerFields, TimerHint, next_timer};
use crate::error::ApiError;
use crate::notify::{self, Addressing, Outgoing};
use crate::store::events::{EventActor, NewEvent};
use crate::store::{self as db, outbox};

/// Rounds of firings in one call before yielding, so a long outage cannot
/// keep the firing queue busy forever.
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

/// The next timer from the boot rebuild's columns.
pub fn hint_of_live(live: &db::reservations::LiveTimers) -> Option<TimerHint> {
    let fields = TimerFields {
        state: State::parse(&live.state)?,
        next_reminder_at: live.next_reminder_at,
        confirm_by: live.confirm_by,
        overdue_notified: live.overdue_notified_at.is_some(),
        validate_by: live.validate_by,
        pickup_by: live.pickup_by,
        pickup_reminder_at: live.pickup_reminder_at,
    };
    next_timer(&fields).map(|(at, timer)| TimerHint {
        at,
        timer,
        store_id: live.store_id,
    })
}

/// The next timer of a reservation, if it still has one.
pub fn hint_of(r: &reservation::Model) -> Option<TimerHint> {
    timer_fields(r)
        .and_then(|f| next_timer(&f))
        .map(|(at, timer)| TimerHint {
            at,
            timer,
            store_id: r.store_id,
        })
}

/// The next due time of a reservation, if it still has one.
pub fn next_due(r: &reservation::Model) -> Option<DateTime<Utc>> {
    hint_of(r).map(|hint| hint.at)
}

/// A reservation as it stands after its firing (None if it is gone).
pub type Fired = Result<Option<reservation::Model>, ApiError>;

/// A store as a batch's firings need it, read and parsed once per batch.
struct StoreContext {
    store: store::Model,
    settings: BusinessSettings,
    /// Parsed once: every reminder of the store computes its next time.
    hours: OpeningHours,
}

/// What one batch's firings share: each store, read once.
#[derive(Default)]
struct Shared {
    by_store: HashMap<i64, StoreContext>,
}

impl Shared {
    /// The store of `current`, its effective settings and its opening hours.
    async fn of(
        &mut self,
        conn: &impl ConnectionTrait,
        current: &reservation::Model,
    ) -> Result<&StoreContext, ApiError> {
        self.of_store(conn, current.store_id).await
    }

    async fn of_store(
        &mut self,
        conn: &impl ConnectionTrait,
        store_id: i64,
    ) -> Result<&StoreContext, ApiError> {
        let known = match self.by_store.entry(store_id) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(slot) => {
                let store = db::stores::find_by_id(conn, store_id)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("store {store_id} is gone"))?;
                let settings = super::settings::effective(conn, Some(store.id)).await?;
                let hours = opening_hours_of(&store)?;
                slot.insert(StoreContext {
                    store,
                    settings,
                    hours,
                })
            }
        };
        Ok(known)
    }
}

/// One timer that is due.
struct Due {
    row: reservation::Model,
    at: DateTime<Utc>,
    timer: Timer,
}

/// Fires everything due at the clock's now on the reservations `ids`, all
/// of them in one write transaction per round. Returns each reservation as
/// it stands afterwards. When a shared transaction fails, its firings are
/// tried again one by one, so one bad row cannot hold back the others.
///
/// Reminders whose actor knows them due (`hint`) are moved first, without
/// reading their rows: most firings are reminders, and the read was a
/// third of a batch's time. A guard that finds a row changed sends it to
/// the reading path.
pub async fn fire_batch(
    ctx: &AppContext,
    requests: &[(i64, Option<TimerHint>)],
) -> HashMap<i64, Fired> {
    let mut results: HashMap<i64, Fired> = HashMap::with_capacity(requests.len());
    let now = ctx.clock.now();
    let mut hinted: Vec<(i64, TimerHint)> = requests
        .iter()
        .filter_map(|(id, hint)| match hint {
            Some(hint) if hint.timer == Timer::Reminder && hint.at <= now => Some((*id, *hint)),
            _ => None,
        })
        .collect();
    hinted.sort_unstable_by_key(|(id, _)| *id);
    hinted.dedup_by_key(|(id, _)| *id);
    // Rows as the last round's commit left them: not read again.
    let mut at_hand: Vec<reservation::Model> = Vec::new();
    if !hinted.is_empty() {
        match fire_hinted(ctx, &hinted, now).await {
            Ok(moved) => at_hand = moved,
            Err(err) => {
                tracing::warn!(firings = hinted.len(), error = ?err, "hinted reminders failed; reading their rows");
            }
        }
    }
    let moved: HashSet<i64> = at_hand.iter().map(|row| row.id).collect();
    let mut pending: Vec<i64> = requests
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !moved.contains(id))
        .collect();
    pending.sort_unstable();
    pending.dedup();
    // A reservation can have several timers due (after an outage): each
    // round fires one per reservation, then looks at the rows again.
    for _ in 0..MAX_FIRINGS {
        if pending.is_empty() && at_hand.is_empty() {
            break;
        }
        let mut rows = if pending.is_empty() {
            Vec::new()
        } else {
            // Failed: every pending id has its error; rows at hand are answered below.
            let Some(rows) = read_or_fail(ctx, &pending, &mut results).await else {
                pending.clear();
                break;
            };
            rows
        };
        let found: HashSet<i64> = rows.iter().map(|row| row.id).collect();
        for id in pending.iter().filter(|id| !found.contains(id)) {
            results.insert(*id, Ok(None));
        }
        rows.append(&mut at_hand);
        let now = ctx.clock.now();
        let mut due = Vec::new();
        for row in rows {
            match timer_fields(&row).and_then(|f| next_timer(&f)) {
                Some((at, timer)) if at <= now => due.push(Due { row, at, timer }),
                _ => {
                    results.insert(row.id, Ok(Some(row)));
                }
            }
        }
        pending = due.iter().map(|d| d.row.id).collect();
        if due.is_empty() {
            break;
        }
        match fire_together(ctx, &due, now).await {
            Ok(moved) => at_hand = moved,
            Err(err) => {
                tracing::warn!(firings = due.len(), error = ?err, "batch of timers failed; firing one by one");
                for single in due.chunks(1) {
                    match fire_together(ctx, single, now).await {
                        Ok(moved) => at_hand.extend(moved),
                        Err(err) => {
                            let id = single[0].row.id;
                            pending.retain(|p| *p != id);
                            results.insert(id, Err(err));
                        }
                    }
                }
            }
        }
        let moved: HashSet<i64> = at_hand.iter().map(|row| row.id).collect();
        pending.retain(|id| !moved.contains(id));
    }
    // Still due after MAX_FIRINGS rounds (or not looked at again after a
    // failed read): answer with the rows as they are.
    for row in at_hand {
        results.insert(row.id, Ok(Some(row)));
    }
    if !pending.is_empty() {
        for row in read_or_fail(ctx, &pending, &mut results)
            .await
            .unwrap_or_default()
        {
            results.insert(row.id, Ok(Some(row)));
        }
    }
    results
}

/// The rows of `ids`; None (and every id answered with the error) when
/// they cannot be read.
async fn read_or_fail(
    ctx: &AppContext,
    ids: &[i64],
    results: &mut HashMap<i64, Fired>,
) -> Option<Vec<reservation::Model>> {
    match db::reservations::find_many(ctx.db.conn(), ids).await {
        Ok(rows) => Some(rows),
        Err(err) => {
            for id in ids {
                results.insert(*id, Err(anyhow::anyhow!("reading {id}: {err}").into()));
            }
            None
        }
    }
}

/// Fires `due` in one transaction and publishes what it committed. Returns
/// the rows its reminders moved, as moved (the others are read again).
///
/// Expiries end their reservation on their own (stock, event, messages).
/// The other timers first move their row under a guard, then append their
/// events per store in one insert and queue all their messages in another:
/// a batch costs a few statements per store and one per firing.
async fn fire_together(
    ctx: &AppContext,
    due: &[Due],
    now: DateTime<Utc>,
) -> Result<Vec<reservation::Model>, ApiError> {
    let tx = ctx.db.write().await?;
    let conn = &*tx;
    let ends_some = due
        .iter()
        .any(|d| matches!(d.timer, Timer::ValidationExpiry | Timer::PickupExpiry));
    if ends_some {
        let ids: Vec<i64> = due.iter().map(|d| d.row.id).collect();
        let mut stores: Vec<i64> = due.iter().map(|d| d.row.store_id).collect();
        stores.sort_unstable();
        stores.dedup();
        db::reservations::lock_in_order(conn, &ids, &[], &stores).await?;
    }
    let mut shared = Shared::default();
    let mut expired = Vec::new();
    let mut guarded = Vec::with_capacity(due.len());
    let mut reminders = Vec::new();
    for item in due {
        match item.timer {
            Timer::ValidationExpiry | Timer::PickupExpiry => {
                let reason = if item.timer == Timer::ValidationExpiry {
                    "validation_link_expired"
                } else {
                    "not_collected"
                };
                if let Some(event) = expire(ctx, conn, &item.row, reason, now).await? {
                    expired.push((item.timer, event));
                }
            }
            Timer::Reminder => {
                let store = shared.of(conn, &item.row).await?;
                let next = store
                    .hours
                    .add_open_minutes(item.at, store.settings.reminder_every_minutes);
                reminders.push((item, next));
            }
            // None: handled (or fired) by someone else meanwhile.
            _ => guarded.extend(guard(conn, item, now).await?),
        }
    }
    guarded.extend(advance_reminders(conn, reminders).await?);
    let recorded = record_events(ctx, conn, &mut shared, guarded, now).await?;
    tx.commit().await?;
    Ok(publish_committed(ctx, expired, recorded, now).await)
}

/// Fires reminders known due from their actors' hints, in one transaction:
/// the guarded update returns the rows it moved, and those it did not move
/// (changed meanwhile) are left to the reading path. Returns the moved rows.
async fn fire_hinted(
    ctx: &AppContext,
    hinted: &[(i64, TimerHint)],
    now: DateTime<Utc>,
) -> Result<Vec<reservation::Model>, ApiError> {
    let tx = ctx.db.write().await?;
    let conn = &*tx;
    let mut shared = Shared::default();
    let mut moves = Vec::with_capacity(hinted.len());
    for (id, hint) in hinted {
        let store = shared.of_store(conn, hint.store_id).await?;
        let next = store
            .hours
            .add_open_minutes(hint.at, store.settings.reminder_every_minutes);
        moves.push((*id, hint.at, next));
    }
    let next_of: HashMap<i64, DateTime<Utc>> =
        moves.iter().map(|(id, _, next)| (*id, *next)).collect();
    let after = db::reservations::advance_reminders(conn, &moves).await?;
    // The rows as they were: the update moved only these two columns.
    let due: Vec<Due> = after
        .iter()
        .map(|row| {
            let at = hinted
                .binary_search_by_key(&row.id, |(id, _)| *id)
                .map(|found| hinted[found].1.at)
                .unwrap_or(now);
            let mut before = row.clone();
            before.reminders_sent -= 1;
            before.next_reminder_at = Some(at);
            Due {
                row: before,
                at,
                timer: Timer::Reminder,
            }
        })
        .collect();
    let moved = due
        .iter()
        .zip(after)
        .map(|(item, after)| {
            let next = next_of.get(&item.row.id).copied().unwrap_or(now);
            Moved {
                item,
                event: reminder_event(item, next),
                after: Some(after),
            }
        })
        .collect();
    let recorded = record_events(ctx, conn, &mut shared, moved, now).await?;
    tx.commit().await?;
    Ok(publish_committed(ctx, Vec::new(), recorded, now).await)
}

/// After a firing transaction's commit: counts the firings, publishes their
/// events and returns the rows the reminders moved.
async fn publish_committed(
    ctx: &AppContext,
    expired: Vec<(Timer, reservation_event::Model)>,
    recorded: Vec<Recorded>,
    now: DateTime<Utc>,
) -> Vec<reservation::Model> {
    for timer in expired
        .iter()
        .map(|(timer, _)| timer)
        .chain(recorded.iter().map(|r| &r.timer))
    {
        metrics::counter!("storehub_timers_fired_total", "timer" => format!("{timer:?}"))
            .increment(1);
    }
    let moved: Vec<reservation::Model> = recorded.iter().filter_map(|r| r.after.clone()).collect();
    let mut published: Vec<Published> = expired
        .into_iter()
        .map(|(_, event)| Published::from(event))
        .collect();
    published.extend(with_board_items(ctx, recorded, now).await);
    ctx.publish_fired(published);
    moved
}

/// The fired events, each with its reservation's board item when the row
/// after the firing is at hand: one read of their lines instead of the
/// store actor's three reads.
async fn with_board_items(
    ctx: &AppContext,
    recorded: Vec<Recorded>,
    now: DateTime<Utc>,
) -> Vec<Published> {
    let ids: Vec<i64> = recorded
        .iter()
        .filter_map(|r| r.after.as_ref().map(|row| row.id))
        .collect();
    let lines = match board::lines_by_reservation(ctx.db.conn(), &ids).await {
        Ok(lines) => lines,
        // The store actor reads what it needs itself.
        Err(err) => {
            tracing::warn!(error = %err, "could not read the fired reservations' lines");
            return recorded.into_iter().map(|r| r.event.into()).collect();
        }
    };
    recorded
        .into_iter()
        .map(
            |Recorded {
                 event,
                 after,
                 customer,
                 ..
             }| match after {
                Some(row) => {
                    let of_row = lines.get(&row.id).map(Vec::as_slice).unwrap_or_default();
                    let item = board::item_from(&row, of_row, Some(&customer), now);
                    Published {
                        event,
                        after: Some(Arc::new(AfterCommit { row, item })),
                    }
                }
                None => event.into(),
            },
        )
        .collect()
}

/// A timer that moved its row and still has to record its event.
struct Moved<'a> {
    item: &'a Due,
    event: NewEvent,
    /// The row as the move left it, when the statement returned it.
    after: Option<reservation::Model>,
}

/// A fired timer's event, with what its frame is built from.
struct Recorded {
    timer: Timer,
    event: reservation_event::Model,
    after: Option<reservation::Model>,
    customer: customer::Model,
}

/// Moves the reminders' schedules on, all in one statement; those someone
/// else handled (or fired) meanwhile are left out.
async fn advance_reminders<'a>(
    conn: &impl ConnectionTrait,
    reminders: Vec<(&'a Due, DateTime<Utc>)>,
) -> Result<Vec<Moved<'a>>, ApiError> {
    let moves: Vec<_> = reminders
        .iter()
        .map(|(item, next)| (item.row.id, item.at, *next))
        .collect();
    let mut moved: HashMap<i64, reservation::Model> =
        db::reservations::advance_reminders(conn, &moves)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
    Ok(reminders
        .into_iter()
        .filter_map(|(item, next)| {
            let after = moved.remove(&item.row.id)?;
            Some(Moved {
                item,
                event: reminder_event(item, next),
                after: Some(after),
            })
        })
        .collect())
}

/// The event of a reminder that moved on to `next`.
fn reminder_event(item: &Due, next: DateTime<Utc>) -> NewEvent {
    let current = &item.row;
    NewEvent {
        reservation_id: current.id,
        kind: "reminder",
        // Stamped with its due time: the history reads as if nothing was late.
        at: item.at,
        data: json!({ "reminder": current.reminders_sent + 1, "next_at": next }),
    }
}

/// Moves an escalation or pickup reminder's row under its guard; None when
/// someone else moved it first.
async fn guard<'a>(
    conn: &impl ConnectionTrait,
    item: &'a Due,
    now: DateTime<Utc>,
) -> Result<Option<Moved<'a>>, ApiError> {
    let current = &item.row;
    let (kind, at, data) = match item.timer {
        Timer::Overdue => {
            if !db::reservations::mark_overdue(conn, current.id, now).await? {
                return Ok(None);
            }
            let data = json!({ "confirm_by": current.confirm_by });
            ("overdue", current.confirm_by.unwrap_or(now), data)
        }
        Timer::PickupReminder => {
            if !db::reservations::clear_pickup_reminder(conn, current.id, item.at).await? {
                return Ok(None);
            }
            (
                "pickup_reminder",
                item.at,
                json!({ "pickup_by": current.pickup_by }),
            )
        }
        Timer::Reminder | Timer::ValidationExpiry | Timer::PickupExpiry => return Ok(None),
    };
    let event = NewEvent {
        reservation_id: current.id,
        kind,
        at,
        data,
    };
    Ok(Some(Moved {
        item,
        event,
        after: None,
    }))
}

/// Appends the moved timers' events (one insert per store) and queues their
/// messages (one insert), in `conn`'s transaction.
async fn record_events(
    ctx: &AppContext,
    conn: &impl ConnectionTrait,
    shared: &mut Shared,
    moved: Vec<Moved<'_>>,
    now: DateTime<Utc>,
) -> Result<Vec<Recorded>, ApiError> {
    if moved.is_empty() {
        return Ok(Vec::new());
    }
    let customer_ids: Vec<i64> = moved.iter().map(|m| m.item.row.customer_id).collect();
    let customers: HashMap<i64, customer::Model> = db::customers::find_many(conn, customer_ids)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut by_store: BTreeMap<i64, Vec<Moved<'_>>> = BTreeMap::new();
    for m in moved {
        by_store.entry(m.item.row.store_id).or_default().push(m);
    }
    let mut addressing = Addressing::new(ctx.catalogue.clone());
    let mut messages = Vec::new();
    let mut recorded = Vec::new();
    for (store_id, moved) in by_store {
        let (items, events): (Vec<(&Due, Option<reservation::Model>)>, Vec<NewEvent>) = moved
            .into_iter()
            .map(|m| ((m.item, m.after), m.event))
            .unzip();
        let appended =
            db::events::append_all(conn, store_id, &EventActor::system(), events).await?;
        for ((item, after), event) in items.into_iter().zip(appended) {
            let current = &item.row;
            let customer = customers
                .get(&current.customer_id)
                .ok_or_else(|| anyhow::anyhow!("customer of {} is gone", current.number))?;
            let StoreContext {
                store, settings, ..
            } = shared.of(conn, current).await?;
            let outgoing = Outgoing::tracking(ctx, current, settings, now);
            messages.extend(
                notify::messages_for_event(
                    conn,
                    &mut addressing,
                    &event,
                    current,
                    customer,
                    store,
                    &outgoing,
                )
                .await?,
            );
            recorded.push(Recorded {
                timer: item.timer,
                event,
                after,
                customer: customer.clone(),
            });
        }
    }
    outbox::enqueue_all(conn, messages, now).await?;
    Ok(recorded)
}

async fn expire(
    ctx: &AppContext,
    conn: &impl ConnectionTrait,
    current: &reservation::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<reservation_event::Model>, ApiError> {
    let ending = Ending {
        action: Action::Expire,
        actor: EventActor::system(),
        reason: Some(reason.into()),
        data: json!({ "reason": reason }),
    };
    match end(ctx, conn, current, ending, now).await {
        Ok(event) => Ok(Some(event)),
        Err(ApiError::Conflict { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}
